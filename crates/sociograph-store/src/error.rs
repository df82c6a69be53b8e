//! The store's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("vector index error: {0}")]
    Vector(String),
    #[error(
        "the data directory was built with embedder `{stored}` but this process uses `{requested}`; \
         start with the same embedder, or ingest into a new --data-dir"
    )]
    EmbedderMismatch { stored: String, requested: String },
    #[error("embedding has {got} dimensions, the index expects {expected}")]
    DimensionMismatch { expected: usize, got: usize },
    #[error("graph.db has schema version {found}, newer than this binary supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error(
        "the data directory {0} is in use by another sociograph process (a server or an ingest)"
    )]
    Locked(PathBuf),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
