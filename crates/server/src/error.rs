//! The API's error: an HTTP status, a stable code and a message saying what to do.
//! Body: `{"error": {"code": "...", "message": "..."}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kakunin_core::{DomainError, ErrorCode};
use kakunin_evidence::EvidenceError;
use kakunin_store::StoreError;
use serde::Serialize;

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// The error body, as documented in the OpenAPI document.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// Code and message.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable code; clients match on it.
    pub code: String,
    /// What happened and what to do next.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        } else {
            tracing::info!(
                code = self.code,
                status = self.status.as_u16(),
                "request refused"
            );
        }
        (
            self.status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: self.code.to_owned(),
                    message: self.message,
                },
            }),
        )
            .into_response()
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        use ErrorCode::*;
        let status = match e.code {
            PinLocked => StatusCode::LOCKED,
            RegisterBeforeSwitch | AlreadyThatKind | AlreadyRegistered | InvalidTransition
            | NotRegistered => StatusCode::CONFLICT,
            ConsentMissing => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code.as_str(), e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => {
                let code = match what {
                    "card" => "unknown_card",
                    "visit" => "unknown_visit",
                    "institution" => "unknown_institution",
                    "declaration" => "unknown_declaration",
                    "staff member" => "unknown_staff",
                    _ => "unknown_person",
                };
                ApiError::not_found(code, format!("{what} {id} not found; check the identifier"))
            }
            StoreError::Domain(d) => d.into(),
            StoreError::CardChanged(_) | StoreError::VisitChanged(_) => {
                ApiError::conflict("concurrent_change", e.to_string())
            }
            other => {
                // The detail (sqlx's text, table names) goes to the log, not to clients.
                tracing::error!(error = %other, "storage failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the database cannot be reached right now; nothing was changed by this request. Try again in a moment; if it persists, tell the system administrator",
                )
            }
        }
    }
}

impl From<EvidenceError> for ApiError {
    fn from(e: EvidenceError) -> Self {
        let code = match &e {
            EvidenceError::CertificateMalformed(_) => "certificate_malformed",
            EvidenceError::ForeignIssuer => "certificate_foreign_issuer",
            EvidenceError::BadCertificateSignature => "certificate_forged",
            EvidenceError::Expired(_) => "certificate_expired",
            EvidenceError::NotYetValid(_) => "certificate_not_yet_valid",
            EvidenceError::Revoked(_) => "certificate_revoked",
            EvidenceError::BadCardSignature => "card_signature_invalid",
            EvidenceError::UnsupportedAlgorithm(_) => "certificate_unsupported",
            EvidenceError::AttestationMalformed(_) => "attestation_malformed",
            EvidenceError::BadAttestationSignature => "attestation_forged",
            EvidenceError::BadRequestSignature(_) => "bad_request_signature",
            EvidenceError::BadKey(_) => "bad_public_key",
            EvidenceError::Build(_) => "certificate_build_failed",
        };
        let status = match &e {
            EvidenceError::BadRequestSignature(_) => StatusCode::UNAUTHORIZED,
            EvidenceError::Build(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, code, e.to_string())
    }
}
