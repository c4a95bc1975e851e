//! My Number card rules (SPEC §2): kinds, the PIN, the memo field (追記欄), kind switching and
//! the card's history.
//!
//! A real card checks its PIN on the chip. kakunin's central service keeps a salted verifier and
//! the retry counter so that the channels it simulates (smartphone, ATM, the municipal counter)
//! follow the same rule: 3 wrong entries lock, and only the municipal counter resets.

use crate::error::{DomainError, ErrorCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Wrong PIN entries allowed before the user-auth PIN locks.
pub const PIN_TRIES: u8 = 3;

/// The text printed in the memo field of a face-auth card.
pub const FACE_AUTH_MEMO: &str = "顔認証";

/// 通常のマイナンバーカード or 顔認証マイナンバーカード.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// 通常のマイナンバーカード: PIN and signature certificate available.
    Standard,
    /// 顔認証マイナンバーカード: no PIN; face recognition or visual confirmation only.
    FaceAuth,
}

impl CardKind {
    /// Code name as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::Standard => "standard",
            CardKind::FaceAuth => "face_auth",
        }
    }

    /// Parses the code name.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        match s {
            "standard" => Ok(CardKind::Standard),
            "face_auth" => Ok(CardKind::FaceAuth),
            _ => Err(DomainError::new(
                ErrorCode::InvalidFormat,
                format!("card kind {s:?} is neither \"standard\" nor \"face_auth\""),
            )),
        }
    }
}

/// A user-auth PIN: exactly four ASCII digits. The value never leaves this type unhashed.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    /// Validates the shape of a PIN.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Pin(s.to_owned()))
        } else {
            Err(DomainError::new(
                ErrorCode::PinFormat,
                "the PIN (暗証番号) must be exactly 4 digits",
            ))
        }
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(****)")
    }
}

/// Salted SHA-256 of a PIN, with the retry counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinState {
    /// Hex salt.
    pub salt: String,
    /// Hex SHA-256 of salt ‖ PIN.
    pub hash: String,
    /// Consecutive wrong entries.
    pub failures: u8,
}

impl PinState {
    /// A fresh verifier for `pin` with the given salt (16 random bytes from the caller).
    pub fn new(pin: &Pin, salt: [u8; 16]) -> Self {
        let salt = hex::encode(salt);
        PinState {
            hash: Self::digest(&salt, pin),
            salt,
            failures: 0,
        }
    }

    fn digest(salt: &str, pin: &Pin) -> String {
        let mut h = Sha256::new();
        h.update(salt.as_bytes());
        h.update(pin.0.as_bytes());
        hex::encode(h.finalize())
    }

    /// Whether the retry counter is used up.
    pub fn locked(&self) -> bool {
        self.failures >= PIN_TRIES
    }

    /// Tries left before the lock.
    pub fn tries_left(&self) -> u8 {
        PIN_TRIES.saturating_sub(self.failures)
    }
}

/// One entry of the card's memo field (追記欄). Entries are struck through, never removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemoEntry {
    /// Printed text, e.g. 「顔認証」.
    pub text: String,
    /// Date printed.
    pub entered_on: NaiveDate,
    /// Municipality whose seal is printed with it.
    pub municipality: String,
    /// Set when the entry is struck through (取り消し線).
    pub struck_on: Option<NaiveDate>,
}

/// What happened to a card, as appended to its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CardEvent {
    /// Issued at the counter.
    Issued {
        /// Standard or face-auth.
        kind: CardKind,
        /// Registered for insurance use at issuance.
        registered: bool,
    },
    /// Switched between standard and face-auth on the same card.
    SwitchedKind {
        /// The kind before.
        from: CardKind,
        /// The kind after.
        to: CardKind,
    },
    /// Registered for insurance use.
    Registered {
        /// Through which channel.
        channel: crate::matrix::RegistrationChannel,
    },
    /// The third wrong PIN locked it.
    PinLocked,
    /// The PIN was reset at the municipal counter.
    PinReset,
    /// A new card was issued to the holder: this card's certificates are revoked.
    Reissued {
        /// The card that replaces it.
        new_card: String,
    },
}

/// One history line: when, at which municipality or institution, by whom, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CardHistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// Where: a municipality or institution code, or the channel.
    pub place: String,
    /// The staff member, when one acted.
    pub staff: Option<String>,
    #[serde(flatten)]
    /// What happened.
    pub event: CardEvent,
}

/// A My Number card as the central service sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// Card identifier (the user-auth certificate's serial identifies it on the wire).
    pub id: String,
    /// Standard (with PIN) or face-auth (none).
    pub kind: CardKind,
    /// Present exactly when `kind` is `Standard`.
    pub pin: Option<PinState>,
    /// 健康保険証利用登録 done.
    pub registered: bool,
    /// 追記欄: entries are struck, never removed.
    pub memo: Vec<MemoEntry>,
    /// Every change, oldest first.
    pub history: Vec<CardHistoryEntry>,
}

/// Where and by whom a counter operation happens, and when.
#[derive(Debug, Clone)]
pub struct CounterContext {
    /// The municipality of the counter.
    pub municipality: String,
    /// The clerk.
    pub staff: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl CounterContext {
    fn entry(&self, event: CardEvent) -> CardHistoryEntry {
        CardHistoryEntry {
            at: self.at,
            place: self.municipality.clone(),
            staff: self.staff.clone(),
            event,
        }
    }
    fn memo(&self) -> MemoEntry {
        MemoEntry {
            text: FACE_AUTH_MEMO.to_owned(),
            entered_on: self.at.date_naive(),
            municipality: self.municipality.clone(),
            struck_on: None,
        }
    }
}

/// What the clerk chose about insurance-use registration when switching to face-auth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationChoice {
    /// Not asked yet: an unregistered card is refused with `register_before_switch`.
    #[default]
    NotAsked,
    /// Register now, then switch.
    RegisterNow,
    /// The holder declined after being prompted.
    Declined,
}

impl Card {
    /// Records that `new_card` replaces this card (one person holds one valid card); the
    /// caller revokes this card's certificates.
    pub fn retire_for_reissue(&mut self, new_card: &str, ctx: &CounterContext) {
        self.history.push(ctx.entry(CardEvent::Reissued {
            new_card: new_card.to_owned(),
        }));
    }

    /// Issues a card at the municipal counter. Standard cards need a PIN; face-auth cards refuse
    /// one and get 「顔認証」 in the memo field. Issuance of face-auth cards is open to anyone.
    pub fn issue(
        id: String,
        kind: CardKind,
        pin: Option<(&Pin, [u8; 16])>,
        register: bool,
        ctx: &CounterContext,
    ) -> Result<Card, DomainError> {
        if register {
            // Registering at issuance is registering at the counter: face-auth cards only.
            crate::matrix::registration_allowed(
                crate::matrix::RegistrationChannel::MunicipalCounter,
                kind,
                None,
            )?;
        }
        let (pin, memo) = match (kind, pin) {
            (CardKind::Standard, Some((p, salt))) => (Some(PinState::new(p, salt)), vec![]),
            (CardKind::Standard, None) => {
                return Err(DomainError::new(
                    ErrorCode::PinFormat,
                    "a standard card needs a 4-digit PIN; ask the holder to set one",
                ))
            }
            (CardKind::FaceAuth, Some(_)) => return Err(pin_on_face_auth()),
            (CardKind::FaceAuth, None) => (None, vec![ctx.memo()]),
        };
        let mut history = vec![ctx.entry(CardEvent::Issued {
            kind,
            registered: register,
        })];
        if register {
            history.push(ctx.entry(CardEvent::Registered {
                channel: crate::matrix::RegistrationChannel::MunicipalCounter,
            }));
        }
        Ok(Card {
            id,
            kind,
            pin,
            registered: register,
            memo,
            history,
        })
    }

    /// Switches the kind on the same card (SPEC §2). To face-auth: PIN removed, 「顔認証」 added;
    /// an unregistered card is refused until the clerk has offered registration. To standard: a new
    /// PIN is set and the 「顔認証」 entry is struck through. Registration survives.
    pub fn switch_kind(
        &mut self,
        to: CardKind,
        new_pin: Option<(&Pin, [u8; 16])>,
        choice: RegistrationChoice,
        ctx: &CounterContext,
    ) -> Result<(), DomainError> {
        if self.kind == to {
            return Err(DomainError::new(
                ErrorCode::AlreadyThatKind,
                format!("the card is already {}; nothing to switch", to.as_str()),
            ));
        }
        match to {
            CardKind::FaceAuth => {
                if new_pin.is_some() {
                    return Err(pin_on_face_auth());
                }
                if !self.registered && choice == RegistrationChoice::NotAsked {
                    return Err(DomainError::new(
                        ErrorCode::RegisterBeforeSwitch,
                        "the card is not registered for insurance use: offer registration first (register_now), or record that the holder declined",
                    ));
                }
                if !self.registered && choice == RegistrationChoice::RegisterNow {
                    self.registered = true;
                    self.history.push(ctx.entry(CardEvent::Registered {
                        channel: crate::matrix::RegistrationChannel::MunicipalCounter,
                    }));
                }
                self.pin = None;
                self.memo.push(ctx.memo());
            }
            CardKind::Standard => {
                let Some((pin, salt)) = new_pin else {
                    return Err(DomainError::new(ErrorCode::PinFormat, "switching to a standard card sets a new 4-digit PIN; ask the holder for one"));
                };
                self.pin = Some(PinState::new(pin, salt));
                let today = ctx.at.date_naive();
                for m in self
                    .memo
                    .iter_mut()
                    .filter(|m| m.text == FACE_AUTH_MEMO && m.struck_on.is_none())
                {
                    m.struck_on = Some(today);
                }
            }
        }
        self.history.push(ctx.entry(CardEvent::SwitchedKind {
            from: self.kind,
            to,
        }));
        self.kind = to;
        Ok(())
    }

    /// Checks a PIN entry. Face-auth cards refuse any PIN; a locked PIN refuses until reset at the
    /// counter; a wrong PIN counts, and the third wrong one locks.
    pub fn verify_pin(
        &mut self,
        pin: &str,
        place: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let Some(state) = self.pin.as_mut() else {
            return Err(pin_on_face_auth());
        };
        if state.locked() {
            return Err(pin_locked());
        }
        let ok = Pin::parse(pin)
            .map(|p| PinState::digest(&state.salt, &p) == state.hash)
            .unwrap_or(false);
        if ok {
            state.failures = 0;
            return Ok(());
        }
        state.failures += 1;
        if state.locked() {
            self.history.push(CardHistoryEntry {
                at,
                place: place.to_owned(),
                staff: None,
                event: CardEvent::PinLocked,
            });
            return Err(pin_locked());
        }
        Err(DomainError::new(
            ErrorCode::PinWrong,
            format!(
                "wrong PIN; {} tries left before the PIN locks",
                state.tries_left()
            ),
        ))
    }

    /// Resets a PIN at the municipal counter (the only place allowed to).
    pub fn reset_pin_at_counter(
        &mut self,
        new_pin: &Pin,
        salt: [u8; 16],
        ctx: &CounterContext,
    ) -> Result<(), DomainError> {
        if self.kind == CardKind::FaceAuth {
            return Err(pin_on_face_auth());
        }
        self.pin = Some(PinState::new(new_pin, salt));
        self.history.push(ctx.entry(CardEvent::PinReset));
        Ok(())
    }

    /// Records insurance-use registration through `channel`, after the matrix allowed it.
    pub fn register(
        &mut self,
        channel: crate::matrix::RegistrationChannel,
        method: Option<crate::matrix::IdentityMethod>,
        place: &str,
        staff: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        crate::matrix::registration_allowed(channel, self.kind, method)?;
        if self.registered {
            return Err(DomainError::new(
                ErrorCode::AlreadyRegistered,
                "the card is already registered for insurance use; nothing to do",
            ));
        }
        self.registered = true;
        self.history.push(CardHistoryEntry {
            at,
            place: place.to_owned(),
            staff,
            event: CardEvent::Registered { channel },
        });
        Ok(())
    }
}

pub(crate) fn pin_on_face_auth() -> DomainError {
    DomainError::new(
        ErrorCode::PinNotAllowedOnFaceAuth,
        "this is a face-auth card (顔認証マイナンバーカード): it has no PIN; use face recognition or visual confirmation by staff",
    )
}

fn pin_locked() -> DomainError {
    DomainError::new(
        ErrorCode::PinLocked,
        "the PIN is locked after 3 wrong entries; it can only be reset at the municipal counter (市町村窓口). Face recognition still works",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{IdentityMethod, RegistrationChannel};

    fn ctx() -> CounterContext {
        CounterContext {
            municipality: "千代田区".into(),
            staff: Some("clerk-1".into()),
            at: "2026-11-25T10:00:00Z".parse().unwrap(),
        }
    }
    fn pin(s: &str) -> Pin {
        Pin::parse(s).unwrap()
    }
    fn standard() -> Card {
        Card::issue(
            "c1".into(),
            CardKind::Standard,
            Some((&pin("1234"), [1; 16])),
            false,
            &ctx(),
        )
        .unwrap()
    }

    #[test]
    fn issue_rules() {
        assert_eq!(
            Card::issue("c".into(), CardKind::Standard, None, false, &ctx())
                .unwrap_err()
                .code,
            ErrorCode::PinFormat
        );
        let e = Card::issue(
            "c".into(),
            CardKind::FaceAuth,
            Some((&pin("1234"), [0; 16])),
            false,
            &ctx(),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::PinNotAllowedOnFaceAuth);
        let f = Card::issue("c".into(), CardKind::FaceAuth, None, true, &ctx()).unwrap();
        assert_eq!(f.memo.len(), 1);
        assert_eq!(f.memo[0].text, FACE_AUTH_MEMO);
        assert!(f.registered && f.pin.is_none());
        assert_eq!(f.history.len(), 2);
        assert_eq!(Pin::parse("12a4").unwrap_err().code, ErrorCode::PinFormat);
        assert_eq!(Pin::parse("12345").unwrap_err().code, ErrorCode::PinFormat);
    }

    #[test]
    fn pin_counter_locks_on_third_and_refuses_fourth() {
        let mut c = standard();
        let at = ctx().at;
        assert_eq!(
            c.verify_pin("0000", "clinic", at).unwrap_err().code,
            ErrorCode::PinWrong
        );
        assert_eq!(c.pin.as_ref().unwrap().tries_left(), 2);
        assert!(
            c.verify_pin("1234", "clinic", at).is_ok(),
            "a right PIN resets the counter"
        );
        assert_eq!(c.pin.as_ref().unwrap().failures, 0);
        assert_eq!(
            c.verify_pin("0000", "clinic", at).unwrap_err().code,
            ErrorCode::PinWrong
        );
        assert_eq!(
            c.verify_pin("abcd", "clinic", at).unwrap_err().code,
            ErrorCode::PinWrong
        );
        assert_eq!(
            c.verify_pin("0000", "clinic", at).unwrap_err().code,
            ErrorCode::PinLocked
        );
        // 4th try, even with the right PIN: locked.
        assert_eq!(
            c.verify_pin("1234", "clinic", at).unwrap_err().code,
            ErrorCode::PinLocked
        );
        assert!(matches!(
            c.history.last().unwrap().event,
            CardEvent::PinLocked
        ));
        c.reset_pin_at_counter(&pin("5678"), [2; 16], &ctx())
            .unwrap();
        assert!(c.verify_pin("5678", "clinic", at).is_ok());
        assert!(matches!(
            c.history.last().unwrap().event,
            CardEvent::PinReset
        ));
    }

    #[test]
    fn face_auth_refuses_any_pin() {
        let mut c = Card::issue("c".into(), CardKind::FaceAuth, None, false, &ctx()).unwrap();
        assert_eq!(
            c.verify_pin("1234", "x", ctx().at).unwrap_err().code,
            ErrorCode::PinNotAllowedOnFaceAuth
        );
        assert_eq!(
            c.reset_pin_at_counter(&pin("1234"), [0; 16], &ctx())
                .unwrap_err()
                .code,
            ErrorCode::PinNotAllowedOnFaceAuth
        );
    }

    #[test]
    fn switch_prompts_registration_then_memo_struck_on_switch_back() {
        let mut c = standard();
        let e = c
            .switch_kind(
                CardKind::FaceAuth,
                None,
                RegistrationChoice::NotAsked,
                &ctx(),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::RegisterBeforeSwitch);
        assert_eq!(
            c.kind,
            CardKind::Standard,
            "a refused switch changes nothing"
        );
        c.switch_kind(
            CardKind::FaceAuth,
            None,
            RegistrationChoice::RegisterNow,
            &ctx(),
        )
        .unwrap();
        assert!(c.registered && c.pin.is_none());
        assert_eq!(c.memo.len(), 1);
        let e = c
            .switch_kind(
                CardKind::Standard,
                None,
                RegistrationChoice::NotAsked,
                &ctx(),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::PinFormat);
        c.switch_kind(
            CardKind::Standard,
            Some((&pin("4321"), [3; 16])),
            RegistrationChoice::NotAsked,
            &ctx(),
        )
        .unwrap();
        assert!(c.registered, "registration survives switching");
        assert_eq!(c.memo.len(), 1, "never deleted");
        assert!(c.memo[0].struck_on.is_some(), "struck through");
        c.switch_kind(
            CardKind::FaceAuth,
            None,
            RegistrationChoice::NotAsked,
            &ctx(),
        )
        .unwrap();
        assert_eq!(c.memo.len(), 2);
        assert!(c.memo[0].struck_on.is_some() && c.memo[1].struck_on.is_none());
        let kinds: Vec<_> = c
            .history
            .iter()
            .filter_map(|h| match h.event {
                CardEvent::SwitchedKind { to, .. } => Some(to),
                _ => None,
            })
            .collect();
        assert_eq!(
            kinds,
            [CardKind::FaceAuth, CardKind::Standard, CardKind::FaceAuth]
        );
        assert_eq!(
            c.switch_kind(
                CardKind::FaceAuth,
                None,
                RegistrationChoice::NotAsked,
                &ctx()
            )
            .unwrap_err()
            .code,
            ErrorCode::AlreadyThatKind
        );
    }

    #[test]
    fn declined_registration_still_switches_and_stays_unregistered() {
        let mut c = standard();
        c.switch_kind(
            CardKind::FaceAuth,
            None,
            RegistrationChoice::Declined,
            &ctx(),
        )
        .unwrap();
        assert!(!c.registered);
        assert_eq!(c.kind, CardKind::FaceAuth);
    }

    #[test]
    fn register_follows_the_channel_matrix() {
        let mut c = Card::issue("c".into(), CardKind::FaceAuth, None, false, &ctx()).unwrap();
        let e = c
            .register(
                RegistrationChannel::Smartphone,
                Some(IdentityMethod::Pin),
                "x",
                None,
                ctx().at,
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::PinRequiredForChannel);
        assert!(!c.registered);
        c.register(
            RegistrationChannel::CardReader,
            Some(IdentityMethod::Visual),
            "clinic",
            Some("s1".into()),
            ctx().at,
        )
        .unwrap();
        assert!(c.registered);
        let e = c
            .register(
                RegistrationChannel::CardReader,
                Some(IdentityMethod::Face),
                "clinic",
                None,
                ctx().at,
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::AlreadyRegistered);
    }
}
