//! Route table. Each module is one area of the API; `router()` joins them with their OpenAPI
//! descriptions.

pub mod audit;
pub mod declarations;
pub mod eligibility;
pub mod health;
pub mod municipal;
pub mod readers;
pub mod references;
pub mod registrations;
pub mod sessions;
pub mod staff;
pub mod visits;
pub mod visual;

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use kakunin_api::ApiCode;

/// Refuses an identifier a client chose (a reader's, a staff member's) unless it is 1–64
/// letters, digits, '-', '_' or '.': ids end up in logs, audit records and file names.
pub(crate) fn check_chosen_id(id: &str, what: &str) -> ApiResult<()> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(ApiError::unprocessable(
            ApiCode::InvalidFormat,
            format!("{what} must be 1–64 letters, digits, '-', '_' or '.'"),
        ));
    }
    Ok(())
}
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// All `/api/v1` routes with their OpenAPI paths.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .routes(routes!(municipal::issue_card))
        .routes(routes!(municipal::card_view))
        .routes(routes!(municipal::find_persons))
        .routes(routes!(municipal::switch_kind))
        .routes(routes!(municipal::register_at_counter))
        .routes(routes!(municipal::reset_pin))
        .routes(routes!(registrations::register_by_channel))
        .routes(routes!(readers::register_reader, readers::list_readers))
        .routes(routes!(readers::change_reader_status))
        .routes(routes!(readers::revoke_certificate))
        .routes(routes!(visits::start_visit, visits::queue))
        .routes(routes!(visits::visit_status))
        .routes(routes!(visits::issue_nonce))
        .routes(routes!(visits::identity_evidence))
        .routes(routes!(visual::request_visual))
        .routes(routes!(visual::visual_confirmation))
        .routes(routes!(visual::card_photo))
        .routes(routes!(visual::reader_view))
        .routes(routes!(visual::enter_number_b, visual::number_b_status))
        .routes(routes!(visual::take_number_b))
        .routes(routes!(visual::visual_photo))
        .routes(routes!(visual::card_face_try))
        .routes(routes!(visits::registration_answer))
        .routes(routes!(visits::consent))
        .routes(routes!(visits::service_down))
        .routes(routes!(eligibility::visit_result))
        .routes(routes!(eligibility::information_view))
        .routes(routes!(eligibility::check_by_numbers))
        .routes(routes!(eligibility::proxy_pickup))
        .routes(routes!(references::register_reference))
        .routes(routes!(references::register_batch))
        .routes(routes!(references::batch_result))
        .routes(routes!(references::information_by_numbers))
        .routes(routes!(declarations::submit_declaration))
        .routes(routes!(declarations::declaration_status))
        .routes(routes!(declarations::recheck_now))
        .routes(routes!(audit::audit_records))
        .routes(routes!(audit::verify_chain))
        .routes(routes!(staff::add_staff))
        .routes(routes!(staff::change_password))
        .routes(routes!(staff::issue_token, staff::list_tokens))
        .routes(routes!(staff::revoke_token))
        .routes(routes!(sessions::sign_in))
        .routes(routes!(sessions::current, sessions::sign_out))
}
