//! The core error type: every way a request or an ingest can fail, by cause.

/// What went wrong, precise enough for the HTTP layer to pick a status and for a user to act.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- the input itself (client errors)
    #[error("{0}")]
    InvalidInput(String),
    #[error("unsupported file type: {0}")]
    UnsupportedType(String),
    #[error("{name} is empty (0 bytes)")]
    EmptyFile { name: String },
    #[error("{name} is larger than the {limit}-byte limit")]
    TooLarge { name: String, limit: u64 },
    #[error("{name} is an encrypted PDF; remove the password protection and upload it again")]
    EncryptedPdf { name: String },
    #[error("{name} is not a readable PDF: {reason}")]
    CorruptPdf { name: String, reason: String },
    #[error("{name} has no extractable text{hint}")]
    NoText { name: String, hint: &'static str },
    #[error("{name} is not valid UTF-8 text (first invalid byte at offset {offset})")]
    InvalidUtf8 { name: String, offset: usize },
    #[error("not found: {0}")]
    NotFound(String),

    // ---- the service and its backends
    #[error(transparent)]
    Store(#[from] sociograph_store::Error),
    #[error(transparent)]
    Model(#[from] sociograph_llm::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
