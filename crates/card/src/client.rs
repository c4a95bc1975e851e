//! Reading a My Number card through any [`CardChannel`]: the reader agent's view of the card.

use crate::apdu::{Command, Response, StatusWord};
use crate::mynumber::*;
use crate::virtual_card::CardFace;
use crate::{CardChannel, CardError};

/// A card on a channel.
pub struct MyNumberCard<C: CardChannel> {
    channel: C,
    /// Bytes asked per READ BINARY: 255 (short APDUs, every reader) or more
    /// with extended-length APDUs (see [`MyNumberCard::with_extended_reads`]).
    chunk: usize,
}

fn refused(sw: StatusWord) -> CardError {
    match sw {
        StatusWord::FileNotFound => CardError::NotFound,
        other => CardError::Refused(other.to_u16()),
    }
}

impl<C: CardChannel> MyNumberCard<C> {
    /// Wraps a channel.
    pub fn new(channel: C) -> Self {
        MyNumberCard {
            channel,
            chunk: 255,
        }
    }

    /// Reads the card face with extended-length APDUs of `chunk` bytes (fewer round trips; the
    /// reader and card must support extended length).
    pub fn with_extended_reads(mut self, chunk: usize) -> Self {
        self.chunk = chunk.clamp(1, 0x7FFF);
        self
    }

    /// The channel back.
    pub fn into_inner(self) -> C {
        self.channel
    }

    fn send(&mut self, c: Command) -> Result<Response, CardError> {
        Response::parse(&self.channel.transmit(&c.to_bytes()?)?)
    }

    fn ok(&mut self, c: Command) -> Result<Vec<u8>, CardError> {
        let r = self.send(c)?;
        match r.sw {
            StatusWord::Ok => Ok(r.data),
            sw => Err(refused(sw)),
        }
    }

    fn select_applet(&mut self, aid: &[u8]) -> Result<(), CardError> {
        self.ok(Command::new(
            0x00,
            ins::SELECT,
            0x04,
            0x0C,
            aid.to_vec(),
            None,
        ))
        .map(|_| ())
    }

    fn select_ef(&mut self, ef: u16) -> Result<(), CardError> {
        self.ok(Command::new(
            0x00,
            ins::SELECT,
            0x02,
            0x0C,
            ef.to_be_bytes().to_vec(),
            None,
        ))
        .map(|_| ())
    }

    /// Reads a whole EF whose size is known (`len`), in chunks of up to 255 bytes.
    fn read(&mut self, len: usize) -> Result<Vec<u8>, CardError> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let n = (len - out.len()).min(self.chunk);
            let off = out.len() as u16;
            let chunk = self.ok(Command::new(
                0x00,
                ins::READ_BINARY,
                (off >> 8) as u8,
                off as u8,
                vec![],
                Some(n),
            ))?;
            if chunk.is_empty() {
                return Err(CardError::MalformedResponse(
                    "READ BINARY returned no data before the end of the file".into(),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        out.truncate(len);
        Ok(out)
    }

    /// Reads a DER structure: its length from the first 4 bytes (as OpenSC's driver does).
    fn read_der(&mut self) -> Result<Vec<u8>, CardError> {
        let head = self.ok(Command::new(0x00, ins::READ_BINARY, 0, 0, vec![], Some(4)))?;
        if head.len() < 4 || head[0] != 0x30 || head[1] != 0x82 {
            return Err(CardError::MalformedResponse(
                "the certificate file does not start with a DER SEQUENCE".into(),
            ));
        }
        let len = usize::from(u16::from_be_bytes([head[2], head[3]])) + 4;
        self.read(len)
    }

    /// The user-authentication certificate (DER), readable without PIN.
    pub fn read_auth_certificate(&mut self) -> Result<Vec<u8>, CardError> {
        self.select_applet(&AID_JPKI)?;
        self.select_ef(EF_AUTH_CERT)?;
        self.read_der()
    }

    /// Tries left of the user-authentication PIN, without spending one.
    pub fn pin_tries_left(&mut self) -> Result<u8, CardError> {
        self.select_applet(&AID_JPKI)?;
        self.select_ef(EF_AUTH_PIN)?;
        let r = self.send(Command::new(0x00, ins::VERIFY, 0x00, 0x80, vec![], None))?;
        match r.sw {
            StatusWord::VerifyFailed { tries_left } => Ok(tries_left),
            StatusWord::ReferenceDataNotUsable => Err(CardError::PinLocked),
            sw => Err(refused(sw)),
        }
    }

    /// VERIFY with the user-authentication PIN, then COMPUTE DIGITAL SIGNATURE over `challenge`
    /// with the user-authentication key. A face-auth card refuses the PIN.
    pub fn sign_with_pin(
        &mut self,
        pin: &str,
        challenge: &[u8],
        face_auth: bool,
    ) -> Result<Vec<u8>, CardError> {
        self.select_applet(&AID_JPKI)?;
        self.select_ef(EF_AUTH_PIN)?;
        let r = self.send(Command::new(
            0x00,
            ins::VERIFY,
            0x00,
            0x80,
            pin.as_bytes().to_vec(),
            None,
        ))?;
        match r.sw {
            StatusWord::Ok => {}
            StatusWord::VerifyFailed { tries_left: 0 } => return Err(CardError::PinLocked),
            StatusWord::VerifyFailed { tries_left } => {
                return Err(CardError::PinWrong { tries_left })
            }
            StatusWord::ReferenceDataNotUsable if face_auth => {
                return Err(CardError::PinNotAvailable)
            }
            StatusWord::ReferenceDataNotUsable | StatusWord::AuthenticationBlocked => {
                return Err(CardError::PinLocked)
            }
            sw => return Err(refused(sw)),
        }
        self.select_ef(EF_AUTH_KEY)?;
        self.ok(Command::new(
            0x80,
            ins::COMPUTE_SIGNATURE,
            0x00,
            0x80,
            challenge.to_vec(),
            Some(256),
        ))
    }

    /// How many wrong 照合番号B the card-face applet still takes before it locks (an empty VERIFY:
    /// nothing is spent). 0 when locked.
    pub fn number_b_tries_left(&mut self) -> Result<u8, CardError> {
        self.select_applet(&AID_CARD_FACE)?;
        self.select_ef(EF_VERIFY_B)?;
        let r = self.send(Command::new(0x00, ins::VERIFY, 0x00, 0x80, vec![], None))?;
        match r.sw {
            StatusWord::VerifyFailed { tries_left } => Ok(tries_left),
            StatusWord::ReferenceDataNotUsable | StatusWord::AuthenticationBlocked => Ok(0),
            sw => Err(refused(sw)),
        }
    }

    /// Opens the card-face applet with `number_b` only if the lock-safe rule allows it
    /// ([`kakunin_core::card_face::may_try`]: the tries left are read first; `failed_before` is
    /// how many tries failed in this visit), once; then reads the card face. Answers the tries
    /// left before the try, with the outcome.
    pub fn open_card_face(
        &mut self,
        number_b: &str,
        source: kakunin_core::card_face::Source,
        failed_before: u32,
    ) -> (Option<u8>, Result<CardFace, CardError>) {
        use kakunin_core::card_face::{may_try, Decision};
        let tries = match self.number_b_tries_left() {
            Ok(t) => t,
            Err(e) => return (None, Err(e)),
        };
        let outcome = match may_try(source, tries, failed_before) {
            Decision::Try => self.read_card_face(number_b),
            Decision::ReadAgain => Err(CardError::NumberBNotTried(
                "the number read from the card's face is not sure enough; show the card again"
                    .into(),
            )),
            Decision::ToStaff(_) if tries == 0 => Err(CardError::NumberBLocked),
            Decision::ToStaff(why) => Err(CardError::NumberBNotTried(why)),
        };
        (Some(tries), outcome)
    }

    /// Opens the card-face applet with 照合番号B and reads the card face (with the photo). Sends
    /// the VERIFY whatever the tries left: callers that may guess use [`Self::open_card_face`].
    pub fn read_card_face(&mut self, number_b: &str) -> Result<CardFace, CardError> {
        self.select_applet(&AID_CARD_FACE)?;
        self.select_ef(EF_VERIFY_B)?;
        let r = self.send(Command::new(
            0x00,
            ins::VERIFY,
            0x00,
            0x80,
            number_b.as_bytes().to_vec(),
            None,
        ))?;
        match r.sw {
            StatusWord::Ok => {}
            StatusWord::VerifyFailed { tries_left: 0 } => return Err(CardError::NumberBLocked),
            StatusWord::VerifyFailed { tries_left } => {
                return Err(CardError::VerifyNumberBWrong { tries_left })
            }
            StatusWord::ReferenceDataNotUsable | StatusWord::AuthenticationBlocked => {
                return Err(CardError::NumberBLocked)
            }
            sw => return Err(refused(sw)),
        }
        self.select_ef(EF_CARD_FACE)?;
        // The virtual card's EF 0002 is a TLV list; read in chunks until a short read.
        let mut data = vec![];
        loop {
            let off = data.len() as u16;
            let r = self.send(Command::new(
                0x00,
                ins::READ_BINARY,
                (off >> 8) as u8 & 0x7F,
                off as u8,
                vec![],
                Some(self.chunk),
            ))?;
            match r.sw {
                StatusWord::Ok => {}
                StatusWord::WrongOffset => break,
                sw => return Err(refused(sw)),
            }
            let short = r.data.len() < self.chunk;
            data.extend_from_slice(&r.data);
            if short || data.len() >= 0x7FFF {
                break;
            }
        }
        CardFace::from_ef(&data)
    }
}
