//! Self-declaration forms (被保険者資格申立書) and their automatic re-check status.

use crate::{get, parse_ts, ts, Entity, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use kakunin_core::declaration::{DeclarationStatus, SelfDeclaration};
use serde::{Deserialize, Serialize};

/// A stored declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclarationRecord {
    /// The declaration's id.
    pub id: String,
    /// The institution where it was filled in.
    pub institution_code: String,
    /// The visit that fell back to it, if any.
    pub visit_id: Option<String>,
    /// The form as filled in.
    pub form: SelfDeclaration,
    /// Fields left empty.
    pub missing: Vec<String>,
    /// Where the re-check stands.
    pub status: DeclarationStatus,
    /// The insured person the re-check matched.
    pub matched_person_id: Option<i64>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When it was re-checked.
    pub rechecked_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT id, institution_code, visit_id, form, missing, status, matched_person_id, created_at, rechecked_at FROM declarations";

fn from_row(r: &sqlx::any::AnyRow) -> Result<DeclarationRecord> {
    let form: String = get(r, "form")?;
    let missing: String = get(r, "missing")?;
    let status: String = get(r, "status")?;
    let rechecked: Option<String> = get(r, "rechecked_at")?;
    Ok(DeclarationRecord {
        id: get(r, "id")?,
        institution_code: get(r, "institution_code")?,
        visit_id: get(r, "visit_id")?,
        form: serde_json::from_str(&form)
            .map_err(|e| StoreError::Corrupt(format!("declaration: {e}")))?,
        missing: missing
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        status: serde_json::from_value(serde_json::Value::String(status.clone()))
            .map_err(|_| StoreError::Corrupt(format!("status {status:?}")))?,
        matched_person_id: get(r, "matched_person_id")?,
        created_at: parse_ts(&get::<String>(r, "created_at")?)?,
        rechecked_at: rechecked.as_deref().map(parse_ts).transpose()?,
    })
}

impl Store {
    /// A declaration by id.
    pub async fn declaration(&self, id: &str) -> Result<DeclarationRecord> {
        let sql = format!("{SELECT} WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(Entity::Declaration(id.to_owned())))?;
        from_row(&row)
    }

    /// Declarations still waiting for the re-check.
    pub async fn pending_declarations(&self, limit: i64) -> Result<Vec<DeclarationRecord>> {
        let sql = format!("{SELECT} WHERE status = 'pending' ORDER BY created_at LIMIT $1");
        let rows = sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }
}

impl crate::Tx {
    /// Stores a declaration as far as it was filled in.
    pub async fn insert_declaration(&mut self, d: &DeclarationRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO declarations (id, institution_code, visit_id, form, missing, status, matched_person_id, created_at, rechecked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&d.id)
        .bind(&d.institution_code)
        .bind(&d.visit_id)
        .bind(serde_json::to_string(&d.form).expect("form serialises"))
        .bind(d.missing.join(","))
        .bind(d.status.as_str())
        .bind(d.matched_person_id)
        .bind(ts(d.created_at))
        .bind(d.rechecked_at.map(ts))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Records the re-check outcome.
    pub async fn set_declaration_status(
        &mut self,
        id: &str,
        status: DeclarationStatus,
        person: Option<i64>,
    ) -> Result<()> {
        sqlx::query("UPDATE declarations SET status = $1, matched_person_id = $2, rechecked_at = $3 WHERE id = $4")
            .bind(status.as_str())
            .bind(person)
            .bind(ts(crate::now()))
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
