//! Backups of a data directory to object storage (S3 or any S3-compatible server, or a local
//! directory), and verified restores.
//!
//! A backup is a consistent snapshot ([`sociograph_store::snapshot`]) compressed file by file
//! and uploaded under `backups/YYYY-MM-DD/<YYYYMMDDTHHMMSSZ>/`, then its `manifest.json` (format
//! version, creation time, versions, counts, and the size and SHA-256 of every file, stored and
//! original), then the `backups/latest` pointer. The manifest goes last: an interrupted upload
//! leaves no manifest, and a directory without one is never taken for a backup.
//!
//! A restore downloads into a staging directory beside the target, checks every size and
//! checksum, runs `PRAGMA integrity_check`, compares the database with the manifest, opens it as
//! a store and runs a smoke query, and only then swaps it into place. A refusal names the file
//! and the reason; the existing data is not touched.
//!
//! The same format carries the scale-out topology: [`snapshots`] (the worker publishes, API
//! replicas follow), [`queue`] (jobs from API tasks to the worker) and [`lease`] (exactly one
//! writer).

mod backup;
pub mod lease;
mod lifecycle;
mod location;
mod manifest;
pub mod queue;
mod restore;
pub mod snapshots;
mod status;
mod time;

pub use backup::{BackupReport, backup};
pub use lifecycle::{LifecycleRule, apply_lifecycle, read_back};
pub use location::{Location, Selector};
pub use manifest::{FORMAT_VERSION, Manifest, ManifestCounts, ManifestFile};
pub use restore::{RestoreReport, VerifyReport, restore, verify};
pub use status::{BackupStatus, prune, status};
pub use time::Utc;

use std::path::PathBuf;

/// What can go wrong with a backup or a restore.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad URL or argument.
    #[error("{0}")]
    Invalid(String),
    /// The backup cannot be used: missing, partial, corrupt or incompatible.
    #[error("{0}")]
    Refused(String),
    #[error("object storage: {0}")]
    Storage(#[from] object_store::Error),
    #[error(transparent)]
    Store(#[from] sociograph_store::Error),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Run blocking work (SQLite, compression, file copies) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Invalid(format!("background task failed: {e}")))?
}
