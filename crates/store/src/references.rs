//! 照会番号 per institution and patient, the batches received through the terminal's bulk
//! kinds, and the latest consent of a patient at an institution.

use crate::{get, parse_ts, ts, Entity, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use kakunin_core::consent::ConsentSelection;
use kakunin_core::reference::{Holder, ReferenceNumber};

/// A stored batch.
#[derive(Debug, Clone)]
pub struct BatchRecord {
    /// 受付番号.
    pub reception_number: String,
    /// What kind of batch (`reference_numbers`).
    pub kind: String,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// Its result (JSON, as the kind defines it).
    pub result: serde_json::Value,
}

/// A patient's latest consent at an institution.
#[derive(Debug, Clone)]
pub struct LatestConsent {
    /// What was selected.
    pub selection: ConsentSelection,
    /// When.
    pub at: DateTime<Utc>,
    /// In which visit.
    pub visit_id: String,
}

impl Store {
    /// Institution `code`'s 照会番号 for person `person_id`, if it registered one.
    pub async fn reference_number(&self, code: &str, person_id: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT reference_number FROM reference_numbers WHERE institution_code = $1 AND person_id = $2")
            .bind(code)
            .bind(person_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "reference_number")).transpose()
    }

    /// Batch `reception_number` of institution `code` (another institution's is not found).
    pub async fn batch(&self, code: &str, reception_number: &str) -> Result<BatchRecord> {
        let row = sqlx::query("SELECT reception_number, kind, received_at, result FROM batches WHERE institution_code = $1 AND reception_number = $2")
            .bind(code)
            .bind(reception_number)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(Entity::Batch(reception_number.to_owned())))?;
        Ok(BatchRecord {
            reception_number: get(&row, "reception_number")?,
            kind: get(&row, "kind")?,
            received_at: parse_ts(&get::<String>(&row, "received_at")?)?,
            result: serde_json::from_str(&get::<String>(&row, "result")?)
                .map_err(|e| StoreError::Corrupt(format!("batch result: {e}")))?,
        })
    }

    /// Person `person_id`'s latest consent at institution `code`, if any.
    pub async fn latest_consent(
        &self,
        code: &str,
        person_id: i64,
    ) -> Result<Option<LatestConsent>> {
        let row = sqlx::query(
            "SELECT visit_id, medication, checkup, clinical, limit_amount, at FROM consents \
             WHERE person_id = $1 AND institution_code = $2 ORDER BY at DESC LIMIT 1",
        )
        .bind(person_id)
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(LatestConsent {
                selection: crate::visits::selection(&r)?,
                at: parse_ts(&get::<String>(&r, "at")?)?,
                visit_id: get(&r, "visit_id")?,
            })
        })
        .transpose()
    }
}

impl crate::Tx {
    /// Who holds `number` at institution `code`, as far as registering it for `person_id` goes
    /// (read inside the transaction, which holds the audit head: no other registration runs
    /// between this and the write).
    pub async fn reference_holder(
        &mut self,
        code: &str,
        number: &ReferenceNumber,
        person_id: i64,
    ) -> Result<Holder> {
        let row = sqlx::query("SELECT person_id FROM reference_numbers WHERE institution_code = $1 AND reference_number = $2")
            .bind(code)
            .bind(number.as_str())
            .fetch_optional(self.conn())
            .await?;
        Ok(match row {
            None => Holder::Nobody,
            Some(r) if get::<i64>(&r, "person_id")? == person_id => Holder::ThisPatient,
            Some(_) => Holder::AnotherPatient,
        })
    }

    /// Registers `number` as institution `code`'s 照会番号 for `person_id`, replacing the one
    /// it had (the domain's [`kakunin_core::reference::may_register`] is asked first).
    pub async fn register_reference_number(
        &mut self,
        code: &str,
        person_id: i64,
        number: &ReferenceNumber,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO reference_numbers (institution_code, person_id, reference_number, registered_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (institution_code, person_id) DO UPDATE SET reference_number = excluded.reference_number, registered_at = excluded.registered_at",
        )
        .bind(code)
        .bind(person_id)
        .bind(number.as_str())
        .bind(ts(crate::now()))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Stores a received batch and its result.
    pub async fn insert_batch(
        &mut self,
        code: &str,
        reception_number: &str,
        kind: &str,
        result: &serde_json::Value,
    ) -> Result<()> {
        sqlx::query("INSERT INTO batches (reception_number, institution_code, kind, received_at, result) VALUES ($1, $2, $3, $4, $5)")
            .bind(reception_number)
            .bind(code)
            .bind(kind)
            .bind(ts(crate::now()))
            .bind(result.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
