//! The My Number card's applets as the card exposes them (public: OpenSC `card-jpki.c` /
//! `jpki.h`, and the open readers jpki/myna and AokiApp's mynacard).

/// 公的個人認証 (JPKI) applet. OpenSC jpki.h `AID_JPKI`.
pub const AID_JPKI: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// 券面事項確認AP (card-face applet).
pub const AID_CARD_FACE: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02];
/// 券面事項入力補助AP (text-assist applet).
pub const AID_TEXT_ASSIST: [u8; 10] = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];

/// JPKI: user-authentication certificate (readable without PIN).
pub const EF_AUTH_CERT: u16 = 0x000A;
/// JPKI: the CA certificate of the user-authentication certificate.
pub const EF_AUTH_CA: u16 = 0x000B;
/// JPKI: user-authentication private key (used by COMPUTE DIGITAL SIGNATURE after VERIFY).
pub const EF_AUTH_KEY: u16 = 0x0017;
/// JPKI: user-authentication PIN (4 digits, 3 tries). OpenSC `JPKI_AUTH_PIN`.
pub const EF_AUTH_PIN: u16 = 0x0018;
/// JPKI: signature certificate (absent on face-auth cards).
pub const EF_SIGN_CERT: u16 = 0x0001;
/// JPKI: signature key.
pub const EF_SIGN_KEY: u16 = 0x001A;
/// JPKI: signature password (6–16 characters, 5 tries).
pub const EF_SIGN_PIN: u16 = 0x001B;
/// Card-face applet: the card face (photo, data, signature).
pub const EF_CARD_FACE: u16 = 0x0002;
/// Card-face applet: 照合番号B, which opens EF 0002.
pub const EF_VERIFY_B: u16 = 0x0012;

/// Tries of the user-authentication PIN. OpenSC `JPKI_AUTH_PIN_MAX_TRIES`.
pub const AUTH_PIN_TRIES: u8 = 3;

/// INS codes used.
pub mod ins {
    /// SELECT FILE.
    pub const SELECT: u8 = 0xA4;
    /// READ BINARY.
    pub const READ_BINARY: u8 = 0xB0;
    /// VERIFY (PIN or 照合番号B).
    pub const VERIFY: u8 = 0x20;
    /// COMPUTE DIGITAL SIGNATURE, with CLA 80 (OpenSC `jpki_compute_signature`).
    pub const COMPUTE_SIGNATURE: u8 = 0x2A;
}
