//! Institutions, staff (with their bearer tokens, stored hashed), registered readers, and the
//! certificate revocation list.

use crate::{get, ts, Result, Store, StoreError};
use kakunin_core::roles::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A clinic, pharmacy, municipality or the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Institution {
    pub code: String,
    pub name: String,
    /// clinic | pharmacy | municipality | operator.
    pub kind: String,
}

/// A staff member as authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Staff {
    pub id: String,
    pub institution_code: String,
    pub name: String,
    pub role: Role,
}

/// A registered card reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reader {
    pub id: String,
    pub institution_code: String,
    /// Ed25519 public key, base64.
    pub public_key: String,
}

/// SHA-256 hex of a bearer token: only this is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Adds an institution (code validated by the caller).
    pub async fn insert_institution(&self, i: &Institution) -> Result<()> {
        sqlx::query("INSERT INTO institutions (code, name, kind) VALUES ($1, $2, $3)")
            .bind(&i.code)
            .bind(&i.name)
            .bind(&i.kind)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An institution by code.
    pub async fn institution(&self, code: &str) -> Result<Institution> {
        let row = sqlx::query("SELECT code, name, kind FROM institutions WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "institution",
                id: code.to_owned(),
            })?;
        Ok(Institution {
            code: get(&row, "code")?,
            name: get(&row, "name")?,
            kind: get(&row, "kind")?,
        })
    }

    /// Adds a staff member with bearer `token`.
    pub async fn insert_staff(&self, s: &Staff, token: &str) -> Result<()> {
        sqlx::query("INSERT INTO staff (id, institution_code, name, role, token_hash) VALUES ($1, $2, $3, $4, $5)")
            .bind(&s.id)
            .bind(&s.institution_code)
            .bind(&s.name)
            .bind(s.role.as_str())
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The staff member holding `token`, if any.
    pub async fn staff_by_token(&self, token: &str) -> Result<Option<Staff>> {
        let row =
            sqlx::query("SELECT id, institution_code, name, role FROM staff WHERE token_hash = $1")
                .bind(token_hash(token))
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| staff_from_row(&r)).transpose()
    }

    /// A staff member by id.
    pub async fn staff(&self, id: &str) -> Result<Staff> {
        let row = sqlx::query("SELECT id, institution_code, name, role FROM staff WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "staff member",
                id: id.to_owned(),
            })?;
        staff_from_row(&row)
    }

    /// The staff member `id` if `credential` is theirs (the screens' sign-in); `None` for an
    /// unknown id or a wrong credential alike, so the answer does not reveal which.
    pub async fn staff_by_credentials(&self, id: &str, credential: &str) -> Result<Option<Staff>> {
        let row = sqlx::query(
            "SELECT id, institution_code, name, role FROM staff WHERE id = $1 AND token_hash = $2",
        )
        .bind(id)
        .bind(token_hash(credential))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| staff_from_row(&r)).transpose()
    }

    /// Stores a sign-in session for `staff_id` ending at `expires_at`; removes sessions that have
    /// already ended, so the table stays small.
    pub async fn insert_session(
        &self,
        staff_id: &str,
        token: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let now = crate::now();
        sqlx::query("DELETE FROM staff_sessions WHERE expires_at < $1")
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(token))
            .bind(staff_id)
            .bind(ts(now))
            .bind(ts(expires_at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The staff member of session `token` and when the session ends (possibly already).
    pub async fn session(
        &self,
        token: &str,
    ) -> Result<Option<(Staff, chrono::DateTime<chrono::Utc>)>> {
        let row = sqlx::query("SELECT s.id, s.institution_code, s.name, s.role, x.expires_at FROM staff_sessions x JOIN staff s ON s.id = x.staff_id WHERE x.token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let ends: String = get(&r, "expires_at")?;
            Ok((staff_from_row(&r)?, crate::parse_ts(&ends)?))
        })
        .transpose()
    }

    /// Ends session `token` (sign-out).
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Registers a reader's public key.
    pub async fn insert_reader(&self, r: &Reader, registered_by: &str) -> Result<()> {
        sqlx::query("INSERT INTO readers (id, institution_code, public_key, registered_at, registered_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(&r.id)
            .bind(&r.institution_code)
            .bind(&r.public_key)
            .bind(ts(crate::now()))
            .bind(registered_by)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A registered reader, if any.
    pub async fn reader(&self, id: &str) -> Result<Option<Reader>> {
        let row = sqlx::query("SELECT id, institution_code, public_key FROM readers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Reader {
                id: get(&r, "id")?,
                institution_code: get(&r, "institution_code")?,
                public_key: get(&r, "public_key")?,
            })
        })
        .transpose()
    }

    /// Adds `serial` (hex) to the revocation list.
    pub async fn revoke_certificate(&self, serial: &str, reason: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO revoked_certificates (serial, revoked_at, reason) VALUES ($1, $2, $3)",
        )
        .bind(serial)
        .bind(ts(crate::now()))
        .bind(reason)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether `serial` is revoked.
    pub async fn is_revoked(&self, serial: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM revoked_certificates WHERE serial = $1")
                .bind(serial)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }
}

fn staff_from_row(r: &sqlx::any::AnyRow) -> Result<Staff> {
    let role: String = get(r, "role")?;
    Ok(Staff {
        id: get(r, "id")?,
        institution_code: get(r, "institution_code")?,
        name: get(r, "name")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
    })
}
