//! The kiosk's card slot: the demo's virtual cards (offered on screen as "place this card"), or a
//! PC/SC reader where a real card — or the virtual card behind vsmartcard's vpcd — is placed.

use super::{err, KioskResult};
use anyhow::Result;
use kakunin_card::virtual_card::{CardFace, VirtualCard};
use kakunin_card::{CardChannel, CardError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

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
    /// Virtual demo cards by card id, with their kind (face-auth or not).
    Demo(BTreeMap<String, (SharedCard, bool)>),
    /// A PC/SC reader: the reader whose name contains `reader`, and the 照合番号B to read the
    /// card face with (only known for the demo cards behind vpcd).
    Pcsc {
        reader: String,
        number_b: Option<String>,
    },
}

/// A card the screen can offer.
#[derive(Serialize)]
pub struct OfferedCard {
    pub id: String,
    /// Unknown for a PC/SC reader until the card is read.
    pub face_auth: Option<bool>,
    pub pcsc: bool,
    pub on_reader: bool,
}

impl CardSlot {
    /// The demo cards (persons 1–4 of the seed) with `photo` on their chips.
    pub fn demo(photo: Vec<u8>) -> Result<CardSlot> {
        let ca = kakunin_evidence::ca::DemoCa::new()?;
        let face = demo_face(photo);
        let mut cards = BTreeMap::new();
        for (person, face_auth) in [(1, false), (2, true), (3, true), (4, false)] {
            let card = demo_card(&ca, person, face_auth, &face)?;
            let id = kakunin_store::seed::demo_card_id(person);
            cards.insert(id, (SharedCard(Arc::new(Mutex::new(card))), face_auth));
        }
        Ok(CardSlot::Demo(cards))
    }

    /// What the screen may offer; `on_reader` names the card of the current session.
    pub fn offer(&self, on_reader: Option<&str>) -> Vec<OfferedCard> {
        match self {
            CardSlot::Demo(cards) => cards
                .iter()
                .map(|(id, (_, face_auth))| OfferedCard {
                    id: id.clone(),
                    face_auth: Some(*face_auth),
                    pcsc: false,
                    on_reader: on_reader == Some(id.as_str()),
                })
                .collect(),
            CardSlot::Pcsc { .. } => vec![OfferedCard {
                id: READER_CARD.into(),
                face_auth: None,
                pcsc: true,
                on_reader: on_reader.is_some(),
            }],
        }
    }

    /// Connects to card `id`: a demo card, or whatever card is on the PC/SC reader
    /// (`no_card` while none is there).
    pub(super) async fn connect(&self, id: &str) -> KioskResult<Box<dyn CardChannel + Send>> {
        match self {
            CardSlot::Demo(cards) => cards
                .get(id)
                .map(|(c, _)| Box::new(c.clone()) as Box<dyn CardChannel + Send>)
                .ok_or_else(|| err("no_card", format!("no demo card {id}"))),
            CardSlot::Pcsc { reader, .. } => connect_pcsc(reader.clone()).await,
        }
    }

    /// The 照合番号B the card face can be read with, if known.
    pub fn number_b(&self) -> Option<&str> {
        match self {
            CardSlot::Demo(_) => Some(super::DEMO_NUMBER_B),
            CardSlot::Pcsc { number_b, .. } => number_b.as_deref(),
        }
    }
}

/// The virtual demo card of seed person `person` (PIN [`kakunin_store::seed::DEMO_PIN`],
/// 照合番号B [`super::DEMO_NUMBER_B`]), its certificate from the demo CA, valid for five years.
pub fn demo_card(
    ca: &kakunin_evidence::ca::DemoCa,
    person: i64,
    face_auth: bool,
    face: &CardFace,
) -> Result<VirtualCard> {
    let now = chrono::Utc::now();
    let certified = ca.issue_card(
        &kakunin_store::seed::demo_card_id(person),
        now - chrono::Duration::days(30),
        now + chrono::Duration::days(365 * 5),
    )?;
    Ok(VirtualCard::new(
        certified,
        ca.certificate_der().to_vec(),
        face_auth,
        kakunin_store::seed::DEMO_PIN,
        face,
        "1234",
    ))
}

/// The card face of the demo cards: 照合番号B [`super::DEMO_NUMBER_B`].
pub fn demo_face(photo: Vec<u8>) -> CardFace {
    CardFace {
        name: "デモ 太郎".into(),
        address: "東京都千代田区".into(),
        birth_date: "19800217".into(),
        sex: 1,
        expiry: "20341231".into(),
        photo,
    }
}

#[cfg(feature = "pcsc")]
async fn connect_pcsc(reader: String) -> KioskResult<Box<dyn CardChannel + Send>> {
    let connected = tokio::task::spawn_blocking(move || {
        kakunin_card::pcsc_channel::PcscChannel::connect(&reader)
    })
    .await
    .map_err(|e| err("card_unreadable", e.to_string()))?;
    match connected {
        Ok(c) => Ok(Box::new(c)),
        Err(CardError::Removed) => Err(err("no_card", "no card on the reader yet")),
        Err(e) => Err(err("reader_unavailable", e.to_string())),
    }
}

#[cfg(not(feature = "pcsc"))]
async fn connect_pcsc(_: String) -> KioskResult<Box<dyn CardChannel + Send>> {
    Err(err(
        "reader_unavailable",
        "this kakunin was built without PC/SC; build with `--features pcsc`",
    ))
}
