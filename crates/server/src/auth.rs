//! Extractors: JSON bodies with clear errors, bearer-token staff, and signed reader requests.

use crate::error::{ApiError, ApiResult};
use crate::state::TokenStatus;
use crate::AppState;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use kakunin_api::ApiCode;
use kakunin_core::roles::Permission;
use kakunin_evidence::attestation::{
    parse_public_key, valid_request_id, verify_request, HEADER_READER, HEADER_REQUEST_ID,
    HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_CLOCK_SKEW_SECS,
};
use kakunin_store::directory::{Reader, ReaderStatus, Staff};
use serde::de::DeserializeOwned;

/// Largest request body accepted from a reader.
const MAX_BODY: usize = 1 << 20;

/// A JSON body; malformed JSON and wrong types become API errors with stable codes.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::unprocessable(
                ApiCode::WrongTypes,
                format!(
                    "{}; see /api/openapi.json for the expected fields",
                    e.body_text()
                ),
            )),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ApiCode::MalformedJson,
                format!("{}; send a valid JSON document", e.body_text()),
            )),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ApiCode::JsonRequired,
                "send the body as JSON with Content-Type: application/json",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiCode::BodyTooLarge,
                "the request body is larger than the server accepts; send a smaller body",
            )),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ApiCode::BadBody,
                e.body_text(),
            )),
        }
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::unprocessable(
            ApiCode::WrongTypes,
            format!("{e}; see /api/openapi.json for the expected fields"),
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            ApiCode::MalformedJson,
            format!("{e}; send a valid JSON document"),
        ),
    })
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any letter case, as
/// RFC 9110 has it).
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A staff member authenticated by `Authorization: Bearer <token>`.
pub struct StaffAuth(pub Staff);

impl StaffAuth {
    /// Refuses with 403 `wrong_role` unless the staff member's role allows `p`.
    pub fn require(&self, p: Permission) -> ApiResult<&Staff> {
        if self.0.role.may(p) {
            Ok(&self.0)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ApiCode::WrongRole,
                format!(
                    "the role {} may not do this; sign in with a staff account that may",
                    self.0.role.as_str()
                ),
            ))
        }
    }

    /// Refuses with 403 `other_institution` unless the staff member belongs to `code`.
    pub fn same_institution(&self, code: &str) -> ApiResult<()> {
        if self.0.institution_code == code {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ApiCode::OtherInstitution,
                "this belongs to another institution; only its own staff may see or change it",
            ))
        }
    }
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer_token(&parts.headers) else {
            return Err(ApiError::unauthorized(
                ApiCode::MissingToken,
                "send Authorization: Bearer <token> with a session or API token (a password is never a token)",
            ));
        };
        match state.staff_for_token(token).await? {
            TokenStatus::Valid(s) => Ok(StaffAuth(s)),
            TokenStatus::Expired => Err(ApiError::unauthorized(
                ApiCode::SessionExpired,
                "the sign-in session has ended; sign in again",
            )),
            TokenStatus::Unknown => Err(ApiError::unauthorized(
                ApiCode::InvalidToken,
                "the token is not valid; sign in again",
            )),
        }
    }
}

/// A request from a registered reader, signed with its key, and its JSON body.
pub struct SignedReader<T> {
    /// The enrolled, active reader whose signature verified.
    pub reader: Reader,
    /// The request body it signed.
    pub body: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SignedReader<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (Some(reader_id), Some(timestamp), Some(request_id), Some(signature)) = (
            header(HEADER_READER),
            header(HEADER_TIMESTAMP),
            header(HEADER_REQUEST_ID),
            header(HEADER_SIGNATURE),
        ) else {
            return Err(ApiError::unauthorized(
                ApiCode::MissingReaderSignature,
                format!("reader requests need the {HEADER_READER}, {HEADER_TIMESTAMP}, {HEADER_REQUEST_ID} and {HEADER_SIGNATURE} headers"),
            ));
        };
        if !valid_request_id(&request_id) {
            return Err(ApiError::unauthorized(
                ApiCode::BadRequestId,
                format!("{HEADER_REQUEST_ID} must be 16–64 letters, digits, '-' or '_', new for every request"),
            ));
        }
        let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiCode::BodyTooLarge,
                "the request body is larger than 1 MiB",
            )
        })?;
        let Some(reader) = state.store.reader(&reader_id).await? else {
            return Err(ApiError::unauthorized(
                ApiCode::UnknownReader,
                format!(
                    "reader {reader_id} is not registered; ask the operator to enrol it (POST /api/v1/readers)"
                ),
            ));
        };
        match reader.status {
            ReaderStatus::Active => {}
            ReaderStatus::Pending => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ApiCode::ReaderPending,
                    format!("reader {reader_id} waits for the operator's approval; ask the operator to approve it"),
                ))
            }
            ReaderStatus::Suspended | ReaderStatus::Revoked => {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ApiCode::ReaderDisabled,
                    format!("reader {reader_id} is {}; ask the operator", reader.status.as_str()),
                ))
            }
        }
        let ts: i64 = timestamp.parse().map_err(|_| {
            ApiError::unauthorized(
                ApiCode::StaleRequest,
                "the timestamp header must be unix seconds",
            )
        })?;
        if (chrono::Utc::now().timestamp() - ts).abs() > MAX_CLOCK_SKEW_SECS {
            return Err(ApiError::unauthorized(ApiCode::StaleRequest, "the request time is more than 5 minutes off the server's clock; check the reader's clock"));
        }
        let key = parse_public_key(&reader.public_key)?;
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        verify_request(
            &key,
            parts.method.as_str(),
            path,
            ts,
            &request_id,
            &bytes,
            &signature,
        )?;
        // Only after the signature holds, so nobody can use up another reader's ids.
        let window = chrono::Duration::seconds(2 * MAX_CLOCK_SKEW_SECS);
        if !state
            .store
            .first_use_of_request_id(&reader.id, &request_id, window)
            .await?
        {
            return Err(ApiError::conflict(
                ApiCode::RequestReplayed,
                "this signed request was already received (a replay); send each request with a new request id",
            ));
        }
        let body = if bytes.is_empty() {
            parse_json(b"{}")?
        } else {
            parse_json(&bytes)?
        };
        Ok(SignedReader { reader, body })
    }
}
