//! The API's error: an HTTP status, a stable code and a message saying what to do.
//! Body: `{"error": {"code": "...", "message": "..."}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use kakunin_api::ApiCode;
use kakunin_core::{DomainError, ErrorCode};
use kakunin_evidence::EvidenceError;
use kakunin_store::{Entity, StoreError};

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: ApiCode,
    /// What happened and what to do (for the client; details go to the log).
    pub message: String,
}

pub use kakunin_api::{ErrorBody, ErrorDetail};

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: ApiCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ApiCode::Forbidden, message)
    }
    /// 404 with `code`.
    pub fn not_found(code: ApiCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 422 with `code`.
    pub fn unprocessable(code: ApiCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// 409 with `code`.
    pub fn conflict(code: ApiCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// 401 with `code`.
    pub fn unauthorized(code: ApiCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code.as_str(), message = %self.message, "request failed");
        } else {
            tracing::info!(
                code = self.code.as_str(),
                status = self.status.as_u16(),
                "request refused"
            );
        }
        (
            self.status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: self.code,
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
            | NotRegistered | ReferenceNumberTaken => StatusCode::CONFLICT,
            ConsentMissing => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, e.code.into(), e.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(entity) => {
                let code = match &entity {
                    Entity::Person(_) => ApiCode::UnknownPerson,
                    Entity::Card(_) => ApiCode::UnknownCard,
                    Entity::Visit(_) => ApiCode::UnknownVisit,
                    Entity::Institution(_) => ApiCode::UnknownInstitution,
                    Entity::Declaration(_) => ApiCode::UnknownDeclaration,
                    Entity::StaffMember(_) => ApiCode::UnknownStaff,
                    Entity::Reader(_) => ApiCode::UnknownReader,
                    Entity::Batch(_) => ApiCode::UnknownReceptionNumber,
                };
                ApiError::not_found(code, format!("{entity} not found; check the identifier"))
            }
            StoreError::Domain(d) => d.into(),
            StoreError::CardChanged(_) | StoreError::VisitChanged(_) => {
                ApiError::conflict(ApiCode::ConcurrentChange, e.to_string())
            }
            other => {
                // The detail (sqlx's text, table names) goes to the log, not to clients.
                tracing::error!(error = %other, "storage failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ApiCode::StorageUnavailable,
                    "the database cannot be reached right now; nothing was changed by this request. Try again in a moment; if it persists, tell the system administrator",
                )
            }
        }
    }
}

impl From<EvidenceError> for ApiError {
    fn from(e: EvidenceError) -> Self {
        let code = match &e {
            EvidenceError::CertificateMalformed(_) => ApiCode::CertificateMalformed,
            EvidenceError::ForeignIssuer => ApiCode::CertificateForeignIssuer,
            EvidenceError::BadCertificateSignature => ApiCode::CertificateForged,
            EvidenceError::Expired(_) => ApiCode::CertificateExpired,
            EvidenceError::NotYetValid(_) => ApiCode::CertificateNotYetValid,
            EvidenceError::Revoked(_) => ApiCode::CertificateRevoked,
            EvidenceError::BadCardSignature => ApiCode::CardSignatureInvalid,
            EvidenceError::UnsupportedAlgorithm(_) => ApiCode::CertificateUnsupported,
            EvidenceError::AttestationMalformed(_) => ApiCode::AttestationMalformed,
            EvidenceError::BadAttestationSignature => ApiCode::AttestationForged,
            EvidenceError::BadRequestSignature(_) => ApiCode::BadRequestSignature,
            EvidenceError::BadKey(_) => ApiCode::BadPublicKey,
            EvidenceError::Build(_) => ApiCode::CertificateBuildFailed,
        };
        let status = match &e {
            EvidenceError::BadRequestSignature(_) => StatusCode::UNAUTHORIZED,
            EvidenceError::Build(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, code, e.to_string())
    }
}
