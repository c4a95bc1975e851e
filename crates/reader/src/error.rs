//! The reader's one error type.

use kakunin_api::client::ClientError;

/// What stopped the reader. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    /// The server refused or could not be reached.
    #[error(transparent)]
    Server(#[from] ClientError),
    /// The card refused or could not be read.
    #[error("card: {0}")]
    Card(#[from] kakunin_card::CardError),
    /// The face engine failed (not a non-match: a broken model or image).
    #[error("face engine: {0}")]
    Face(#[from] kakunin_face::FaceError),
    /// The demo CA could not certify a demo card.
    #[error("demo card: {0}")]
    Evidence(#[from] kakunin_evidence::EvidenceError),
    /// A file the reader needs (its key, a photo, a frame).
    #[error("{what} {path}: {source}")]
    File {
        /// What the file is.
        what: &'static str,
        /// Where.
        path: std::path::PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The reader's key file holds no key.
    #[error("reader key {0}: not a reader key; remove it to create a new one (the new reader is enrolled again)")]
    BadKey(std::path::PathBuf),
    /// Anything else, said in words.
    #[error("{0}")]
    Other(String),
}

/// Result alias.
pub type Result<T, E = ReaderError> = std::result::Result<T, E>;
