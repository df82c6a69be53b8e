//! API replicas (`serve --role api`): serve the worker's published snapshots.
//!
//! A replica polls `snapshots/current`; when it names a newer version, the snapshot is
//! downloaded into a staging directory (`.v<version>.partial`), checked like a restore
//! (sizes, checksums, integrity, counts, a smoke query), renamed to `v<version>`, opened, and
//! swapped in with one pointer store. Requests already running finish on the snapshot they
//! started with; its directory is removed once the last of them lets go. Any failure leaves
//! the served snapshot in place and is retried at the next poll; a process killed mid-download
//! leaves only a staging directory, removed at the next start.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sociograph_backup::Location;
use sociograph_backup::snapshots::{self, Current};
use tokio::sync::watch;

use crate::app::Backend;
use crate::state::{AppState, Services, Writes};

/// Opens a downloaded snapshot directory with the process's models; blocking.
pub type Opener = Arc<dyn Fn(&Path) -> Result<Backend, String> + Send + Sync>;

/// Where a replica's snapshots come from and where it keeps them.
pub struct ReplicaSource {
    pub location: Location,
    /// Local scratch space: one subdirectory per downloaded snapshot.
    pub work_dir: PathBuf,
    pub poll: Duration,
    pub open: Opener,
}

/// A snapshot no longer served, kept on disk until no request uses it. Handlers clone the
/// store (or the retriever, answerer, graph — each holding it) out of the services, so the
/// store itself is what must be gone, not just the services handle.
struct Retired {
    store: Weak<sociograph_store::Store>,
    dir: PathBuf,
}

/// Follow the published snapshots until `stop` turns true.
pub async fn follow(state: AppState, source: ReplicaSource, mut stop: watch::Receiver<bool>) {
    if let Err(e) = clean_work_dir(&source.work_dir) {
        tracing::warn!(dir = %source.work_dir.display(), error = %e, "cannot clean the snapshot directory");
    }
    let mut served: Option<(Current, PathBuf)> = None;
    let mut retired: Vec<Retired> = Vec::new();
    let mut waiting_logged = false;
    loop {
        match step(&state, &source, served.as_ref().map(|(c, _)| c)).await {
            Ok(Step::Swapped { current, dir, old }) => {
                if let (Some(old), Some((_, old_dir))) = (old, served.take()) {
                    retired.push(Retired {
                        store: Arc::downgrade(&old.store),
                        dir: old_dir,
                    });
                }
                served = Some((current, dir));
            }
            Ok(Step::Unchanged) => {}
            Ok(Step::NothingPublished) => {
                if !waiting_logged {
                    tracing::info!(store = %source.location.url, "no snapshot published yet; waiting for the worker");
                    waiting_logged = true;
                }
            }
            Err(e) => {
                sociograph_telemetry::record::snapshot_update("failed");
                tracing::warn!(error = %e, "snapshot update failed; still serving the previous one");
            }
        }
        if let Some((current, _)) = &served {
            sociograph_telemetry::record::snapshot(current.version, current.created_at_unix);
        }
        retired.retain(|r| {
            if r.store.strong_count() > 0 {
                return true;
            }
            if let Err(e) = std::fs::remove_dir_all(&r.dir) {
                tracing::warn!(dir = %r.dir.display(), error = %e, "cannot remove a retired snapshot");
            }
            false
        });
        tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(source.poll) => {}
        }
    }
}

enum Step {
    Swapped {
        current: Current,
        dir: PathBuf,
        old: Option<Arc<Services>>,
    },
    Unchanged,
    NothingPublished,
}

async fn step(
    state: &AppState,
    source: &ReplicaSource,
    served: Option<&Current>,
) -> Result<Step, String> {
    let pointer = snapshots::read_current(&source.location)
        .await
        .map_err(|e| e.to_string())?;
    let Some(current) = pointer.current else {
        return Ok(Step::NothingPublished);
    };
    if served.is_some_and(|s| s.version >= current.version) {
        return Ok(Step::Unchanged);
    }
    let name = format!("v{:012}", current.version);
    let staging = source.work_dir.join(format!(".{name}.partial"));
    let dir = source.work_dir.join(&name);
    for leftover in [&staging, &dir] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover)
                .map_err(|e| format!("cannot clear {}: {e}", leftover.display()))?;
        }
    }
    tracing::info!(version = current.version, "downloading snapshot");
    let fetched = snapshots::fetch(&source.location, &current, &staging).await;
    let report = match fetched {
        Ok(report) => report,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(format!("snapshot {}: {e}", current.version));
        }
    };
    std::fs::rename(&staging, &dir)
        .map_err(|e| format!("cannot move {} into place: {e}", staging.display()))?;
    let open = source.open.clone();
    let open_dir = dir.clone();
    let backend = tokio::task::spawn_blocking(move || open(&open_dir))
        .await
        .map_err(|e| format!("open task failed: {e}"))?;
    let backend = match backend {
        Ok(b) => b,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(format!("snapshot {} does not open: {e}", current.version));
        }
    };
    let counts = backend.store.counts().ok();
    let old = state.install(Services {
        store: backend.store,
        pipeline: backend.pipeline,
        retriever: backend.retriever,
        answerer: backend.answerer,
        graph: backend.graph,
        jobs: Writes::Remote(source.location.clone()),
        embedder: backend.embedder,
        extractor: backend.extractor,
        snapshot: Some(current.clone()),
    });
    sociograph_telemetry::record::snapshot_update("swapped");
    tracing::info!(
        version = current.version,
        ?counts,
        seconds = report.seconds,
        "serving snapshot"
    );
    Ok(Step::Swapped { current, dir, old })
}

/// Whether `name` is one of the directories a replica makes: `v<12 digits>` or
/// `.v<12 digits>.partial`.
fn is_snapshot_dir(name: &str) -> bool {
    let digits = name
        .strip_prefix(".v")
        .and_then(|n| n.strip_suffix(".partial"))
        .or_else(|| name.strip_prefix('v'));
    digits.is_some_and(|d| d.len() == 12 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Remove what an earlier process left: staging directories and old snapshots (and nothing
/// else: the directory may hold other files).
fn clean_work_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if entry.file_type()?.is_dir() && is_snapshot_dir(&name.to_string_lossy()) {
            std::fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_snapshot_directories_are_cleaned() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        for name in [
            "v000000000007",
            ".v000000000008.partial",
            "vector_store",
            "v12",
            "data",
        ] {
            std::fs::create_dir(dir.path().join(name))?;
        }
        clean_work_dir(dir.path())?;
        let mut left: Vec<String> = std::fs::read_dir(dir.path())?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?;
        left.sort();
        assert_eq!(left, ["data", "v12", "vector_store"]);
        Ok(())
    }
}
