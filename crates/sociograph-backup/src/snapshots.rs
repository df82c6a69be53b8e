//! Snapshots: how the single writer hands its data to the API replicas.
//!
//! The worker publishes each new state of its data directory as an immutable snapshot in the
//! backup format under `snapshots/v<version>-<publisher>/` (files, then `manifest.json`), and
//! only then moves the `snapshots/current` pointer to it with a conditional write on the
//! pointer's ETag. Versions only grow: the next one is one more than the highest ever started
//! (an interrupted publish leaves a version without a manifest, which is never reused nor
//! pointed to). The publisher in the key means two workers that both believe they are the
//! writer (one stalled past its lease) never write into the same prefix; only one of them can
//! move the pointer.
//! Replicas read the pointer, download and check the snapshot it names ([`fetch`]) into a
//! fresh directory, and swap it in.

use std::path::Path;
use std::time::Instant;

use futures::TryStreamExt;
use object_store::{PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::backup::upload_snapshot;
use crate::restore::{VerifyReport, fetch_and_check};
use crate::time::Utc;
use crate::{Error, Location, Manifest, Result};

/// The pointer to the snapshot replicas serve, relative to the store URL.
pub const CURRENT: &str = "snapshots/current";
const PREFIX: &str = "snapshots";

/// What `snapshots/current` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Current {
    pub version: u64,
    /// `snapshots/v<version>-<publisher>`, relative to the store URL.
    pub key: String,
    pub created_at_unix: u64,
    /// The worker that published it (its lease holder id).
    pub publisher: String,
    /// The `graph.db` write generation it captured.
    pub generation: u64,
}

/// The pointer as read, with what a conditional update of it needs.
#[derive(Debug, Clone)]
pub struct Pointer {
    pub current: Option<Current>,
    version: Option<UpdateVersion>,
}

impl Pointer {
    pub fn version(&self) -> u64 {
        self.current.as_ref().map_or(0, |c| c.version)
    }
}

/// What a publish wrote.
#[derive(Debug, Clone)]
pub struct Published {
    pub current: Current,
    pub manifest: Manifest,
    pub uploaded_bytes: u64,
    pub seconds: f64,
    /// The pointer after the publish, for the next one.
    pub pointer: Pointer,
}

fn key_of(version: u64, publisher: &str) -> String {
    let tag: String = publisher
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(48)
        .collect();
    format!("{PREFIX}/v{version:012}-{tag}")
}

/// The version a snapshot prefix name (`v<12 digits>-<publisher>`) carries.
fn version_of(name: &str) -> Option<u64> {
    let digits = name.strip_prefix('v')?.get(..12)?;
    let rest = name.get(13..)?;
    (rest.is_empty() || rest.starts_with('-'))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Read `snapshots/current` (absent before the first publish).
pub async fn read_current(loc: &Location) -> Result<Pointer> {
    match loc.store.get(&loc.path(CURRENT)).await {
        Ok(got) => {
            let version = UpdateVersion {
                e_tag: got.meta.e_tag.clone(),
                version: got.meta.version.clone(),
            };
            let bytes = got.bytes().await?;
            let current: Current = serde_json::from_slice(&bytes).map_err(|e| {
                Error::Refused(format!(
                    "{}: not a snapshot pointer ({e})",
                    loc.display(CURRENT)
                ))
            })?;
            let named = current
                .key
                .strip_prefix(&format!("{PREFIX}/"))
                .and_then(version_of);
            if named != Some(current.version) {
                return Err(Error::Refused(format!(
                    "{}: names {:?} for version {}",
                    loc.display(CURRENT),
                    current.key,
                    current.version
                )));
            }
            Ok(Pointer {
                current: Some(current),
                version: Some(version),
            })
        }
        Err(object_store::Error::NotFound { .. }) => Ok(Pointer {
            current: None,
            version: None,
        }),
        Err(e) => Err(e.into()),
    }
}

/// Every snapshot prefix that was started (complete or not) with its version, oldest first.
pub async fn versions(loc: &Location) -> Result<Vec<(u64, String)>> {
    let listed = loc
        .store
        .list_with_delimiter(Some(&loc.path(PREFIX)))
        .await?;
    let mut versions: Vec<(u64, String)> = listed
        .common_prefixes
        .iter()
        .filter_map(|p| {
            let name = p.filename()?;
            Some((version_of(name)?, format!("{PREFIX}/{name}")))
        })
        .collect();
    versions.sort();
    Ok(versions)
}

/// Publish `data_dir` as the next snapshot and point `snapshots/current` at it, on condition
/// that the pointer is still `expected` (what this writer last read or wrote) and that
/// `still_writer()` holds right before the pointer moves. A refusal leaves the pointer alone.
pub async fn publish(
    data_dir: &Path,
    loc: &Location,
    expected: &Pointer,
    publisher: &str,
    source_version: &str,
    still_writer: impl Fn() -> bool,
) -> Result<Published> {
    let started = Instant::now();
    let highest = versions(loc).await?.last().map_or(0, |(v, _)| *v);
    let version = highest.max(expected.version()) + 1;
    let key = key_of(version, publisher);
    let now = Utc::now();
    let (manifest, uploaded_bytes) =
        upload_snapshot(data_dir, loc, &key, now, source_version).await?;
    let current = Current {
        version,
        key: key.clone(),
        created_at_unix: now.unix,
        publisher: publisher.to_owned(),
        generation: manifest.generation,
    };
    if !still_writer() {
        return Err(Error::Refused(format!(
            "{}: not moving {CURRENT}: this worker no longer holds the writer lease",
            loc.display(&key)
        )));
    }
    let body = serde_json::to_vec(&current)
        .map_err(|e| Error::Invalid(format!("cannot encode the snapshot pointer: {e}")))?;
    let mode = match &expected.version {
        Some(v) => PutMode::Update(v.clone()),
        None => PutMode::Create,
    };
    let put = loc
        .store
        .put_opts(
            &loc.path(CURRENT),
            PutPayload::from(body),
            PutOptions::from(mode),
        )
        .await;
    let put = match put {
        Ok(put) => put,
        Err(
            object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. },
        ) => {
            return Err(Error::Refused(format!(
                "{}: moved by another writer since version {}; not publishing version {version}",
                loc.display(CURRENT),
                expected.version()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(version, key, uploaded_bytes, "snapshot published");
    Ok(Published {
        pointer: Pointer {
            current: Some(current.clone()),
            version: Some(UpdateVersion {
                e_tag: put.e_tag,
                version: put.version,
            }),
        },
        current,
        manifest,
        uploaded_bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Download the snapshot `current` names into `dest` (which must not exist) and check it as a
/// restore does: sizes, checksums, integrity, counts, then open it and run a smoke query.
pub async fn fetch(loc: &Location, current: &Current, dest: &Path) -> Result<VerifyReport> {
    fetch_and_check(loc, &current.key, dest).await
}

/// Delete every snapshot version older than the newest `keep` (never the current one), so
/// replicas still downloading a recent one are not cut off. Returns the versions removed.
pub async fn prune(loc: &Location, keep: usize, current: u64) -> Result<Vec<u64>> {
    let all = versions(loc).await?;
    let mut distinct: Vec<u64> = all.iter().map(|(v, _)| *v).collect();
    distinct.dedup();
    let cut = distinct.len().saturating_sub(keep.max(1));
    let old: Vec<u64> = distinct
        .into_iter()
        .take(cut)
        .filter(|v| *v != current)
        .collect();
    for (version, key) in all.iter().filter(|(v, _)| old.contains(v)) {
        let objects: Vec<_> = loc.store.list(Some(&loc.path(key))).try_collect().await?;
        for object in objects {
            match loc.store.delete(&object.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        tracing::debug!(version, key, "snapshot removed");
    }
    Ok(old)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_keys_carry_the_version_and_publisher() {
        let key = key_of(42, "worker-17-0a1b2c3d");
        assert_eq!(key, "snapshots/v000000000042-worker-17-0a1b2c3d");
        assert_eq!(version_of(key.trim_start_matches("snapshots/")), Some(42));
        assert_eq!(version_of("v000000000042"), Some(42));
        assert_eq!(version_of("v00000000004x-w"), None);
        assert_eq!(version_of("v000000000042x"), None);
        assert_eq!(version_of("current"), None);
    }
}
