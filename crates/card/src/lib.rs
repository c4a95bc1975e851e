//! kakunin's card layer (SPEC §9): ISO 7816-4 APDUs ([`apdu`]), the My Number card's applets
//! ([`mynumber`]), a software card that speaks them ([`virtual_card`]), and the client that reads
//! a card through any [`CardChannel`] ([`client`]) — the virtual card today, PC/SC readers next.

pub mod apdu;
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
    MalformedCommand(String),
    #[error("malformed response APDU: {0}; place the card again")]
    MalformedResponse(String),
    #[error("the card was removed; place it on the reader again")]
    Removed,
    #[error("card reader error: {0}")]
    Transport(String),
    #[error("wrong PIN; {tries_left} tries left before it locks")]
    PinWrong { tries_left: u8 },
    #[error("the PIN is locked; it can only be reset at the municipal counter")]
    PinLocked,
    #[error("this is a face-auth card: it has no usable PIN; use face recognition or visual confirmation")]
    PinNotAvailable,
    #[error("wrong 照合番号B (birth date, expiry year, security code); {tries_left} tries left")]
    VerifyNumberBWrong { tries_left: u8 },
    #[error("the file or applet is not on this card")]
    NotFound,
    #[error("the card refused: status {0:04X}")]
    Refused(u16),
}
