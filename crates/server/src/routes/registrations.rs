//! Insurance-use registration by smartphone (Mynaportal) or ATM: both need the PIN, so a
//! face-auth card is refused before any PIN is looked at (SPEC §4).

use crate::auth::{ApiJson, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::views::card_record_view;
use crate::workflow::{anyone, change_card, CardOutcome};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use kakunin_api::municipal::CardView;
use kakunin_api::municipal::ChannelRegistration;
use kakunin_api::ApiCode;
use kakunin_core::audit::AuditAction;
use kakunin_core::matrix::{registration_allowed, IdentityMethod, RegistrationChannel};
use kakunin_core::roles::Permission;
use serde_json::json;

/// Register through a PIN channel. The PIN counts: the third wrong entry locks it.
///
/// These channels are operated for the demo by the operator's gateway (role admin), standing in
/// for Mynaportal and the ATM network.
#[utoipa::path(post, path = "/api/v1/registrations", tag = "registration", request_body = ChannelRegistration,
    responses((status = 200, body = CardView), (status = 422, body = crate::error::ErrorBody), (status = 423, description = "PIN locked", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn register_by_channel(
    State(state): State<AppState>,
    staff: StaffAuth,
    ApiJson(req): ApiJson<ChannelRegistration>,
) -> ApiResult<Json<CardView>> {
    let gateway = staff.require(Permission::Administer)?;
    if matches!(
        req.channel,
        RegistrationChannel::CardReader | RegistrationChannel::MunicipalCounter
    ) {
        return Err(ApiError::unprocessable(
            ApiCode::UseOtherEndpoint,
            "card-reader registration happens in a visit (POST /api/v1/visits/{id}/registration); counter registration at /api/v1/municipal/cards/{id}/registration",
        ));
    }
    let place = format!("{:?}", req.channel).to_lowercase();
    let (record, ()) = change_card(
        &state,
        &req.card_id,
        // The gateway stands for the holder's own channel: any card.
        anyone,
        |card| {
            registration_allowed(req.channel, card.kind, Some(IdentityMethod::Pin))?;
            card.verify_pin(&req.pin, &place, kakunin_store::now())?;
            card.register(
                req.channel,
                Some(IdentityMethod::Pin),
                &place,
                None,
                kakunin_store::now(),
            )
        },
        // A wrong PIN changed the card (its counter, perhaps its lock) even though the request
        // is refused: every card change is audited, refused attempts included.
        |tx, outcome| match outcome {
            CardOutcome::Done(..) => tx.audit(
                &gateway.id,
                None,
                AuditAction::Registration,
                &req.card_id,
                json!({ "channel": req.channel }),
            ),
            CardOutcome::RefusedButChanged(e) => tx.audit(
                &gateway.id,
                None,
                AuditAction::CardChange,
                &req.card_id,
                json!({ "op": "pin_attempt", "channel": req.channel, "outcome": e.code.as_str() }),
            ),
        },
    )
    .await?;
    Ok(Json(card_record_view(&record)))
}
