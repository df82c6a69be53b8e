//! `sociograph backup --to URL`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use object_store::PutPayload;
use object_store::buffered::BufWriter;
use sha2::{Digest, Sha256};
use sociograph_store::snapshot::take_snapshot;
use tokio::io::AsyncWriteExt;

use crate::manifest::{FORMAT_VERSION, Manifest, ManifestFile};
use crate::time::Utc;
use crate::{Error, Location, Result, blocking};

/// The pointer to the newest complete backup, relative to the target.
pub(crate) const LATEST: &str = "backups/latest";
pub(crate) const MANIFEST: &str = "manifest.json";

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    /// `backups/YYYY-MM-DD/<stamp>`, relative to the target.
    pub key: String,
    pub manifest: Manifest,
    /// Bytes uploaded (compressed files and manifest).
    pub uploaded_bytes: u64,
    pub seconds: f64,
}

/// Snapshot `data_dir` (live or not) and upload it to `to`; the manifest and the `latest`
/// pointer are written only after every file is stored.
pub async fn backup(data_dir: &Path, to: &Location, source_version: &str) -> Result<BackupReport> {
    let started = Instant::now();
    let now = Utc::now();
    let key = format!("backups/{}/{}", now.date(), now.stamp());
    let (manifest, uploaded_bytes) =
        upload_snapshot(data_dir, to, &key, now, source_version).await?;
    // Last: the pointer makes it the latest.
    to.store
        .put(&to.path(LATEST), PutPayload::from(key.clone().into_bytes()))
        .await?;
    tracing::info!(key, uploaded_bytes, "backup complete");
    Ok(BackupReport {
        key,
        manifest,
        uploaded_bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Snapshot `data_dir` and store it under `key`: every file compressed, then the manifest,
/// which is what makes `key` a complete snapshot. Returns the manifest and the bytes uploaded.
pub(crate) async fn upload_snapshot(
    data_dir: &Path,
    to: &Location,
    key: &str,
    now: Utc,
    source_version: &str,
) -> Result<(Manifest, u64)> {
    let staging = tempfile::Builder::new()
        .prefix("sociograph-snapshot-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let snap_dir = staging.path().join("snapshot");
    let info = {
        let (data_dir, snap_dir) = (data_dir.to_path_buf(), snap_dir.clone());
        blocking(move || Ok(take_snapshot(&data_dir, &snap_dir)?)).await?
    };

    let mut files = Vec::new();
    let mut uploaded_bytes = 0;
    for path in &info.files {
        let source = snap_dir.join(path);
        let object = format!("{path}.gz");
        let packed = staging.path().join("packed").join(&object);
        let entry = {
            let (source, packed, path, object) =
                (source.clone(), packed.clone(), path.clone(), object.clone());
            blocking(move || compress(&source, &packed, path, object)).await?
        };
        upload_file(to, &format!("{key}/{object}"), &packed).await?;
        uploaded_bytes += entry.size;
        files.push(entry);
    }
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        created_at: now.rfc3339(),
        created_at_unix: now.unix,
        source_version: source_version.to_owned(),
        schema_version: info.schema_version,
        generation: info.generation,
        embedder: info.embedder.clone(),
        counts: info.counts.into(),
        index_included: info.index_included,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Invalid(format!("cannot encode the manifest: {e}")))?;
    uploaded_bytes += json.len() as u64;
    to.store
        .put(
            &to.path(&format!("{key}/{MANIFEST}")),
            PutPayload::from(json),
        )
        .await?;
    Ok((manifest, uploaded_bytes))
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Gzip `source` into `packed`, recording sizes and SHA-256 on both sides.
fn compress(source: &Path, packed: &Path, path: String, object: String) -> Result<ManifestFile> {
    if let Some(parent) = packed.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    let out = std::fs::File::create(packed).map_err(|e| Error::io(packed, e))?;
    let stored = Hashing {
        inner: std::io::BufWriter::new(out),
        hash: Sha256::new(),
        size: 0,
    };
    let mut encoder = GzEncoder::new(stored, Compression::default());
    let mut input = std::fs::File::open(source).map_err(|e| Error::io(source, e))?;
    let (mut original_hash, mut original_size) = (Sha256::new(), 0u64);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = input.read(&mut buf).map_err(|e| Error::io(source, e))?;
        if n == 0 {
            break;
        }
        original_hash.update(&buf[..n]);
        original_size += n as u64;
        encoder
            .write_all(&buf[..n])
            .map_err(|e| Error::io(packed, e))?;
    }
    let mut stored = encoder.finish().map_err(|e| Error::io(packed, e))?;
    stored.flush().map_err(|e| Error::io(packed, e))?;
    Ok(ManifestFile {
        path,
        object,
        size: stored.size,
        sha256: hex::encode(stored.hash.finalize()),
        original_size,
        original_sha256: hex::encode(original_hash.finalize()),
    })
}

/// Stream a local file to `key`: one PUT when small, a multipart upload when large (the
/// client retries failed requests with backoff).
async fn upload_file(to: &Location, key: &str, file: &PathBuf) -> Result<()> {
    let mut input = tokio::fs::File::open(file)
        .await
        .map_err(|e| Error::io(file, e))?;
    let mut writer = BufWriter::new(to.store.clone(), to.path(key));
    let copied = tokio::io::copy(&mut input, &mut writer).await;
    if let Err(e) = copied {
        let _ = writer.abort().await;
        return Err(Error::Invalid(format!(
            "upload of {} failed: {e}",
            to.display(key)
        )));
    }
    writer
        .shutdown()
        .await
        .map_err(|e| Error::Invalid(format!("upload of {} failed: {e}", to.display(key))))?;
    Ok(())
}
