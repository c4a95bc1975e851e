//! The error body every refusal answers: `{"error": {"code": "...", "message": "..."}}`.

use crate::ApiCode;
use serde::{Deserialize, Serialize};

/// The error body, as documented in the OpenAPI document.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What was refused.
    pub error: ErrorDetail,
}

/// Code and message.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code; clients match on it.
    pub code: ApiCode,
    /// What happened and what to do next.
    pub message: String,
}
