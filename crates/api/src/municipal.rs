//! The municipal counter: cards (issue, switch, register, PIN reset) and residents; and the
//! PIN channels' registration (smartphone, ATM).

use chrono::NaiveDate;
use kakunin_core::card::{CardHistoryEntry, CardKind, MemoEntry, RegistrationChoice};
use kakunin_core::matrix::RegistrationChannel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A card as the counter shows it: kind, PIN status, memo field and history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CardView {
    /// The card's id.
    pub id: String,
    /// Its holder.
    pub person_id: i64,
    /// Standard or face-auth.
    pub kind: CardKind,
    /// Registered for insurance use.
    pub registered: bool,
    /// Absent on face-auth cards.
    pub pin: Option<PinView>,
    /// 追記欄: struck entries stay, with `struck_on`.
    pub memo: Vec<MemoEntry>,
    /// Every change, oldest first.
    pub history: Vec<CardHistoryEntry>,
    /// The user-authentication certificate's serial, hex.
    pub certificate_serial: String,
    /// The card's expiry.
    pub expires_on: NaiveDate,
    /// The holder, as the card's face shows them (the counter's views only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<PersonView>,
    /// Names of the municipalities and institutions (by code) and of the staff (by id) that the
    /// memo and history mention, so the counter shows names, not bare codes.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub names: std::collections::BTreeMap<String, String>,
}

/// PIN status (never the PIN).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PinView {
    /// Locked after three wrong entries.
    pub locked: bool,
    /// Wrong entries left before it locks.
    pub tries_left: u8,
}

/// A resident as the counter finds them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PersonView {
    /// The insured person's id.
    pub person_id: i64,
    /// Name in kanji.
    pub name: String,
    /// Name in katakana.
    pub name_kana: String,
    /// Birth date.
    pub birth_date: NaiveDate,
    /// The birth date in the Japanese era.
    pub birth_date_wareki: Option<String>,
    /// Their cards whose certificates are not revoked (one at most).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<String>,
}

/// A search of residents: by birth date, narrowed by name (kanji or kana, spaces and width
/// ignored, a prefix is enough); by name alone (the family name exactly, in kanji or kana, then
/// the given name as a prefix); or by card id.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
pub struct PersonQuery {
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Name or kana, family name first.
    pub name: Option<String>,
    /// A card id.
    pub card_id: Option<String>,
}

/// Issue request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssueCard {
    /// The insured person.
    pub person_id: i64,
    /// Standard (with PIN) or face-auth.
    pub kind: CardKind,
    /// 4 digits; required for standard cards, refused for face-auth cards.
    pub pin: Option<String>,
    /// Register insurance use at issuance (face-auth cards, on the holder's request).
    #[serde(default)]
    pub register_insurance_use: bool,
    /// Re-issue: the person holds a card already (lost, damaged); the new card replaces it and
    /// the old card's certificates are revoked. Without it, a holder is refused
    /// (`already_holds_card`) — or, asking for a face-auth card while holding a standard one,
    /// switched on the same card (seed §1(2)).
    #[serde(default)]
    pub reissue: bool,
}

/// Switch request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SwitchKind {
    /// The kind to switch to.
    pub to: CardKind,
    /// The new PIN when switching to standard.
    pub new_pin: Option<String>,
    /// For an unregistered card switching to face-auth: what the holder chose when offered
    /// registration. `not_asked` is refused with `register_before_switch`.
    #[serde(default)]
    pub registration: RegistrationChoice,
}

/// PIN reset request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResetPin {
    /// The new 4-digit PIN.
    pub new_pin: String,
}

/// Registration request from a PIN channel.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChannelRegistration {
    /// The card.
    pub card_id: String,
    /// `smartphone` or `atm` (the reader and the counter have their own endpoints).
    pub channel: RegistrationChannel,
    /// The PIN as entered.
    pub pin: String,
}
