//! kakunin's card-reader agent and kiosk service: the part deployed beside the card reader, apart
//! from the server. It holds the reader's own Ed25519 key (enrolled with the server on first
//! start), reads the card (its certificate without PIN; the card-face photo with 照合番号B),
//! runs the face engine on camera frames, signs what it attests with the server's single-use
//! nonce, and drives each visit through the typed [`kakunin_api::client::ReaderClient`].
//!
//! - [`kiosk`]: the patient's screen and its steps, one card slot ([`KioskConfig`]).
//! - [`agent`]: whole visits from the command line (`kakunin reader demo`).
//! - [`enrol`]: the reader's key file and its enrolment.
//! - [`demo`]: the demo cards (their certificates from the demo CA, their card face).

#![deny(missing_docs)]

pub mod agent;
pub mod demo;
pub mod enrol;
mod error;
pub mod kiosk;

pub use error::{ReaderError, Result};
pub use kiosk::KioskConfig;
