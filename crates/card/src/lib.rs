//! kakunin's card layer (SPEC §9): ISO 7816-4 APDUs ([`apdu`]), the My Number card's applets
//! ([`mynumber`]), a software card that speaks them ([`virtual_card`]), and the client that reads
//! a card through any [`CardChannel`] ([`client`]) — the virtual card today, PC/SC readers next.

#![deny(missing_docs)]

pub mod apdu;
pub mod card_face;
pub mod client;
pub mod mynumber;
#[cfg(feature = "pcsc")]
pub mod pcsc_channel;
pub mod virtual_card;
pub mod vpcd;

/// Something that carries APDUs to a card and back.
pub trait CardChannel {
    /// Sends one command APDU and returns the response APDU (data ‖ SW1 SW2).
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError>;
}

/// A boxed channel is a channel (the kiosk holds virtual or PC/SC cards alike).
impl<C: CardChannel + ?Sized> CardChannel for Box<C> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, CardError> {
        (**self).transmit(command)
    }
}

/// What went wrong with a card. Messages say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("malformed command APDU: {0}")]
    /// A command could not be encoded.
    MalformedCommand(String),
    #[error("malformed response APDU: {0}; place the card again")]
    /// The card's answer could not be decoded.
    MalformedResponse(String),
    #[error("the card was removed; place it on the reader again")]
    /// The card left the reader.
    Removed,
    #[error("card reader error: {0}")]
    /// The reader or its driver failed.
    Transport(String),
    #[error("wrong PIN; {tries_left} tries left before it locks")]
    /// Wrong PIN.
    PinWrong {
        /// Tries left before it locks.
        tries_left: u8,
    },
    #[error("the PIN is locked; it can only be reset at the municipal counter")]
    /// The PIN is locked.
    PinLocked,
    #[error("this is a face-auth card: it has no usable PIN; use face recognition or visual confirmation")]
    /// A face-auth card: no PIN to verify.
    PinNotAvailable,
    #[error("wrong 照合番号B (birth date, expiry year, security code); {tries_left} tries left")]
    /// Wrong 照合番号B.
    VerifyNumberBWrong {
        /// Tries left before the card-face applet locks.
        tries_left: u8,
    },
    #[error("照合番号B not sent to the card: {0}")]
    /// The card-face applet was not tried (a lock-safe rule refused: few tries left, an earlier
    /// failure, an unsure read); nothing was sent.
    NumberBNotTried(String),
    #[error("the card-face applet is locked; the holder has it reset at the municipal counter")]
    /// The card-face applet is locked.
    NumberBLocked,
    #[error("the file or applet is not on this card")]
    /// No such file or applet.
    NotFound,
    #[error("the card refused: status {0:04X}")]
    /// Any other refusal (its status word).
    Refused(u16),
}
