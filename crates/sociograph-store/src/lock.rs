//! An exclusive lock on a data directory: one writer process at a time.
//!
//! A server and a CLI ingest on the same directory would each hold their own copy of the vector
//! index; the second writer is refused instead of silently diverging. The OS releases the lock
//! when the process dies, so a crash never leaves a stale lock behind.

use std::fs::{File, TryLockError};
use std::path::Path;

use crate::{Error, Result};

/// Held for as long as the process writes to the data directory; released on drop.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Take the lock or fail at once with [`Error::Locked`].
    pub fn acquire(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        let path = data_dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(Error::Locked(data_dir.to_path_buf())),
            Err(TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }
}
