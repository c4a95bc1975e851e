//! Staff: who they are, their sign-in sessions, accounts and API tokens.

use chrono::{DateTime, Utc};
use kakunin_core::roles::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A staff member as authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Staff {
    /// Staff id (sign-in name).
    pub id: String,
    /// Their institution's code.
    pub institution_code: String,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: Role,
}

/// An API token of a machine client, as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiToken {
    /// The token's id (for revoking it).
    pub id: String,
    /// Whose it is.
    pub staff_id: String,
    /// The role it acts with (the staff member's when issued).
    pub role: Role,
    /// The institution it acts for.
    pub institution_code: String,
    /// What it is for.
    pub label: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Sign-in request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignIn {
    /// Staff id.
    pub staff_id: String,
    /// The staff member's password (stored as argon2id; never usable as a bearer token).
    pub password: String,
}

/// A started session.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// Bearer token for the session.
    pub token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub staff: Staff,
}

/// A new staff account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewStaff {
    /// Staff id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Institution.
    pub institution_code: String,
    /// The first password (12 characters or more); the staff member changes it after.
    pub password: String,
}

/// A password change: the staff member gives their current password; the operator resets
/// without it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordChange {
    /// The current password (not needed for the operator's reset of someone else's).
    #[serde(default)]
    pub current_password: Option<String>,
    /// The new password.
    pub new_password: String,
}

/// A new API token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewToken {
    /// What it is for (e.g. `terminal reception-pc-1`).
    pub label: String,
    /// Days until it expires (1–3650).
    #[serde(default = "year")]
    pub days: i64,
}

fn year() -> i64 {
    365
}

/// An issued token: shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedToken {
    /// The token (shown once; only its hash is stored).
    pub token: String,
    /// Its record.
    pub record: ApiToken,
}
