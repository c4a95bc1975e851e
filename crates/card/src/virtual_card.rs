//! A software My Number card: the JPKI applet and the card-face applet over APDUs, built from
//! demo data (certificate from the demo CA, photo from a face image), standard or face-auth.

use crate::apdu::{Command, Response, StatusWord};
use crate::mynumber::*;
use crate::{CardChannel, CardError};
use kakunin_evidence::ca::DemoCard;

/// Tries of 照合番号B before it locks (the card-face applet's own counter).
const NUMBER_B_TRIES: u8 = 10;

pub use crate::card_face::CardFace;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applet {
    None,
    Jpki,
    CardFace,
    TextAssist,
}

/// The virtual card.
pub struct VirtualCard {
    card: DemoCard,
    ca_cert: Vec<u8>,
    face_auth: bool,
    pin: String,
    pin_tries: u8,
    pin_verified: bool,
    number_b: String,
    number_b_tries: u8,
    number_b_verified: bool,
    face: Vec<u8>,
    applet: Applet,
    ef: Option<u16>,
    removed: bool,
    /// Commands seen, for tests and traces.
    pub log: Vec<Vec<u8>>,
}

impl VirtualCard {
    /// A card. `pin` is ignored (and no PIN works) when `face_auth`.
    pub fn new(
        card: DemoCard,
        ca_cert: Vec<u8>,
        face_auth: bool,
        pin: &str,
        face: &CardFace,
        security_code: &str,
    ) -> VirtualCard {
        let birth =
            chrono::NaiveDate::parse_from_str(&face.birth_date, "%Y%m%d").unwrap_or_default();
        let expiry_year: i32 = face
            .expiry
            .get(..4)
            .and_then(|y| y.parse().ok())
            .unwrap_or(0);
        VirtualCard {
            card,
            ca_cert,
            face_auth,
            pin: pin.to_owned(),
            pin_tries: AUTH_PIN_TRIES,
            pin_verified: false,
            number_b: kakunin_core::card_face::number_b(birth, expiry_year, security_code),
            number_b_tries: NUMBER_B_TRIES,
            number_b_verified: false,
            face: face.to_ef(),
            applet: Applet::None,
            ef: None,
            removed: false,
            log: vec![],
        }
    }

    /// Takes the card off the reader: every later command fails with [`CardError::Removed`].
    pub fn remove(&mut self) {
        self.removed = true;
    }

    fn file(&self, ef: u16) -> Option<&[u8]> {
        match (self.applet, ef) {
            (Applet::Jpki, EF_AUTH_CERT) => Some(self.card.certificate_der()),
            (Applet::Jpki, EF_AUTH_CA) => Some(&self.ca_cert),
            (Applet::CardFace, EF_CARD_FACE) => Some(&self.face),
            _ => None,
        }
    }

    fn exists(&self, ef: u16) -> bool {
        match self.applet {
            Applet::Jpki => {
                matches!(ef, EF_AUTH_CERT | EF_AUTH_CA | EF_AUTH_KEY | EF_AUTH_PIN)
                    || (!self.face_auth && matches!(ef, EF_SIGN_CERT | EF_SIGN_KEY | EF_SIGN_PIN))
            }
            Applet::CardFace => matches!(ef, EF_CARD_FACE | EF_VERIFY_B),
            _ => false,
        }
    }

    fn process(&mut self, c: &Command) -> Response {
        let sw = |s| Response::new(vec![], s);
        match (c.cla, c.ins, c.p1, c.p2) {
            (0x00, ins::SELECT, 0x04, _) => {
                let applet = match c.data.as_slice() {
                    d if d == AID_JPKI => Applet::Jpki,
                    d if d == AID_CARD_FACE => Applet::CardFace,
                    d if d == AID_TEXT_ASSIST => Applet::TextAssist,
                    _ => return sw(StatusWord::FileNotFound),
                };
                self.applet = applet;
                self.ef = None;
                self.pin_verified = false;
                self.number_b_verified = false;
                sw(StatusWord::Ok)
            }
            (0x00, ins::SELECT, 0x02, _) => {
                let [hi, lo] = c.data[..] else {
                    return sw(StatusWord::WrongLength);
                };
                let ef = u16::from_be_bytes([hi, lo]);
                if !self.exists(ef) {
                    return sw(StatusWord::FileNotFound);
                }
                self.ef = Some(ef);
                sw(StatusWord::Ok)
            }
            (0x00, ins::SELECT, _, _) => sw(StatusWord::IncorrectP1P2),
            (0x00, ins::READ_BINARY, p1, p2) => {
                let Some(ef) = self.ef else {
                    return sw(StatusWord::ConditionsNotSatisfied);
                };
                if ef == EF_CARD_FACE && !self.number_b_verified {
                    return sw(StatusWord::SecurityStatusNotSatisfied);
                }
                let Some(data) = self.file(ef) else {
                    return sw(StatusWord::ConditionsNotSatisfied);
                };
                let offset = usize::from(u16::from_be_bytes([p1 & 0x7F, p2]));
                if offset > data.len() {
                    return sw(StatusWord::WrongOffset);
                }
                let n = c.le.unwrap_or(256).min(data.len() - offset);
                Response::new(data[offset..offset + n].to_vec(), StatusWord::Ok)
            }
            (0x00, ins::VERIFY, 0x00, 0x80) => match self.ef {
                Some(EF_AUTH_PIN) if self.applet == Applet::Jpki => {
                    if self.face_auth || self.pin_tries == 0 {
                        return sw(StatusWord::ReferenceDataNotUsable);
                    }
                    if c.data.is_empty() {
                        return sw(StatusWord::VerifyFailed {
                            tries_left: self.pin_tries,
                        });
                    }
                    if c.data == self.pin.as_bytes() {
                        self.pin_tries = AUTH_PIN_TRIES;
                        self.pin_verified = true;
                        sw(StatusWord::Ok)
                    } else {
                        self.pin_tries -= 1;
                        self.pin_verified = false;
                        sw(StatusWord::VerifyFailed {
                            tries_left: self.pin_tries,
                        })
                    }
                }
                Some(EF_VERIFY_B) if self.applet == Applet::CardFace => {
                    if self.number_b_tries == 0 {
                        return sw(StatusWord::ReferenceDataNotUsable);
                    }
                    // An empty VERIFY asks how many tries are left and spends none.
                    if c.data.is_empty() {
                        return sw(StatusWord::VerifyFailed {
                            tries_left: self.number_b_tries,
                        });
                    }
                    if c.data == self.number_b.as_bytes() {
                        self.number_b_tries = NUMBER_B_TRIES;
                        self.number_b_verified = true;
                        sw(StatusWord::Ok)
                    } else {
                        self.number_b_tries -= 1;
                        sw(StatusWord::VerifyFailed {
                            tries_left: self.number_b_tries,
                        })
                    }
                }
                _ => sw(StatusWord::ConditionsNotSatisfied),
            },
            (0x80, ins::COMPUTE_SIGNATURE, 0x00, 0x80) => {
                if self.applet != Applet::Jpki || self.ef != Some(EF_AUTH_KEY) {
                    return sw(StatusWord::ConditionsNotSatisfied);
                }
                if !self.pin_verified {
                    return sw(StatusWord::SecurityStatusNotSatisfied);
                }
                if c.data.is_empty() {
                    return sw(StatusWord::IncorrectData);
                }
                Response::new(self.card.sign_challenge(&c.data), StatusWord::Ok)
            }
            (0x00 | 0x80, _, _, _) => sw(StatusWord::InsNotSupported),
            _ => sw(StatusWord::ClaNotSupported),
        }
    }
}

impl CardChannel for VirtualCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        if self.removed {
            return Err(CardError::Removed);
        }
        self.log.push(command.to_vec());
        let response = match Command::parse(command) {
            Ok(c) => self.process(&c),
            // A real card answers a garbled command with a status, not silence.
            Err(_) => Response::new(vec![], StatusWord::WrongLength),
        };
        Ok(response.to_bytes())
    }
}
