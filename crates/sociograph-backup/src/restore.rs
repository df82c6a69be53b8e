//! `sociograph restore --from URL` and `sociograph backup verify URL`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use flate2::read::GzDecoder;
use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use sociograph_store::snapshot::{check_database, smoke_check};
use sociograph_store::{DataDirLock, Store, StoreOptions};

use crate::backup::{LATEST, MANIFEST};
use crate::manifest::{Manifest, ManifestCounts};
use crate::time::Utc;
use crate::{Error, Location, Result, Selector, blocking};

/// What a verification found.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// `backups/YYYY-MM-DD/<stamp>`, relative to the target.
    pub key: String,
    pub url: String,
    pub manifest: Manifest,
    /// Whether the vector index had to be rebuilt from `graph.db`.
    pub index_rebuilt: bool,
    pub seconds: f64,
    /// When the verification was recorded in the target (Unix seconds), or why it was not.
    pub recorded: Result<u64, String>,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreReport {
    pub verified: VerifyReport,
    /// Where the data directory's previous contents were moved, if it had any.
    pub previous: Option<PathBuf>,
}

/// Resolve the selector to a backup key.
async fn resolve(from: &Location, selector: &Selector) -> Result<String> {
    match selector {
        Selector::Exact(day, stamp) => Ok(format!("backups/{day}/{stamp}")),
        Selector::Latest => {
            let path = from.path(LATEST);
            let pointer = match from.store.get(&path).await {
                Ok(got) => got.bytes().await?,
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(Error::Refused(format!(
                        "{}: no backups/latest pointer; no backup was completed there",
                        from.url
                    )));
                }
                Err(e) => return Err(e.into()),
            };
            let key = String::from_utf8_lossy(&pointer).trim().to_owned();
            if !key.starts_with("backups/") || key.contains("..") {
                return Err(Error::Refused(format!(
                    "{}: backups/latest holds {key:?}, not a backup key",
                    from.url
                )));
            }
            Ok(key)
        }
        Selector::Day(day) => {
            // The newest backup of that day that has a manifest (a complete one).
            let prefix = from.path(&format!("backups/{day}"));
            let listed: Vec<_> = from.store.list(Some(&prefix)).try_collect().await?;
            let mut stamps: Vec<String> = listed
                .iter()
                .filter_map(|meta| {
                    let parts: Vec<&str> = meta.location.as_ref().rsplit('/').take(2).collect();
                    match parts.as_slice() {
                        [file, stamp] if *file == MANIFEST => Some((*stamp).to_owned()),
                        _ => None,
                    }
                })
                .collect();
            stamps.sort();
            stamps
                .pop()
                .map(|stamp| format!("backups/{day}/{stamp}"))
                .ok_or_else(|| {
                    Error::Refused(format!(
                        "{}: no complete backup on {day}",
                        from.display("backups")
                    ))
                })
        }
    }
}

/// Download backup `key` into `dest` and check it fully: checksums, integrity, the manifest's
/// figures, then open it as a store (rebuilding the index if left out) and run a smoke query.
pub(crate) async fn fetch_and_check(
    from: &Location,
    key: &str,
    dest: &Path,
) -> Result<VerifyReport> {
    let started = Instant::now();
    let manifest_key = format!("{key}/{MANIFEST}");
    let raw = match from.store.get(&from.path(&manifest_key)).await {
        Ok(got) => got.bytes().await?,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(Error::Refused(format!(
                "{}: no manifest.json, so not a complete backup (an interrupted upload leaves none)",
                from.display(key)
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let manifest = Manifest::parse(&raw, &from.display(&manifest_key))?;
    if manifest.schema_version > sociograph_store::SCHEMA_VERSION {
        return Err(Error::Refused(format!(
            "{}: graph.db schema version {} is newer than this sociograph supports ({}); restore it with a newer release",
            from.display(key),
            manifest.schema_version,
            sociograph_store::SCHEMA_VERSION
        )));
    }

    for file in &manifest.files {
        let object_key = format!("{key}/{}", file.object);
        let shown = from.display(&object_key);
        let bytes = match from.store.get(&from.path(&object_key)).await {
            Ok(got) => got.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(Error::Refused(format!(
                    "{shown}: listed in the manifest but missing from the backup"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let target = dest.join(&file.path);
        let file = file.clone();
        blocking(move || unpack(&bytes, &file, &target, &shown)).await?;
    }

    let db = dest.join("graph.db");
    let whence = from.display(key);
    let manifest_copy = manifest.clone();
    let index_rebuilt = blocking(move || {
        let check = check_database(&db).map_err(|e| Error::Refused(format!("{whence}: {e}")))?;
        let found = ManifestCounts::from(check.counts);
        if check.generation != manifest_copy.generation || found != manifest_copy.counts {
            return Err(Error::Refused(format!(
                "{whence}: graph.db holds generation {} with {found:?}, the manifest says {} with {:?}",
                check.generation, manifest_copy.generation, manifest_copy.counts
            )));
        }
        let Some(embedder) = check.embedder else {
            return Ok(false);
        };
        let (name, dims) = embedder
            .rsplit_once(':')
            .and_then(|(n, d)| Some((n.to_owned(), d.parse::<usize>().ok()?)))
            .ok_or_else(|| Error::Refused(format!("{whence}: unreadable embedder {embedder:?}")))?;
        let store = Store::open(&StoreOptions {
            data_dir: db.parent().map(Path::to_path_buf).unwrap_or_default(),
            embedder: name,
            dimensions: dims,
        })
        .map_err(|e| Error::Refused(format!("{whence}: does not open as a data directory: {e}")))?;
        smoke_check(&store).map_err(|e| Error::Refused(format!("{whence}: smoke query failed: {e}")))?;
        Ok(!manifest_copy.index_included)
    })
    .await?;

    Ok(VerifyReport {
        key: key.to_owned(),
        url: from.display(key),
        manifest,
        index_rebuilt,
        seconds: started.elapsed().as_secs_f64(),
        recorded: Err("not recorded (a restore, not a verification)".into()),
    })
}

/// Check a stored object against the manifest, decompress it, check the result, write it.
fn unpack(bytes: &[u8], file: &crate::ManifestFile, target: &Path, shown: &str) -> Result<()> {
    if bytes.len() as u64 != file.size {
        return Err(Error::Refused(format!(
            "{shown}: {} bytes, the manifest says {} (truncated or replaced)",
            bytes.len(),
            file.size
        )));
    }
    let sha = hex::encode(Sha256::digest(bytes));
    if sha != file.sha256 {
        return Err(Error::Refused(format!(
            "{shown}: SHA-256 {sha} does not match the manifest's {} (corrupted)",
            file.sha256
        )));
    }
    let mut original = Vec::with_capacity(file.original_size.min(1 << 30) as usize);
    GzDecoder::new(bytes)
        .read_to_end(&mut original)
        .map_err(|e| Error::Refused(format!("{shown}: does not decompress ({e})")))?;
    let original_sha = hex::encode(Sha256::digest(&original));
    if original.len() as u64 != file.original_size || original_sha != file.original_sha256 {
        return Err(Error::Refused(format!(
            "{shown}: decompressed to {} bytes with SHA-256 {original_sha}, the manifest says {} bytes with {}",
            original.len(),
            file.original_size,
            file.original_sha256
        )));
    }
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(target, &original).map_err(|e| Error::io(target, e))
}

/// Restore into a temporary directory and check everything, touching no live data; then
/// record the success in the target (`verified.json` beside the manifest and the
/// `backups/last-verified` pointer), which is what `sociograph_backup_last_verified_…` reports.
/// A target that cannot be written to is reported in `recorded`, not as a failed verification.
pub async fn verify(from_url: &str, version: &str) -> Result<VerifyReport> {
    let (from, selector) = Location::parse_source(from_url)?;
    let key = resolve(&from, &selector).await?;
    let scratch = tempfile::Builder::new()
        .prefix("sociograph-verify-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut report = fetch_and_check(&from, &key, scratch.path()).await?;
    report.recorded = crate::status::record_verified(&from, &key, version)
        .await
        .map_err(|e| e.to_string());
    Ok(report)
}

/// Restore into `data_dir`: everything is downloaded and checked in a staging directory beside
/// it first; only a backup that passes replaces the directory's contents (moved aside, not
/// deleted). The directory must not be in use.
pub async fn restore(from_url: &str, data_dir: &Path) -> Result<RestoreReport> {
    let (from, selector) = Location::parse_source(from_url)?;
    let key = resolve(&from, &selector).await?;
    let lock = DataDirLock::acquire(data_dir)?;
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Invalid(format!("{}: not a directory name", data_dir.display())))?;
    let parent = data_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let stamp = Utc::now().stamp();
    let staging = parent.join(format!(".{name}.restore-{stamp}"));
    let checked = fetch_and_check(&from, &key, &staging).await;
    let verified = match checked {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let previous = if data_dir.join("graph.db").exists() {
        let aside = parent.join(format!("{name}.before-restore-{stamp}"));
        std::fs::rename(data_dir, &aside).map_err(|e| Error::io(data_dir, e))?;
        Some(aside)
    } else {
        std::fs::remove_dir_all(data_dir).map_err(|e| Error::io(data_dir, e))?;
        None
    };
    drop(lock);
    std::fs::rename(&staging, data_dir).map_err(|e| Error::io(&staging, e))?;
    Ok(RestoreReport { verified, previous })
}
