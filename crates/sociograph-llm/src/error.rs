//! Errors from model access.

/// What went wrong talking to (or loading) a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("model configuration: {0}")]
    Config(String),
    #[error("could not load the model from {path}: {reason}")]
    ModelLoad { path: String, reason: String },
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("the model server at {url} answered {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the model server at {url} did not answer within {seconds}s")]
    Timeout { url: String, seconds: u64 },
    #[error("could not reach the model server at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("unexpected reply from the model server: {0}")]
    BadReply(String),
    #[error("all {limit} model request slots are busy; try again shortly")]
    Busy { limit: usize },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether retrying the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Status { status, .. } => *status == 429 || *status >= 500,
            Error::Timeout { .. } | Error::Connect { .. } => true,
            Error::Config(_)
            | Error::ModelLoad { .. }
            | Error::Inference(_)
            | Error::BadReply(_)
            | Error::Busy { .. } => false,
        }
    }
}
