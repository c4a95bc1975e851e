//! Card readers: enrolment, status, and the certificate revocation list.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a reader is in its enrolment: asked for by a clinic (pending), approved (active),
/// suspended or revoked. Only an active reader's signature is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReaderStatus {
    /// Requested by clinic staff; waits for an operator's approval.
    Pending,
    /// Signs requests.
    Active,
    /// Refused until an operator resumes it.
    Suspended,
    /// Refused for good.
    Revoked,
}

impl ReaderStatus {
    /// Every status.
    pub const ALL: [ReaderStatus; 4] = [
        ReaderStatus::Pending,
        ReaderStatus::Active,
        ReaderStatus::Suspended,
        ReaderStatus::Revoked,
    ];

    /// Code name, as sent and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ReaderStatus::Pending => "pending",
            ReaderStatus::Active => "active",
            ReaderStatus::Suspended => "suspended",
            ReaderStatus::Revoked => "revoked",
        }
    }

    /// The status named `s`.
    pub fn parse(s: &str) -> Option<ReaderStatus> {
        ReaderStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Reader enrolment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterReader {
    /// Reader id chosen by the reader (e.g. its serial number).
    pub id: String,
    /// Ed25519 public key, base64 of 32 bytes.
    pub public_key: String,
    /// The operator names the institution; clinic staff ask for readers of their own.
    pub institution_code: Option<String>,
}

/// A reader and where it is in its enrolment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReaderView {
    /// The reader's id.
    pub id: String,
    /// Its institution.
    pub institution_code: String,
    /// `pending` until the operator approves it; only `active` readers may sign requests.
    pub status: ReaderStatus,
}

/// The listing's filter.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct ReaderQuery {
    /// Only this institution's readers (the operator; others see their own).
    pub institution: Option<String>,
}

/// A change of a reader's status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReaderStatusChange {
    /// `approve` (pending → active), `suspend` (→ suspended), `resume` (suspended → active) or
    /// `revoke` (for good).
    pub action: ReaderAction,
    /// Why (kept in the audit record).
    #[serde(default)]
    pub reason: String,
}

/// What to do with a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReaderAction {
    /// Pending → active.
    Approve,
    /// → suspended.
    Suspend,
    /// Suspended → active.
    Resume,
    /// For good.
    Revoke,
}

/// Revocation request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Revoke {
    /// Certificate serial, lower-case hex.
    pub serial: String,
    /// Why (kept in the revocation list and the audit record).
    pub reason: String,
}
