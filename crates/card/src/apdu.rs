//! ISO/IEC 7816-4 command and response APDUs: short and extended lengths, parsed and serialised,
//! and status words as a typed enum.

use crate::CardError;

/// A command APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// First parameter.
    pub p1: u8,
    /// Second parameter.
    pub p2: u8,
    /// Command data (Lc is its length); empty for cases 1 and 2.
    pub data: Vec<u8>,
    /// Expected response length (Ne); `None` for cases 1 and 3. `Some(256)` (short) or
    /// `Some(65536)` (extended) is "as much as there is", encoded as Le = 00 / 0000.
    pub le: Option<usize>,
}

impl Command {
    /// A command.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8, data: Vec<u8>, le: Option<usize>) -> Self {
        Command {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        }
    }

    /// Whether the command needs extended length fields.
    pub fn is_extended(&self) -> bool {
        self.data.len() > 255 || self.le.is_some_and(|n| n > 256)
    }

    /// The bytes on the wire (short form when possible).
    pub fn to_bytes(&self) -> Result<Vec<u8>, CardError> {
        if self.data.len() > 65_535 || self.le.is_some_and(|n| n == 0 || n > 65_536) {
            return Err(CardError::MalformedCommand(
                "data or Le out of range".into(),
            ));
        }
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        let ext = self.is_extended();
        if !self.data.is_empty() {
            if ext {
                out.push(0);
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
            } else {
                out.push(self.data.len() as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(n) = self.le {
            if ext {
                if self.data.is_empty() {
                    out.push(0);
                }
                out.extend_from_slice(&((n % 65_536) as u16).to_be_bytes());
            } else {
                out.push((n % 256) as u8);
            }
        }
        Ok(out)
    }

    /// Parses a command APDU (cases 1, 2S, 3S, 4S, 2E, 3E, 4E).
    pub fn parse(b: &[u8]) -> Result<Command, CardError> {
        let bad = |why: &str| CardError::MalformedCommand(why.to_owned());
        if b.len() < 4 {
            return Err(bad("shorter than the 4-byte header"));
        }
        let (cla, ins, p1, p2) = (b[0], b[1], b[2], b[3]);
        let body = &b[4..];
        let le_short = |v: u8| if v == 0 { 256 } else { usize::from(v) };
        let le_ext = |hi: u8, lo: u8| match u16::from_be_bytes([hi, lo]) {
            0 => 65_536,
            n => usize::from(n),
        };
        let (data, le) = match body.len() {
            0 => (vec![], None),
            1 => (vec![], Some(le_short(body[0]))),
            _ if body[0] != 0 => {
                let lc = usize::from(body[0]);
                match body.len() - 1 {
                    n if n == lc => (body[1..].to_vec(), None),
                    n if n == lc + 1 => (body[1..1 + lc].to_vec(), Some(le_short(body[1 + lc]))),
                    _ => return Err(bad("Lc does not match the data length")),
                }
            }
            3 => (vec![], Some(le_ext(body[1], body[2]))),
            n if n >= 3 => {
                let lc = usize::from(u16::from_be_bytes([body[1], body[2]]));
                if lc == 0 {
                    return Err(bad("extended Lc of zero"));
                }
                match n - 3 {
                    m if m == lc => (body[3..].to_vec(), None),
                    m if m == lc + 2 => (
                        body[3..3 + lc].to_vec(),
                        Some(le_ext(body[3 + lc], body[4 + lc])),
                    ),
                    _ => return Err(bad("extended Lc does not match the data length")),
                }
            }
            _ => return Err(bad("truncated length field")),
        };
        Ok(Command {
            cla,
            ins,
            p1,
            p2,
            data,
            le,
        })
    }
}

/// A status word (SW1 SW2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusWord {
    /// 9000.
    Ok,
    /// 61xx: xx more bytes available (GET RESPONSE).
    BytesRemaining(u8),
    /// 63Cx: verification failed, x tries left.
    VerifyFailed {
        /// Tries left before the card locks.
        tries_left: u8,
    },
    /// 6700.
    WrongLength,
    /// 6982: security status not satisfied (e.g. PIN not verified).
    SecurityStatusNotSatisfied,
    /// 6983: authentication method blocked.
    AuthenticationBlocked,
    /// 6984: reference data not usable — the My Number card's answer for a locked PIN, and for a
    /// PIN on a face-auth card (its PIN is disabled).
    ReferenceDataNotUsable,
    /// 6985: conditions of use not satisfied.
    ConditionsNotSatisfied,
    /// 6A80: incorrect data.
    IncorrectData,
    /// 6A81: function not supported.
    FunctionNotSupported,
    /// 6A82: file or application not found.
    FileNotFound,
    /// 6A86: incorrect P1/P2.
    IncorrectP1P2,
    /// 6Cxx: wrong Le, xx is the right one.
    WrongLe(u8),
    /// 6B00: offset outside the file.
    WrongOffset,
    /// 6D00: instruction not supported.
    InsNotSupported,
    /// 6E00: class not supported.
    ClaNotSupported,
    /// Anything else.
    Other(u16),
}

impl StatusWord {
    /// From SW1 SW2.
    pub fn from_u16(sw: u16) -> Self {
        match sw {
            0x9000 => StatusWord::Ok,
            0x6100..=0x61FF => StatusWord::BytesRemaining(sw as u8),
            0x63C0..=0x63CF => StatusWord::VerifyFailed {
                tries_left: (sw & 0xF) as u8,
            },
            0x6700 => StatusWord::WrongLength,
            0x6982 => StatusWord::SecurityStatusNotSatisfied,
            0x6983 => StatusWord::AuthenticationBlocked,
            0x6984 => StatusWord::ReferenceDataNotUsable,
            0x6985 => StatusWord::ConditionsNotSatisfied,
            0x6A80 => StatusWord::IncorrectData,
            0x6A81 => StatusWord::FunctionNotSupported,
            0x6A82 => StatusWord::FileNotFound,
            0x6A86 => StatusWord::IncorrectP1P2,
            0x6B00 => StatusWord::WrongOffset,
            0x6C00..=0x6CFF => StatusWord::WrongLe(sw as u8),
            0x6D00 => StatusWord::InsNotSupported,
            0x6E00 => StatusWord::ClaNotSupported,
            other => StatusWord::Other(other),
        }
    }

    /// As SW1 SW2.
    pub fn to_u16(self) -> u16 {
        match self {
            StatusWord::Ok => 0x9000,
            StatusWord::BytesRemaining(n) => 0x6100 | u16::from(n),
            StatusWord::VerifyFailed { tries_left } => 0x63C0 | u16::from(tries_left & 0xF),
            StatusWord::WrongLength => 0x6700,
            StatusWord::SecurityStatusNotSatisfied => 0x6982,
            StatusWord::AuthenticationBlocked => 0x6983,
            StatusWord::ReferenceDataNotUsable => 0x6984,
            StatusWord::ConditionsNotSatisfied => 0x6985,
            StatusWord::IncorrectData => 0x6A80,
            StatusWord::FunctionNotSupported => 0x6A81,
            StatusWord::FileNotFound => 0x6A82,
            StatusWord::IncorrectP1P2 => 0x6A86,
            StatusWord::WrongOffset => 0x6B00,
            StatusWord::WrongLe(n) => 0x6C00 | u16::from(n),
            StatusWord::InsNotSupported => 0x6D00,
            StatusWord::ClaNotSupported => 0x6E00,
            StatusWord::Other(v) => v,
        }
    }
}

/// A response APDU: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Response data.
    pub data: Vec<u8>,
    /// Status word.
    pub sw: StatusWord,
}

impl Response {
    /// A response.
    pub fn new(data: Vec<u8>, sw: StatusWord) -> Self {
        Response { data, sw }
    }

    /// Parses `data ‖ SW1 SW2`.
    pub fn parse(b: &[u8]) -> Result<Response, CardError> {
        if b.len() < 2 {
            return Err(CardError::MalformedResponse(format!(
                "{} bytes, a response has at least the 2-byte status word",
                b.len()
            )));
        }
        let (data, sw) = b.split_at(b.len() - 2);
        Ok(Response {
            data: data.to_vec(),
            sw: StatusWord::from_u16(u16::from_be_bytes([sw[0], sw[1]])),
        })
    }

    /// `data ‖ SW1 SW2`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = self.data.clone();
        v.extend_from_slice(&self.sw.to_u16().to_be_bytes());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_seven_cases_of_iso_7816_3() {
        // (bytes, data length, Ne)
        let cases: [(&[u8], usize, Option<usize>); 8] = [
            (&[0x00, 0xA4, 0x04, 0x0C], 0, None),                   // case 1
            (&[0x00, 0xB0, 0x00, 0x00, 0x00], 0, Some(256)),        // case 2S, Le=00
            (&[0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A], 2, None), // case 3S
            (&[0x80, 0x2A, 0x00, 0x80, 0x01, 0xAA, 0x00], 1, Some(256)), // case 4S
            (&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x08, 0x00], 0, Some(2048)), // case 2E
            (&[0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00], 0, Some(65536)), // case 2E, Le=0000
            (&[0x00, 0x20, 0x00, 0x80, 0x00, 0x00, 0x01, 0x31], 1, None), // case 3E
            (
                &[0x80, 0x2A, 0x00, 0x80, 0x00, 0x00, 0x01, 0xAA, 0x01, 0x00],
                1,
                Some(256),
            ), // case 4E
        ];
        for (bytes, n, le) in cases {
            let c = Command::parse(bytes).unwrap();
            assert_eq!((c.data.len(), c.le), (n, le), "{bytes:02X?}");
            // Short forms round-trip exactly; extended ones re-encode short when they fit.
            let again = Command::parse(&c.to_bytes().unwrap()).unwrap();
            assert_eq!(again, c);
        }
        assert_eq!(
            Command::new(0, 0xB0, 0, 0, vec![], Some(4096))
                .to_bytes()
                .unwrap(),
            [0, 0xB0, 0, 0, 0, 0x10, 0x00]
        );
        assert_eq!(
            Command::new(0, 0xD6, 0, 0, vec![7; 300], None)
                .to_bytes()
                .unwrap()[4..7],
            [0, 0x01, 0x2C]
        );
    }

    #[test]
    fn malformed_commands_and_responses_are_refused() {
        for bad in [
            &[][..],
            &[0x00, 0xA4, 0x04],
            &[0, 0xA4, 4, 0x0C, 0x05, 1, 2],
            &[0, 0xA4, 4, 0x0C, 0x02, 1, 2, 3, 4],
            &[0, 0xB0, 0, 0, 0, 1],
            &[0, 0xD6, 0, 0, 0, 0, 0, 9],
        ] {
            assert!(
                matches!(Command::parse(bad), Err(CardError::MalformedCommand(_))),
                "{bad:02X?}"
            );
        }
        assert!(matches!(
            Response::parse(&[0x90]),
            Err(CardError::MalformedResponse(_))
        ));
        assert!(Command::new(0, 0, 0, 0, vec![], Some(0))
            .to_bytes()
            .is_err());
    }

    #[test]
    fn status_words() {
        for sw in [
            0x9000u16, 0x6110, 0x63C2, 0x6700, 0x6982, 0x6983, 0x6984, 0x6985, 0x6A80, 0x6A81,
            0x6A82, 0x6A86, 0x6B00, 0x6C10, 0x6D00, 0x6E00, 0x6F00,
        ] {
            assert_eq!(StatusWord::from_u16(sw).to_u16(), sw);
        }
        assert_eq!(
            StatusWord::from_u16(0x63C1),
            StatusWord::VerifyFailed { tries_left: 1 }
        );
        let r = Response::parse(&[1, 2, 0x90, 0x00]).unwrap();
        assert_eq!((r.data, r.sw), (vec![1, 2], StatusWord::Ok));
    }

    proptest! {
        #[test]
        fn any_command_round_trips(cla: u8, ins: u8, p1: u8, p2: u8, data in proptest::collection::vec(any::<u8>(), 0..600), le in proptest::option::of(1usize..=65536)) {
            let c = Command::new(cla, ins, p1, p2, data, le);
            prop_assert_eq!(Command::parse(&c.to_bytes().unwrap()).unwrap(), c);
        }

        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Command::parse(&bytes);
            let _ = Response::parse(&bytes);
        }
    }
}
