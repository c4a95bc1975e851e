//! The visit flow (受付, SPEC §6): what a reader sends and what it, and reception, see.

use chrono::{DateTime, NaiveDate, Utc};
use kakunin_core::card::CardKind;
use kakunin_core::consent::ConsentSelection;
use kakunin_core::matrix::IdentityMethod;
use kakunin_core::visit::{Fallback, FallbackReason, PlacedBy, VisitState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the kiosk shows next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NextStep {
    /// Verify who is at the reader: face recognition (or PIN on a standard card).
    Identity,
    /// Reception staff confirm visually (目視モード); the kiosk waits.
    VisualMode,
    /// Offer insurance-use registration.
    RegistrationOffer,
    /// Ask for the consent selection.
    Consent,
    /// Finished: reception sees the result.
    Done,
    /// The online check cannot go on; offer the fallbacks.
    Fallback,
}

impl NextStep {
    /// The step that follows a visit in `state`.
    pub fn of(state: &VisitState) -> NextStep {
        match state {
            VisitState::CardPlaced | VisitState::AwaitingIdentity => NextStep::Identity,
            VisitState::AwaitingVisual => NextStep::VisualMode,
            VisitState::RegistrationOffered => NextStep::RegistrationOffer,
            VisitState::AwaitingConsent => NextStep::Consent,
            VisitState::Completed => NextStep::Done,
            VisitState::Fallback { .. } => NextStep::Fallback,
        }
    }
}

/// Where a visit stands and what the kiosk shows next.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisitView {
    /// The visit's id.
    pub id: String,
    /// Its state.
    pub state: VisitState,
    /// What the kiosk shows next.
    pub next: NextStep,
    /// The kind of card that started it.
    pub card_kind: CardKind,
    /// Who placed the card (the patient or a helper).
    pub placed_by: PlacedBy,
    /// Whether the card is registered for insurance use.
    pub registered: bool,
    /// Methods offered, default first (never PIN for a face-auth card).
    pub identity_methods: Vec<IdentityMethod>,
    /// Face recognition attempts left (the domain's limit).
    pub face_attempts_left: u8,
    /// How identity was verified, once it was.
    pub identity: Option<IdentityMethod>,
    /// What to offer when the check by card cannot go on.
    pub fallback: Option<FallbackAdvice>,
    /// When the card was placed.
    pub started_at: DateTime<Utc>,
    /// Who the card belongs to, as its face and the eligibility record say: for reception
    /// staff (to call the patient and to tell two waiting patients apart), never for readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderView>,
    /// Left waiting on the patient for longer than the visit expiry (listed only on request).
    #[serde(default)]
    pub abandoned: bool,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The card's certificate has expired and is in its three-month grace period to this day:
    /// eligibility only, no medical information; the holder renews it at the municipal counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_grace_until: Option<NaiveDate>,
    /// The institution issues electronic prescriptions: the consent step asks electronic or
    /// paper.
    #[serde(default)]
    pub asks_prescription: bool,
    /// The patient's choice, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prescription: Option<kakunin_core::prescription::PrescriptionForm>,
}

/// The card holder as reception sees them (what the card's face shows).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HolderView {
    /// Name in kanji.
    pub name: String,
    /// Name in katakana.
    pub name_kana: String,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// The birth date in the Japanese era, e.g. 「昭和26年11月10日」.
    pub birth_date_wareki: Option<String>,
    /// Age today.
    pub age: u32,
    /// 1 male, 2 female.
    pub sex: i64,
}

/// What to do when the online check by card cannot go on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FallbackAdvice {
    /// Why the check stopped.
    pub reason: FallbackReason,
    /// In order of preference, for this card kind.
    pub options: Vec<Fallback>,
}

/// A card placed on the reader.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StartVisit {
    /// User-authentication certificate (DER, base64), read from the card without PIN.
    pub certificate: String,
    /// Who placed the card.
    #[serde(default)]
    pub placed_by: PlacedBy,
}

/// The reception queue's query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct QueueQuery {
    /// At most this many (default 50, max 500).
    pub limit: Option<i64>,
    /// Also list abandoned visits (left waiting on the patient for longer than the server's
    /// visit expiry, default 30 minutes).
    #[serde(default)]
    pub include_abandoned: bool,
    /// Only visits started at or after this time, oldest first (for a reader of completed
    /// visits that keeps its place); without it the latest visits, newest first.
    pub since: Option<DateTime<Utc>>,
}

/// A fresh single-use nonce.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NonceView {
    /// Bind attestations to it, or have the card sign its UTF-8 bytes (PIN path).
    pub nonce: String,
    /// How long it may be used.
    pub expires_in_seconds: i64,
}

/// Identity evidence from the reader.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum IdentityEvidence {
    /// Face recognition result, signed by the reader.
    Face {
        /// The reader's signed attestation, bound to the server's nonce.
        attestation: kakunin_evidence::attestation::SignedAttestation,
    },
    /// Refused with 403 `visual_needs_staff`: staff confirm visually with their own sign-in
    /// (`POST /api/v1/visits/{id}/visual`), never through a reader.
    Visual {
        /// The reader's signed attestation.
        attestation: kakunin_evidence::attestation::SignedAttestation,
    },
    /// PIN path: the card's signature over the nonce's UTF-8 bytes, and its certificate.
    Pin {
        /// The nonce the card signed.
        nonce: String,
        /// The card's signature, base64.
        signature: String,
        /// The card's user-authentication certificate, DER base64.
        certificate: String,
    },
}

/// The patient's answer to the registration offer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistrationAnswer {
    /// Register the card for insurance use now.
    pub accept: bool,
}

/// Consent selection at the reader.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsentRequest {
    /// What the patient agreed to share with this institution in this visit.
    #[serde(flatten)]
    pub selection: ConsentSelection,
    /// A helper operated the screen at the patient's request.
    #[serde(default)]
    pub assisted: bool,
    /// Electronic or paper prescription: required where the visit asks
    /// (`VisitView::asks_prescription`), refused elsewhere.
    #[serde(default)]
    pub prescription: Option<kakunin_core::prescription::PrescriptionForm>,
    /// The patient answered yes to 「医療費助成の各種受給者証を利用しますか」: the result carries
    /// the recipient certificates recorded for them.
    #[serde(default)]
    pub recipient_certificates: bool,
}

/// The reader's hand-over to reception for visual confirmation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct VisualRequest {
    /// The card photo as JPEG or PNG, base64, for staff to compare with the person.
    #[serde(default)]
    pub photo: Option<String>,
}

/// Staff's visual decision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisualDecision {
    /// The person is the card holder.
    pub confirmed: bool,
    /// The holder is here in person (false for a proxy: refused, use proxy pickup).
    #[serde(default = "yes")]
    pub holder_present: bool,
}

fn yes() -> bool {
    true
}

/// How 照合番号B was offered to the card-face applet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumberBSource {
    /// Known for the card (kakunin's demo cards).
    Known,
    /// Read by the kiosk's camera from the card's printed face.
    Camera,
    /// Typed by reception staff from the card in their hand.
    Staff,
}

/// What came of offering 照合番号B to the card-face applet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NumberBOutcome {
    /// The applet opened; the photo was read.
    Opened,
    /// The card refused the number (one try spent).
    Wrong,
    /// Not sent: the lock-safe rule refused (few tries left, an earlier failure, an unsure read).
    NotTried,
    /// The applet is locked.
    Locked,
}

/// A reader's report of one offer of 照合番号B to a card (audited).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CardFaceTry {
    /// Where the number came from.
    pub source: NumberBSource,
    /// What came of it.
    pub outcome: NumberBOutcome,
    /// The tries the card had left before the offer, when read.
    pub tries_left: Option<u8>,
}

/// 照合番号B typed by reception staff from the patient's card, for the reader holding the card
/// (a visit in visual mode whose card photo could not be read from the camera).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NumberBEntry {
    /// The 14 digits (full-width digits, spaces and hyphens are accepted).
    pub number_b: String,
}

/// Where a typed 照合番号B stands, for the staff member who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NumberBStatus {
    /// Typed and not yet taken by the reader.
    pub pending: bool,
    /// The reader's last report of an offer to the card in this visit.
    pub last: Option<CardFaceTry>,
    /// Offers reported in this visit so far (a new one means the typed number was tried).
    pub offers: u32,
}

/// A typed 照合番号B handed to the reader that holds the card (once; then it is forgotten).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NumberBHandover {
    /// The 14 digits, if staff typed one that the reader has not taken yet.
    pub number_b: Option<String>,
}
