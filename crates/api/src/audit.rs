//! Reading and verifying the audit log.

use kakunin_core::audit::ChainBreak;
use serde::{Deserialize, Serialize};

/// Paging of the audit log.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Records with a sequence number above this (default 0).
    pub after: Option<i64>,
    /// At most this many (default 100, max 1000).
    pub limit: Option<i64>,
}

/// The outcome of verifying the whole chain.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// Records checked.
    pub records: i64,
    /// The last good sequence number.
    pub last_seq: i64,
    /// Hash of the last good record.
    pub head: String,
    /// Where the chain broke, if it did.
    pub broken: Option<ChainBreak>,
}
