//! `manifest.json`: what a backup holds, written last.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The manifest format this binary writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format_version: u32,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub created_at_unix: u64,
    /// The `sociograph` version that made it.
    pub source_version: String,
    /// `graph.db`'s migration level (`PRAGMA user_version`).
    pub schema_version: i64,
    /// The `graph.db` write generation captured.
    pub generation: u64,
    /// `embedder:dimensions` the vectors were made with.
    pub embedder: Option<String>,
    pub counts: ManifestCounts,
    /// Whether `vector_store/` is included; if not, a restore rebuilds it from `graph.db`.
    pub index_included: bool,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestCounts {
    pub documents: u64,
    pub chunks: u64,
    pub entities: u64,
    pub relations: u64,
}

impl From<sociograph_store::Counts> for ManifestCounts {
    fn from(c: sociograph_store::Counts) -> Self {
        ManifestCounts {
            documents: c.documents,
            chunks: c.chunks,
            entities: c.entities,
            relations: c.relations,
        }
    }
}

/// One file of the data directory as stored in the backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestFile {
    /// Path in the data directory, `/`-separated (`graph.db`, `vector_store/index.usearch`).
    pub path: String,
    /// Object name in the backup, relative to it (`graph.db.gz`).
    pub object: String,
    /// Size and SHA-256 of the stored (gzip) object.
    pub size: u64,
    pub sha256: String,
    /// Size and SHA-256 of the file once decompressed.
    pub original_size: u64,
    pub original_sha256: String,
}

impl Manifest {
    /// Parse a manifest, refusing one from a newer format before reading its fields (which may
    /// have changed), and one whose paths could escape the restore directory.
    pub fn parse(bytes: &[u8], whence: &str) -> Result<Manifest> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::Refused(format!("{whence}: not valid JSON ({e})")))?;
        let version = value["format_version"].as_u64().ok_or_else(|| {
            Error::Refused(format!(
                "{whence}: no format_version; not a sociograph backup"
            ))
        })?;
        if version > u64::from(FORMAT_VERSION) {
            return Err(Error::Refused(format!(
                "{whence}: backup format {version} is newer than this sociograph reads \
                 ({FORMAT_VERSION}); restore it with a newer release"
            )));
        }
        let manifest: Manifest = serde_json::from_value(value)
            .map_err(|e| Error::Refused(format!("{whence}: malformed manifest ({e})")))?;
        for file in &manifest.files {
            for name in [&file.path, &file.object] {
                let safe = !name.is_empty()
                    && !name.starts_with('/')
                    && name
                        .split('/')
                        .all(|part| !part.is_empty() && part != "." && part != "..");
                if !safe {
                    return Err(Error::Refused(format!(
                        "{whence}: unsafe file name {name:?} in the manifest"
                    )));
                }
            }
        }
        if !manifest.files.iter().any(|f| f.path == "graph.db") {
            return Err(Error::Refused(format!(
                "{whence}: the manifest lists no graph.db"
            )));
        }
        Ok(manifest)
    }
}
