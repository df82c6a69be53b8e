//! What a target says about its backups: when the newest was made and when one was last
//! verified. Servers export these as gauges, so the alert sees the truth in storage whether the
//! backups were made by a server, a scheduled task or an operator.

use object_store::PutPayload;
use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};

use crate::backup::{LATEST, MANIFEST};
use crate::manifest::Manifest;
use crate::time::Utc;
use crate::{Error, Location, Result};

/// Points at the newest verified backup's key.
pub(crate) const LAST_VERIFIED: &str = "backups/last-verified";
/// Written into a backup's directory when it passes `verify`.
pub(crate) const VERIFIED: &str = "verified.json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Verified {
    pub verified_at: String,
    pub verified_at_unix: u64,
    pub source_version: String,
}

/// The target's backup times, as Unix seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackupStatus {
    /// `created_at` of the backup `backups/latest` points at.
    pub last_success: Option<u64>,
    /// When the backup `backups/last-verified` points at passed `verify`.
    pub last_verified: Option<u64>,
}

async fn get_optional(target: &Location, path: &ObjectPath) -> Result<Option<bytes::Bytes>> {
    match target.store.get(path).await {
        Ok(got) => Ok(Some(got.bytes().await?)),
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn pointed(target: &Location, pointer: &str) -> Result<Option<String>> {
    Ok(get_optional(target, &target.path(pointer))
        .await?
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .filter(|k| k.starts_with("backups/") && !k.contains("..")))
}

/// Read the target's pointers (absent ones are `None`, not errors).
pub async fn status(target: &Location) -> Result<BackupStatus> {
    let mut status = BackupStatus::default();
    if let Some(key) = pointed(target, LATEST).await?
        && let Some(raw) = get_optional(target, &target.path(&format!("{key}/{MANIFEST}"))).await?
    {
        status.last_success = Some(Manifest::parse(&raw, &target.display(&key))?.created_at_unix);
    }
    if let Some(key) = pointed(target, LAST_VERIFIED).await?
        && let Some(raw) = get_optional(target, &target.path(&format!("{key}/{VERIFIED}"))).await?
    {
        let verified: Verified = serde_json::from_slice(&raw).map_err(|e| {
            Error::Refused(format!(
                "{}: unreadable {VERIFIED} ({e})",
                target.display(&key)
            ))
        })?;
        status.last_verified = Some(verified.verified_at_unix);
    }
    Ok(status)
}

/// Record that backup `key` passed verification.
pub(crate) async fn record_verified(target: &Location, key: &str, version: &str) -> Result<u64> {
    let now = Utc::now();
    let verified = Verified {
        verified_at: now.rfc3339(),
        verified_at_unix: now.unix,
        source_version: version.to_owned(),
    };
    let json = serde_json::to_vec_pretty(&verified)
        .map_err(|e| Error::Invalid(format!("cannot encode {VERIFIED}: {e}")))?;
    target
        .store
        .put(
            &target.path(&format!("{key}/{VERIFIED}")),
            PutPayload::from(json),
        )
        .await?;
    target
        .store
        .put(
            &target.path(LAST_VERIFIED),
            PutPayload::from(key.to_owned().into_bytes()),
        )
        .await?;
    Ok(now.unix)
}

/// Delete every dated backup day older than `keep_days` (by the day in its key), never the day
/// `backups/latest` points into. For directories; on S3 the lifecycle rule does this.
pub async fn prune(target: &Location, keep_days: u32) -> Result<Vec<String>> {
    use futures::TryStreamExt;
    if keep_days == 0 {
        return Ok(Vec::new());
    }
    let cutoff = Utc {
        unix: Utc::now()
            .unix
            .saturating_sub(u64::from(keep_days) * 86_400),
    }
    .date();
    let keep = pointed(target, LATEST).await?;
    let listing = target
        .store
        .list_with_delimiter(Some(&target.path("backups")))
        .await?;
    let mut removed = Vec::new();
    for day_prefix in listing.common_prefixes {
        let Some(day) = day_prefix.filename().map(str::to_owned) else {
            continue;
        };
        let protected = keep
            .as_deref()
            .is_some_and(|k| k.starts_with(&format!("backups/{day}/")));
        if !crate::time::is_date(&day) || day >= cutoff || protected {
            continue;
        }
        let objects: Vec<_> = target.store.list(Some(&day_prefix)).try_collect().await?;
        for object in objects {
            target.store.delete(&object.location).await?;
        }
        if let Some(root) = &target.local_root {
            let dir = root.join("backups").join(&day);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(dir, e)),
            }
        }
        removed.push(day);
    }
    Ok(removed)
}
