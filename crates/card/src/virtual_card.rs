//! A software My Number card: the JPKI applet and the card-face applet over APDUs, built from
//! demo data (certificate from the demo CA, photo from a face image), standard or face-auth.

use crate::apdu::{Command, Response, StatusWord};
use crate::mynumber::*;
use crate::{CardChannel, CardError};
use kakunin_evidence::ca::DemoCard;

/// Tries of 照合番号B before it locks (the card-face applet's own counter).
const NUMBER_B_TRIES: u8 = 10;

/// What the card-face applet holds. Real cards store name and address as images; the virtual
/// card stores them as UTF-8 text in the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFace {
    /// The holder's name.
    pub name: String,
    /// The holder's address.
    pub address: String,
    /// yyyymmdd.
    pub birth_date: String,
    /// 1 male, 2 female.
    pub sex: u8,
    /// yyyymmdd.
    pub expiry: String,
    /// The face photo, greyscale JPEG 2000 on real cards.
    pub photo: Vec<u8>,
}

/// TLV tags of EF 0002 in the virtual card.
mod tag {
    pub const NAME: u8 = 0x21;
    pub const ADDRESS: u8 = 0x22;
    pub const BIRTH: u8 = 0x23;
    pub const SEX: u8 = 0x24;
    pub const EXPIRY: u8 = 0x25;
    pub const PHOTO: u8 = 0x27;
}

impl CardFace {
    /// TLV encoding: tag, 3-byte length, value.
    pub fn to_tlv(&self) -> Vec<u8> {
        let mut out = vec![];
        let mut put = |t: u8, v: &[u8]| {
            out.push(t);
            out.extend_from_slice(&(v.len() as u32).to_be_bytes()[1..]);
            out.extend_from_slice(v);
        };
        put(tag::NAME, self.name.as_bytes());
        put(tag::ADDRESS, self.address.as_bytes());
        put(tag::BIRTH, self.birth_date.as_bytes());
        put(tag::SEX, &[self.sex]);
        put(tag::EXPIRY, self.expiry.as_bytes());
        put(tag::PHOTO, &self.photo);
        out
    }

    /// Parses [`CardFace::to_tlv`].
    pub fn from_tlv(mut b: &[u8]) -> Result<CardFace, CardError> {
        let mut f = CardFace {
            name: String::new(),
            address: String::new(),
            birth_date: String::new(),
            sex: 0,
            expiry: String::new(),
            photo: vec![],
        };
        let text = |v: &[u8]| {
            String::from_utf8(v.to_vec())
                .map_err(|_| CardError::MalformedResponse("card face text is not UTF-8".into()))
        };
        while !b.is_empty() {
            if b.len() < 4 {
                return Err(CardError::MalformedResponse(
                    "truncated card face TLV".into(),
                ));
            }
            let len = u32::from_be_bytes([0, b[1], b[2], b[3]]) as usize;
            let v = b.get(4..4 + len).ok_or_else(|| {
                CardError::MalformedResponse("card face TLV runs past the end".into())
            })?;
            match b[0] {
                tag::NAME => f.name = text(v)?,
                tag::ADDRESS => f.address = text(v)?,
                tag::BIRTH => f.birth_date = text(v)?,
                tag::SEX => f.sex = v.first().copied().unwrap_or(0),
                tag::EXPIRY => f.expiry = text(v)?,
                tag::PHOTO => f.photo = v.to_vec(),
                _ => {}
            }
            b = &b[4 + len..];
        }
        Ok(f)
    }
}

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
            number_b: verify_number_b(birth, expiry_year, security_code),
            number_b_tries: NUMBER_B_TRIES,
            number_b_verified: false,
            face: face.to_tlv(),
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
