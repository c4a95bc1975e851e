//! kakunin's typed contract: every request and response body of `/api/v1`, the stable error
//! codes ([`ApiCode`]) and, with the `client` feature (on by default), the two typed clients the
//! parts deployed apart from the server use: [`client::ReaderClient`] (the card reader and
//! kiosk, signing each request with the reader's key) and [`client::StaffClient`] (a bearer
//! token: the terminal, the benchmarks, scripts).
//!
//! The server's handlers take and answer these types and its OpenAPI schemas derive from them,
//! so a renamed field breaks the build of every client, not a patient's visit.

#![deny(missing_docs)]

pub mod audit;
#[cfg(feature = "client")]
pub mod client;
pub mod code;
pub mod declarations;
pub mod eligibility;
pub mod error;
pub mod municipal;
pub mod readers;
pub mod references;
pub mod staff;
pub mod visits;

pub use code::ApiCode;
pub use error::{ErrorBody, ErrorDetail};
