//! The eligibility terminal's folder interface (SPEC §13), so that existing receipt computers and
//! electronic charts work with kakunin unchanged: they drop `OQSsiquc01req_*.xml` into `req/`,
//! and the answer appears as `OQSsiquc01res_*.xml` in `res/`.

#![deny(missing_docs)]

pub mod codes;
pub mod folder;
pub mod kinds;
pub mod message;
pub mod replies;
pub mod service;
pub mod tree;

/// Why a request could not be answered normally. Each becomes an error response
/// (`SegmentOfResult` 9) with its code and message; none is ever silent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TerminalError {
    #[error("encoding: {0}")]
    /// The file is not in its declared encoding.
    Encoding(String),
    #[error("malformed XML: {0}")]
    /// The XML cannot be parsed.
    Xml(String),
    #[error("{0}")]
    /// A field is missing or malformed (the message names it).
    Field(String),
    #[error("{0}")]
    /// The folder cannot be read or written (the message says which file).
    Folder(String),
    #[error("{0}")]
    /// The eligibility service refused or could not be reached.
    Unavailable(String),
}

impl TerminalError {
    /// The `ErrorCode` written in the response.
    pub fn code(&self) -> &'static str {
        match self {
            TerminalError::Encoding(_) => "KKN-E001",
            TerminalError::Xml(_) => "KKN-E002",
            TerminalError::Field(_) => "KKN-E003",
            TerminalError::Folder(_) => "KKN-E004",
            TerminalError::Unavailable(_) => "KKN-E005",
        }
    }
}
