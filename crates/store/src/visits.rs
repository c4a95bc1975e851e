//! Visits (受付), their single-use nonces, and consents.

use crate::{get, parse_ts, ts, Entity, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use kakunin_core::consent::ConsentSelection;
use kakunin_core::visit::Visit;
use serde::{Deserialize, Serialize};

/// A stored visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VisitRecord {
    /// The visit's id.
    pub id: String,
    /// The institution where the card was placed.
    pub institution_code: String,
    /// The reader that started it.
    pub reader_id: Option<String>,
    /// The card.
    pub card_id: Option<String>,
    /// The card's holder.
    pub person_id: Option<i64>,
    /// The domain's visit.
    pub visit: Visit,
    /// When the card was placed.
    pub started_at: DateTime<Utc>,
    /// When it last changed (the optimistic check's version).
    pub updated_at: DateTime<Utc>,
}

/// A stored consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsentRecord {
    /// The visit it was given in.
    pub visit_id: String,
    /// The institution it was given to.
    pub institution_code: String,
    /// The patient.
    pub person_id: i64,
    /// What may be shown.
    pub selection: ConsentSelection,
    /// A helper operated the screen at the patient's request.
    pub assisted: bool,
    /// When.
    pub at: DateTime<Utc>,
}

const VISIT_SELECT: &str = "SELECT id, institution_code, reader_id, card_id, person_id, visit, started_at, updated_at FROM visits";

fn visit_from_row(r: &sqlx::any::AnyRow) -> Result<VisitRecord> {
    let json: String = get(r, "visit")?;
    Ok(VisitRecord {
        id: get(r, "id")?,
        institution_code: get(r, "institution_code")?,
        reader_id: get(r, "reader_id")?,
        card_id: get(r, "card_id")?,
        person_id: get(r, "person_id")?,
        visit: serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("visit: {e}")))?,
        started_at: parse_ts(&get::<String>(r, "started_at")?)?,
        updated_at: parse_ts(&get::<String>(r, "updated_at")?)?,
    })
}

impl Store {
    /// A visit by id.
    pub async fn visit(&self, id: &str) -> Result<VisitRecord> {
        let sql = format!("{VISIT_SELECT} WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(Entity::Visit(id.to_owned())))?;
        visit_from_row(&row)
    }

    /// The latest visits of an institution (the reception queue), newest first.
    pub async fn visits_of_institution(&self, code: &str, limit: i64) -> Result<Vec<VisitRecord>> {
        let sql =
            format!("{VISIT_SELECT} WHERE institution_code = $1 ORDER BY started_at DESC LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(code)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(visit_from_row).collect()
    }

    /// The visits of an institution started at or after `since`, oldest first (a reader of
    /// completed visits keeps its place with it).
    pub async fn visits_of_institution_since(
        &self,
        code: &str,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<VisitRecord>> {
        let sql = format!(
            "{VISIT_SELECT} WHERE institution_code = $1 AND started_at >= $2 ORDER BY started_at, id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(code)
            .bind(ts(since))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(visit_from_row).collect()
    }

    /// Issues a single-use nonce for `reader` in `visit`.
    pub async fn issue_nonce(&self, nonce: &str, reader: &str, visit: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO nonces (nonce, reader_id, visit_id, issued_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(nonce)
        .bind(reader)
        .bind(visit)
        .bind(ts(crate::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks a nonce used. `false` when it is unknown, belongs to another reader or visit, is
    /// older than `max_age`, or was used already (a replay).
    pub async fn consume_nonce(
        &self,
        nonce: &str,
        reader: &str,
        visit: &str,
        max_age: chrono::Duration,
    ) -> Result<bool> {
        let oldest = ts(crate::now() - max_age);
        let done = sqlx::query("UPDATE nonces SET used_at = $1 WHERE nonce = $2 AND reader_id = $3 AND visit_id = $4 AND used_at IS NULL AND issued_at >= $5")
            .bind(ts(crate::now()))
            .bind(nonce)
            .bind(reader)
            .bind(visit)
            .bind(oldest)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The consent given in a visit, if any.
    pub async fn consent_of_visit(&self, visit_id: &str) -> Result<Option<ConsentRecord>> {
        let row = sqlx::query(
            "SELECT visit_id, institution_code, person_id, medication, checkup, clinical, limit_amount, assisted, at FROM consents WHERE visit_id = $1 ORDER BY at DESC LIMIT 1",
        )
        .bind(visit_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(ConsentRecord {
                visit_id: get(&r, "visit_id")?,
                institution_code: get(&r, "institution_code")?,
                person_id: get(&r, "person_id")?,
                selection: selection(&r)?,
                assisted: get::<i64>(&r, "assisted")? != 0,
                at: parse_ts(&get::<String>(&r, "at")?)?,
            })
        })
        .transpose()
    }
}

/// The consent selection of a `consents` row (its four 0/1 columns).
pub(crate) fn selection(r: &sqlx::any::AnyRow) -> Result<ConsentSelection> {
    let flag = |c: &str| get::<i64>(r, c).map(|v| v != 0);
    Ok(ConsentSelection {
        medication: flag("medication")?,
        checkup: flag("checkup")?,
        clinical: flag("clinical")?,
        limit_amount: flag("limit_amount")?,
    })
}

impl crate::Tx {
    /// Stores a new visit.
    pub async fn insert_visit(&mut self, v: &VisitRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO visits (id, institution_code, reader_id, card_id, person_id, state, visit, started_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&v.id)
        .bind(&v.institution_code)
        .bind(&v.reader_id)
        .bind(&v.card_id)
        .bind(v.person_id)
        .bind(v.visit.state.as_str())
        .bind(serde_json::to_string(&v.visit).expect("visit serialises"))
        .bind(ts(v.started_at))
        .bind(ts(v.updated_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Writes back a visit changed by the domain. Refused with [`StoreError::VisitChanged`] if
    /// another request changed it since `before` was loaded.
    pub async fn save_visit(
        &mut self,
        before: &VisitRecord,
        after: &Visit,
    ) -> Result<DateTime<Utc>> {
        let now = crate::now().max(before.updated_at + chrono::Duration::microseconds(1));
        let done = sqlx::query("UPDATE visits SET state = $1, visit = $2, updated_at = $3 WHERE id = $4 AND updated_at = $5")
            .bind(after.state.as_str())
            .bind(serde_json::to_string(after).expect("visit serialises"))
            .bind(ts(now))
            .bind(&before.id)
            .bind(ts(before.updated_at))
            .execute(self.conn())
            .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::VisitChanged(before.id.clone()));
        }
        Ok(now)
    }

    /// Stores a consent.
    pub async fn insert_consent(&mut self, c: &ConsentRecord) -> Result<()> {
        let s = &c.selection;
        sqlx::query(
            "INSERT INTO consents (id, visit_id, institution_code, person_id, medication, checkup, clinical, limit_amount, assisted, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(crate::new_id("c"))
        .bind(&c.visit_id)
        .bind(&c.institution_code)
        .bind(c.person_id)
        .bind(s.medication as i64)
        .bind(s.checkup as i64)
        .bind(s.clinical as i64)
        .bind(s.limit_amount as i64)
        .bind(c.assisted as i64)
        .bind(ts(c.at))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
