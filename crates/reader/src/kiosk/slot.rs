//! The kiosk's card slot: the demo's virtual cards (offered on screen as "place this card"), or a
//! PC/SC reader where a real card — or the virtual card behind vsmartcard's vpcd — is placed.

use super::error::{err, KioskCode};
use super::KioskResult;
use crate::Result;
use kakunin_card::virtual_card::VirtualCard;
use kakunin_card::{CardChannel, CardError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Suffix of the demo card whose certificate is in its grace period.
pub const GRACE_SUFFIX: &str = "-grace";

/// The id the screen uses for "the card on the PC/SC reader".
pub const READER_CARD: &str = "reader";

/// A virtual card the kiosk keeps across placements (its PIN counter persists).
#[derive(Clone)]
pub struct SharedCard(Arc<Mutex<VirtualCard>>);

impl CardChannel for SharedCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        self.0
            .lock()
            .map_err(|_| CardError::Transport("virtual card poisoned".into()))?
            .transmit(command)
    }
}

/// Where cards come from.
pub enum CardSlot {
    /// Virtual demo cards.
    Demo {
        /// By card id, with their kind (face-auth or not).
        cards: BTreeMap<String, (SharedCard, bool)>,
        /// The kiosk uses the demo cards' known 照合番号B; when not, it reads the number from
        /// the card's face through the camera, as it must for a real card.
        number_b_known: bool,
    },
    /// A PC/SC reader: the reader whose name contains `reader`, and the 照合番号B to read the
    /// card face with (only known for the demo cards behind vpcd).
    Pcsc {
        /// Part of the PC/SC reader's name.
        reader: String,
        /// The cards' 照合番号B, when known (the demo cards behind vpcd only).
        number_b: Option<String>,
    },
}

/// A card the screen can offer.
#[derive(Serialize)]
pub struct OfferedCard {
    /// The card's id ([`READER_CARD`] for the PC/SC reader).
    pub id: String,
    /// Unknown for a PC/SC reader until the card is read.
    pub face_auth: Option<bool>,
    /// The card is on a PC/SC reader.
    pub pcsc: bool,
    /// The card is the one on the reader now.
    pub on_reader: bool,
    /// The demo card's certificate has expired and is in its grace period.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub certificate_grace: bool,
}

impl CardSlot {
    /// The demo cards (persons 1–4 of the seed) with `photo` on their chips, their 照合番号B
    /// known to the kiosk.
    pub fn demo(photo: Vec<u8>) -> Result<CardSlot> {
        CardSlot::demo_read_from_face(photo, false)
    }

    /// The demo cards, their 照合番号B read from the card's face by the camera (as for real
    /// cards) when `read_from_face`.
    pub fn demo_read_from_face(photo: Vec<u8>, read_from_face: bool) -> Result<CardSlot> {
        let ca = kakunin_evidence::ca::DemoCa::new()?;
        let face = crate::demo::face(photo);
        let mut cards = BTreeMap::new();
        for (person, face_auth) in [(1, false), (2, true), (3, true), (4, false)] {
            let card = crate::demo::card(&ca, person, face_auth, &face)?;
            let id = kakunin_evidence::ca::demo_card_id(person);
            cards.insert(id, (SharedCard(Arc::new(Mutex::new(card))), face_auth));
        }
        // Person 1's card again, as it is when its certificate expired three weeks ago and was
        // not renewed yet (the grace period: eligibility only).
        let grace = crate::demo::card_in_grace(&ca, 1, false, &face)?;
        cards.insert(
            format!("{}{GRACE_SUFFIX}", kakunin_evidence::ca::demo_card_id(1)),
            (SharedCard(Arc::new(Mutex::new(grace))), false),
        );
        Ok(CardSlot::Demo {
            cards,
            number_b_known: !read_from_face,
        })
    }

    /// What the screen may offer; `on_reader` names the card of the current session.
    pub fn offer(&self, on_reader: Option<&str>) -> Vec<OfferedCard> {
        match self {
            CardSlot::Demo { cards, .. } => cards
                .iter()
                .map(|(id, (_, face_auth))| OfferedCard {
                    id: id.clone(),
                    face_auth: Some(*face_auth),
                    pcsc: false,
                    on_reader: on_reader == Some(id.as_str()),
                    certificate_grace: id.ends_with(GRACE_SUFFIX),
                })
                .collect(),
            CardSlot::Pcsc { .. } => vec![OfferedCard {
                id: READER_CARD.into(),
                face_auth: None,
                pcsc: true,
                on_reader: on_reader.is_some(),
                certificate_grace: false,
            }],
        }
    }

    /// Connects to card `id`: a demo card, or whatever card is on the PC/SC reader
    /// (`no_card` while none is there).
    pub(super) async fn connect(&self, id: &str) -> KioskResult<Box<dyn CardChannel + Send>> {
        match self {
            CardSlot::Demo { cards, .. } => cards
                .get(id)
                .map(|(c, _)| Box::new(c.clone()) as Box<dyn CardChannel + Send>)
                .ok_or_else(|| err(KioskCode::NoCard, format!("no demo card {id}"))),
            CardSlot::Pcsc { reader, .. } => connect_pcsc(reader.clone()).await,
        }
    }

    /// The 照合番号B the card face can be read with, if known.
    pub fn number_b(&self) -> Option<String> {
        match self {
            CardSlot::Demo { number_b_known, .. } => number_b_known.then(crate::demo::number_b),
            CardSlot::Pcsc { number_b, .. } => number_b.clone(),
        }
    }
}

#[cfg(feature = "pcsc")]
async fn connect_pcsc(reader: String) -> KioskResult<Box<dyn CardChannel + Send>> {
    let connected = tokio::task::spawn_blocking(move || {
        kakunin_card::pcsc_channel::PcscChannel::connect(&reader)
    })
    .await
    .map_err(|e| err(KioskCode::CardUnreadable, e.to_string()))?;
    match connected {
        Ok(c) => Ok(Box::new(c)),
        Err(CardError::Removed) => Err(err(KioskCode::NoCard, "no card on the reader yet")),
        Err(e) => Err(err(KioskCode::ReaderUnavailable, e.to_string())),
    }
}

#[cfg(not(feature = "pcsc"))]
async fn connect_pcsc(_: String) -> KioskResult<Box<dyn CardChannel + Send>> {
    Err(err(
        KioskCode::ReaderUnavailable,
        "this kakunin was built without PC/SC; build with `--features pcsc`",
    ))
}
