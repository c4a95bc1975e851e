//! Institutions, staff (passwords as argon2id, API tokens stored as SHA-256 of random bytes),
//! registered readers with their enrolment status, reader request ids seen (replay), and the
//! certificate revocation list.

use crate::{get, ts, Entity, Result, Store, StoreError};
use kakunin_core::roles::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A clinic, pharmacy, municipality or the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Institution {
    /// 医療機関コード, municipality code, or `operator`.
    pub code: String,
    /// Its name.
    pub name: String,
    /// clinic | pharmacy | municipality | operator.
    pub kind: String,
    /// Issues electronic prescriptions (電子処方箋): its readers ask electronic or paper.
    pub issues_e_prescriptions: bool,
}

pub use kakunin_api::staff::{ApiToken, Staff};

/// A registered card reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Reader {
    /// The reader's id.
    pub id: String,
    /// The institution it serves.
    pub institution_code: String,
    /// Ed25519 public key, base64.
    pub public_key: String,
    /// Whether the reader may sign requests.
    #[serde(default = "active")]
    pub status: ReaderStatus,
}

fn active() -> ReaderStatus {
    ReaderStatus::Active
}

pub use kakunin_api::readers::ReaderStatus;

fn parse_reader_status(s: &str) -> Result<ReaderStatus> {
    ReaderStatus::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown reader status {s:?}")))
}

/// What a staff member's stored password was checked against.
pub enum PasswordCheck {
    /// Right password.
    Right(Staff),
    /// Unknown id or wrong password (not said which).
    Wrong,
}

/// SHA-256 hex of a bearer token: only this is stored. Tokens are 256 random bits, so a fast
/// hash suffices for them; passwords get argon2id ([`hash_password`]).
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// argon2id (the crate's defaults: 19 MiB, 2 passes) with a random per-user salt, as a PHC
/// string.
pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

fn password_matches(phc: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Shortest staff password accepted.
pub const MIN_PASSWORD: usize = 12;

/// Whether `password` may be set: 12 to 1024 characters (the length is what resists guessing;
/// no composition rules).
pub fn password_acceptable(password: &str) -> std::result::Result<(), String> {
    let n = password.chars().count();
    if (MIN_PASSWORD..=1024).contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "a password has {MIN_PASSWORD} to 1024 characters; choose a longer one"
        ))
    }
}

/// A new random token: 256 bits, hex, with a prefix that says what it is (so a leaked one is
/// recognisable in logs and scanners).
pub fn new_token(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

impl Store {
    /// Adds an institution (code validated by the caller).
    pub async fn insert_institution(&self, i: &Institution) -> Result<()> {
        sqlx::query("INSERT INTO institutions (code, name, kind, issues_e_prescriptions) VALUES ($1, $2, $3, $4)")
            .bind(&i.code)
            .bind(&i.name)
            .bind(&i.kind)
            .bind(i64::from(i.issues_e_prescriptions))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// An institution by code.
    pub async fn institution(&self, code: &str) -> Result<Institution> {
        let row = sqlx::query(
            "SELECT code, name, kind, issues_e_prescriptions FROM institutions WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(Entity::Institution(code.to_owned())))?;
        Ok(Institution {
            code: get(&row, "code")?,
            name: get(&row, "name")?,
            kind: get(&row, "kind")?,
            issues_e_prescriptions: get::<i64>(&row, "issues_e_prescriptions")? != 0,
        })
    }

    /// The staff member holding API token `token`, if it is known, unrevoked and unexpired, and
    /// its scope (role, institution) is still the staff member's.
    pub async fn staff_by_token(&self, token: &str) -> Result<Option<Staff>> {
        let row = sqlx::query(
            "SELECT s.id, s.institution_code, s.name, s.role FROM api_tokens t JOIN staff s ON s.id = t.staff_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
             AND t.role = s.role AND t.institution_code = s.institution_code",
        )
        .bind(token_hash(token))
        .bind(ts(crate::now()))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| staff_from_row(&r)).transpose()
    }

    /// Whether an API token with this value was ever issued (revoked or expired included).
    pub async fn api_token_exists(&self, token: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM api_tokens WHERE token_hash = $1")
                .bind(token_hash(token))
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// API tokens of `staff_id`, or of everyone (`None`), newest first.
    pub async fn api_tokens(&self, staff_id: Option<&str>) -> Result<Vec<ApiToken>> {
        let sql = "SELECT id, staff_id, role, institution_code, label, created_at, expires_at, revoked_at FROM api_tokens \
                   WHERE ($1 = '' OR staff_id = $1) ORDER BY created_at DESC";
        let rows = sqlx::query(sql)
            .bind(staff_id.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let role: String = get(r, "role")?;
                let revoked: Option<String> = get(r, "revoked_at")?;
                Ok(ApiToken {
                    id: get(r, "id")?,
                    staff_id: get(r, "staff_id")?,
                    role: Role::parse(&role)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?,
                    institution_code: get(r, "institution_code")?,
                    label: get(r, "label")?,
                    created_at: crate::parse_ts(&get::<String>(r, "created_at")?)?,
                    expires_at: crate::parse_ts(&get::<String>(r, "expires_at")?)?,
                    revoked_at: revoked.as_deref().map(crate::parse_ts).transpose()?,
                })
            })
            .collect()
    }

    /// The staff member who holds unrevoked API token `id`, if any.
    pub async fn api_token_owner(&self, id: &str) -> Result<Option<String>> {
        sqlx::query("SELECT staff_id FROM api_tokens WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| get(&r, "staff_id"))
            .transpose()
    }

    /// A staff member by id.
    pub async fn staff(&self, id: &str) -> Result<Staff> {
        let row = sqlx::query("SELECT id, institution_code, name, role FROM staff WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(Entity::StaffMember(id.to_owned())))?;
        staff_from_row(&row)
    }

    /// Checks `password` for staff member `id` (the screens' sign-in): [`PasswordCheck::Wrong`]
    /// for an unknown id or a wrong password alike, and an unknown id costs an argon2 check
    /// too, so neither the answer nor its time reveals which. A row from before argon2 (only
    /// the old unsalted SHA-256) is checked once against it and upgraded.
    pub async fn check_password(&self, id: &str, password: &str) -> Result<PasswordCheck> {
        let row = sqlx::query(
            "SELECT id, institution_code, name, role, token_hash, password_hash FROM staff WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            password_matches(DUMMY_PHC, password);
            return Ok(PasswordCheck::Wrong);
        };
        let phc: Option<String> = get(&row, "password_hash")?;
        let right = match phc {
            Some(phc) => password_matches(&phc, password),
            None => {
                let legacy: String = get(&row, "token_hash")?;
                let right = legacy == token_hash(password);
                if right {
                    // A storage-format upgrade, not a staff action: not audited.
                    sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
                        .bind(hash_password(password))
                        .bind(id)
                        .execute(&self.pool)
                        .await?;
                }
                right
            }
        };
        Ok(if right {
            PasswordCheck::Right(staff_from_row(&row)?)
        } else {
            PasswordCheck::Wrong
        })
    }

    /// The stored argon2id PHC string of `id` (for audits of the storage itself).
    pub async fn password_hash(&self, id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT password_hash FROM staff WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| get(&r, "password_hash")).transpose()?.flatten())
    }

    /// All staff of `institution` (or everyone), by id.
    pub async fn staff_list(&self, institution: Option<&str>) -> Result<Vec<Staff>> {
        let rows = sqlx::query(
            "SELECT id, institution_code, name, role FROM staff WHERE ($1 = '' OR institution_code = $1) ORDER BY id",
        )
        .bind(institution.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_from_row).collect()
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

    /// A registered reader, if any.
    pub async fn reader(&self, id: &str) -> Result<Option<Reader>> {
        let row = sqlx::query(
            "SELECT id, institution_code, public_key, status FROM readers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(reader_from_row).transpose()
    }

    /// Readers of `institution` (or all), by id.
    pub async fn readers(&self, institution: Option<&str>) -> Result<Vec<Reader>> {
        let rows = sqlx::query(
            "SELECT id, institution_code, public_key, status FROM readers WHERE ($1 = '' OR institution_code = $1) ORDER BY id",
        )
        .bind(institution.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(reader_from_row).collect()
    }

    /// Records that reader `reader_id` used `request_id`; false when it already had, within
    /// the window (a replay). Ids older than `window` are forgotten now and then, since their
    /// timestamps are refused anyway.
    pub async fn first_use_of_request_id(
        &self,
        reader_id: &str,
        request_id: &str,
        window: chrono::Duration,
    ) -> Result<bool> {
        let now = crate::now();
        if rand::random::<u8>() == 0 {
            sqlx::query("DELETE FROM reader_requests WHERE seen_at < $1")
                .bind(ts(now - window))
                .execute(&self.pool)
                .await?;
        }
        let sql = match self.engine {
            crate::Engine::Sqlite => "INSERT OR IGNORE INTO reader_requests (reader_id, request_id, seen_at) VALUES ($1, $2, $3)",
            crate::Engine::Postgres => "INSERT INTO reader_requests (reader_id, request_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        };
        let done = sqlx::query(sql)
            .bind(reader_id)
            .bind(request_id)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
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

/// A valid argon2id hash of nothing anyone knows: an unknown staff id is checked against it, so
/// it takes as long as a known one.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0r2LQ3E7o2Nqk+Bv7Q6pnCNj6HS1m5fWbq4u3nDFbBc";

fn reader_from_row(r: &sqlx::any::AnyRow) -> Result<Reader> {
    Ok(Reader {
        id: get(r, "id")?,
        institution_code: get(r, "institution_code")?,
        public_key: get(r, "public_key")?,
        status: parse_reader_status(&get::<String>(r, "status")?)?,
    })
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

impl crate::Tx {
    /// Adds a staff member who signs in with `password` (stored as argon2id).
    pub async fn insert_staff(&mut self, s: &Staff, password: &str) -> Result<()> {
        sqlx::query("INSERT INTO staff (id, institution_code, name, role, token_hash, password_hash) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&s.id)
            .bind(&s.institution_code)
            .bind(&s.name)
            .bind(s.role.as_str())
            .bind(token_hash(&new_token("unused-")))
            .bind(hash_password(password))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Sets a staff member's password (argon2id, new salt).
    pub async fn set_password(&mut self, staff_id: &str, password: &str) -> Result<()> {
        let done = sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
            .bind(hash_password(password))
            .bind(staff_id)
            .execute(self.conn())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(Entity::StaffMember(
                staff_id.to_owned(),
            )));
        }
        Ok(())
    }

    /// Issues an API token for `staff_id` with its present role and institution, valid until
    /// `expires_at`; answers the token (shown once) and its record.
    pub async fn issue_api_token(
        &mut self,
        staff_id: &str,
        label: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(String, ApiToken)> {
        self.issue_api_token_value(staff_id, label, expires_at, &new_token("kkt_"))
            .await
    }

    /// Like [`Store::issue_api_token`] with a given token value (the demo database's
    /// documented tokens).
    pub async fn issue_api_token_value(
        &mut self,
        staff_id: &str,
        label: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
        token: &str,
    ) -> Result<(String, ApiToken)> {
        let row = sqlx::query("SELECT id, institution_code, name, role FROM staff WHERE id = $1")
            .bind(staff_id)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| StoreError::NotFound(Entity::StaffMember(staff_id.to_owned())))?;
        let staff = staff_from_row(&row)?;
        let record = ApiToken {
            id: new_token("tok-")[..16].to_owned(),
            staff_id: staff.id.clone(),
            role: staff.role,
            institution_code: staff.institution_code.clone(),
            label: label.to_owned(),
            created_at: crate::now(),
            expires_at,
            revoked_at: None,
        };
        sqlx::query("INSERT INTO api_tokens (id, token_hash, staff_id, role, institution_code, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&record.id)
            .bind(token_hash(token))
            .bind(&record.staff_id)
            .bind(record.role.as_str())
            .bind(&record.institution_code)
            .bind(&record.label)
            .bind(ts(record.created_at))
            .bind(ts(record.expires_at))
            .execute(self.conn())
            .await?;
        Ok((token.to_owned(), record))
    }

    /// Revokes API token `id`; answers its staff member's id, or `None` when no unrevoked
    /// token has that id.
    pub async fn revoke_api_token(&mut self, id: &str) -> Result<Option<String>> {
        let staff: Option<String> =
            sqlx::query("SELECT staff_id FROM api_tokens WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .fetch_optional(self.conn())
                .await?
                .map(|r| get(&r, "staff_id"))
                .transpose()?;
        if staff.is_some() {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
                .bind(ts(crate::now()))
                .bind(id)
                .execute(self.conn())
                .await?;
        }
        Ok(staff)
    }

    /// Stores a sign-in session for `staff_id` ending at `expires_at`; removes sessions that have
    /// already ended, so the table stays small.
    pub async fn insert_session(
        &mut self,
        staff_id: &str,
        token: &str,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        let now = crate::now();
        sqlx::query("DELETE FROM staff_sessions WHERE expires_at < $1")
            .bind(ts(now))
            .execute(self.conn())
            .await?;
        sqlx::query("INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(token))
            .bind(staff_id)
            .bind(ts(now))
            .bind(ts(expires_at))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Ends session `token` (sign-out).
    pub async fn delete_session(&mut self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Registers a reader's public key, in `r.status` (pending when a clinic asked for it,
    /// active when an operator enrolled it).
    pub async fn insert_reader(&mut self, r: &Reader, registered_by: &str) -> Result<()> {
        let now = ts(crate::now());
        sqlx::query("INSERT INTO readers (id, institution_code, public_key, registered_at, registered_by, status, status_changed_at, status_changed_by) VALUES ($1, $2, $3, $4, $5, $6, $4, $5)")
            .bind(&r.id)
            .bind(&r.institution_code)
            .bind(&r.public_key)
            .bind(now)
            .bind(registered_by)
            .bind(r.status.as_str())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Moves reader `id` from one of `from` to `to`; answers false when it is in none of them.
    pub async fn set_reader_status(
        &mut self,
        id: &str,
        from: &[ReaderStatus],
        to: ReaderStatus,
        by: &str,
    ) -> Result<bool> {
        let row = sqlx::query(
            "SELECT id, institution_code, public_key, status FROM readers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        let Some(r) = row.as_ref().map(reader_from_row).transpose()? else {
            return Err(StoreError::NotFound(Entity::Reader(id.to_owned())));
        };
        if !from.contains(&r.status) {
            return Ok(false);
        }
        let done = sqlx::query("UPDATE readers SET status = $1, status_changed_at = $2, status_changed_by = $3 WHERE id = $4 AND status = $5")
            .bind(to.as_str())
            .bind(ts(crate::now()))
            .bind(by)
            .bind(id)
            .bind(r.status.as_str())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds `serial` (hex) to the revocation list.
    pub async fn revoke_certificate(&mut self, serial: &str, reason: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO revoked_certificates (serial, revoked_at, reason) VALUES ($1, $2, $3)",
        )
        .bind(serial)
        .bind(ts(crate::now()))
        .bind(reason)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
