//! `sociograph worker`: the single writer of the scale-out topology.
//!
//! 1. Take the writer lease in the shared store (waiting while another worker holds it) and
//!    keep renewing it in the background.
//! 2. Start from the current snapshot: the local copy is always rebuilt from it, so work that
//!    a dead worker did but never published is simply done again.
//! 3. Loop: take up to `batch` queued jobs in order, apply them (ingest by content hash, delete
//!    by document id — both idempotent), publish one snapshot, then mark the jobs done with
//!    that snapshot's version and take them off the queue.
//!
//! It also makes the topology's daily backup: a dated copy of its store under `backups/` in the
//! same store (`[backup] every_hours`, 24 by default), restorable with `sociograph restore`.
//!
//! The lease is checked before every job and right before the snapshot pointer moves (which
//! is itself a conditional write): a worker that loses it stops writing at once and exits
//! non-zero. SIGTERM stops between jobs; what was applied is published, then the lease is
//! released so a waiting worker takes over without waiting for expiry.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use sociograph_backup::Location;
use sociograph_backup::lease::Lease;
use sociograph_backup::queue::{self, JobKind, RemoteJob};
use sociograph_backup::snapshots::{self, Pointer};
use sociograph_server::Backend;
use sociograph_store::{DataDirLock, JobStatus};
use tokio::sync::watch;

use crate::backend;
use crate::config::Settings;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let url = settings.scale.store_url.clone().context(
        "the worker needs --store-url (or SOCIOGRAPH_STORE_URL): the store it shares with the API replicas",
    )?;
    let location = Location::parse(&url)?;
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create {}", settings.data_dir.display()))?;
    let _lock = DataDirLock::acquire(&settings.data_dir)?;
    let holder = format!(
        "worker-{}-{}",
        std::process::id(),
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let ttl = Duration::from_secs_f64(settings.scale.lease_secs);
    let poll = Duration::from_secs_f64(settings.scale.poll_secs);

    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        sociograph_server::shutdown_signal().await;
        let _ = stop_tx.send(true);
    });

    let Some(lease) = acquire(&location, &holder, ttl, poll, stop.clone()).await? else {
        tracing::info!("stopped while waiting for the writer lease");
        return Ok(());
    };
    let lease = Arc::new(lease);
    tracing::info!(
        holder,
        ttl_secs = ttl.as_secs_f64(),
        "writer lease taken; this worker is the writer"
    );
    let renewer = tokio::spawn(renew(lease.clone()));
    let result = Worker {
        settings: Arc::new(settings),
        location,
        lease: lease.clone(),
        holder,
        poll,
        stop,
    }
    .work()
    .await;
    renewer.abort();
    lease.release().await;
    tracing::info!("worker stopped");
    result
}

/// Wait for the lease; `None` if stopped first.
async fn acquire(
    location: &Location,
    holder: &str,
    ttl: Duration,
    poll: Duration,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<Lease>> {
    let mut logged = String::new();
    loop {
        let wait = match Lease::try_acquire(location, holder, ttl).await {
            Ok(Ok(lease)) => return Ok(Some(lease)),
            Ok(Err(other)) => {
                if other.holder != logged {
                    tracing::info!(held_by = %other.holder, expires_in_ms = other.expires_in_ms,
                        "another worker is the writer; waiting for its lease");
                    logged = other.holder.clone();
                }
                poll.min(Duration::from_millis(other.expires_in_ms + 50))
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the writer lease; retrying");
                poll
            }
        };
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return Ok(None),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Renew every third of the time to live until the lease is lost.
async fn renew(lease: Arc<Lease>) {
    let every = lease.ttl() / 3;
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = lease.renew().await {
            tracing::warn!(error = %e, "writer lease renewal failed");
        }
        if !lease.is_held() {
            tracing::error!("the writer lease is lost: this worker stops writing");
            return;
        }
    }
}

struct Worker {
    settings: Arc<Settings>,
    location: Location,
    lease: Arc<Lease>,
    holder: String,
    poll: Duration,
    stop: watch::Receiver<bool>,
}

/// What applying a job came to.
enum Outcome {
    /// Its effect is in the local store (or already was).
    Done,
    /// It can never succeed (bad file, missing original): failed with this reason.
    Failed(String),
    /// A transient problem (the shared store): left queued for the next batch.
    Retry(String),
}

impl Worker {
    async fn work(self) -> anyhow::Result<()> {
        let pointer = snapshots::read_current(&self.location).await?;
        let dir = self.settings.data_dir.join("store");
        if dir.exists() {
            // Whatever is here may be ahead of what was published: start from the snapshot.
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot clear {}", dir.display()))?;
        }
        let rolled_back = match &self.settings.backup.restore_from {
            // A data rollback (docs/rollback.md): start from a backup, not from current.
            Some(from) => {
                let report = sociograph_backup::restore(from, &dir)
                    .await
                    .with_context(|| format!("cannot restore {from}"))?;
                tracing::info!(
                    backup = %report.verified.url,
                    documents = report.verified.manifest.counts.documents,
                    "restored a backup; publishing it as the next snapshot"
                );
                true
            }
            None => {
                if let Some(current) = &pointer.current {
                    let report = snapshots::fetch(&self.location, current, &dir)
                        .await
                        .with_context(|| format!("cannot restore snapshot {}", current.version))?;
                    tracing::info!(
                        version = current.version,
                        documents = report.manifest.counts.documents,
                        "restored the current snapshot"
                    );
                }
                false
            }
        };
        let backend = self.open(dir.clone()).await?;
        // The daily backup of this topology: a dated copy of the writer's store under
        // backups/ in the same store (the schedule lives there, so a takeover keeps it).
        let every_hours = match self.settings.backup.every_hours {
            h if h > 0.0 => h,
            _ => 24.0,
        };
        let backups = tokio::spawn(crate::commands::backup_loop(
            self.location.clone(),
            dir.clone(),
            every_hours,
            self.settings.backup.retention_days,
            Duration::from_secs_f64(self.settings.backup.check_secs),
        ));
        let result = self.serve_queue(&backend, &dir, pointer, rolled_back).await;
        backups.abort();
        result
    }

    async fn serve_queue(
        &self,
        backend: &Backend,
        dir: &std::path::Path,
        mut pointer: Pointer,
        rolled_back: bool,
    ) -> anyhow::Result<()> {
        if pointer.current.is_none() || rolled_back {
            // Replicas need a first snapshot to become ready, even of an empty store; a
            // restored backup becomes the served data the same way.
            pointer = self.publish(dir, &pointer).await?;
        }
        loop {
            if *self.stop.borrow() {
                return Ok(());
            }
            self.check_lease()?;
            let ids = match queue::pending(&self.location).await {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list the job queue; retrying");
                    Vec::new()
                }
            };
            if ids.is_empty() {
                let mut stop = self.stop.clone();
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return Ok(()),
                    _ = tokio::time::sleep(self.poll) => {}
                }
                continue;
            }
            let mut finished: Vec<(RemoteJob, Outcome)> = Vec::new();
            for id in ids.into_iter().take(self.settings.scale.batch) {
                if *self.stop.borrow() {
                    break;
                }
                self.check_lease()?;
                let job = match queue::job(&self.location, &id).await {
                    Ok(Some(job)) => job,
                    Ok(None) => {
                        tracing::warn!(job = %id, "queued job has no record; dropping it");
                        self.unqueue(&id).await;
                        continue;
                    }
                    Err(e @ sociograph_backup::Error::Refused(_)) => {
                        // Unreadable (written by an incompatible release?): never blocks the queue.
                        tracing::error!(job = %id, error = %e, "unreadable job record; dropping it");
                        self.unqueue(&id).await;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(job = %id, error = %e, "cannot read the job; retrying later");
                        break;
                    }
                };
                let mut job = job;
                if matches!(job.record.status, JobStatus::Done | JobStatus::Failed) {
                    // Finished and published by an earlier worker that died before unqueueing.
                    self.unqueue(&id).await;
                    continue;
                }
                job.set(JobStatus::Running, "running", None);
                if let Err(e) = queue::update(&self.location, &job).await {
                    tracing::warn!(job = %id, error = %e, "cannot record job progress");
                }
                let outcome = self.apply(backend, &job).await;
                finished.push((job, outcome));
            }
            let progressed = finished
                .iter()
                .any(|(_, o)| !matches!(o, Outcome::Retry(_)));
            if !progressed {
                // Nothing could be done (the store is failing): wait before trying again.
                let mut stop = self.stop.clone();
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => {}
                    _ = tokio::time::sleep(self.poll) => {}
                }
            }
            if finished.is_empty() {
                continue;
            }
            let store = backend.store.clone();
            tokio::task::spawn_blocking(move || store.flush_index())
                .await
                .context("index flush task failed")??;
            let changed = finished
                .iter()
                .any(|(_, outcome)| matches!(outcome, Outcome::Done));
            if changed {
                pointer = self.publish(dir, &pointer).await?;
            }
            for (mut job, outcome) in finished {
                match outcome {
                    Outcome::Done => {
                        job.set(JobStatus::Done, "done", None);
                        job.snapshot = pointer.current.as_ref().map(|c| c.version);
                    }
                    Outcome::Failed(reason) => job.set(JobStatus::Failed, "failed", Some(reason)),
                    Outcome::Retry(reason) => {
                        tracing::warn!(job = %job.record.id, %reason, "job left queued; retrying later");
                        job.set(JobStatus::Queued, "queued", None);
                        if let Err(e) = queue::update(&self.location, &job).await {
                            tracing::warn!(job = %job.record.id, error = %e, "cannot record job progress");
                        }
                        continue;
                    }
                }
                if let Err(e) = queue::update(&self.location, &job).await {
                    // The marker stays, so the job runs again (its effect is idempotent) and
                    // its record is rewritten then.
                    tracing::warn!(job = %job.record.id, error = %e, "cannot record the job's end; it will run again");
                    continue;
                }
                self.unqueue(&job.record.id).await;
                tracing::info!(job = %job.record.id, kind = ?job.kind, status = job.record.status.as_str(),
                    snapshot = ?job.snapshot, error = ?job.record.error, "job finished");
            }
            let keep = self.settings.scale.keep_snapshots;
            match snapshots::prune(&self.location, keep, pointer.version()).await {
                Ok(removed) if !removed.is_empty() => {
                    tracing::info!(?removed, "old snapshots removed")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot remove old snapshots"),
            }
        }
    }

    /// Take a job off the queue; a failure only means it is looked at again.
    async fn unqueue(&self, id: &str) {
        if let Err(e) = queue::finish(&self.location, id).await {
            tracing::warn!(job = %id, error = %e, "cannot take the job off the queue; it will be looked at again");
        }
    }

    fn check_lease(&self) -> anyhow::Result<()> {
        if !self.lease.is_held() {
            bail!("lost the writer lease: stopped writing (another worker takes over)");
        }
        Ok(())
    }

    async fn open(&self, dir: PathBuf) -> anyhow::Result<Backend> {
        let settings = self.settings.clone();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let shared = backend::shared(&settings, &runtime)?;
            backend::open_dir(&settings, &runtime, &shared, &dir)
        })
        .await
        .context("startup task failed")?
    }

    /// Apply one job to the local store. Both kinds are idempotent: a document already stored
    /// is not ingested twice, and deleting an absent document changes nothing.
    async fn apply(&self, backend: &Backend, job: &RemoteJob) -> Outcome {
        match job.kind {
            JobKind::Ingest => {
                let bytes = match queue::original(&self.location, &job.record.content_hash).await {
                    Ok(bytes) => bytes,
                    Err(e @ sociograph_backup::Error::Refused(_)) => {
                        tracing::error!(job = %job.record.id, error = %e, "original file missing");
                        return Outcome::Failed(
                            "the original file is missing from the shared store; upload it again"
                                .into(),
                        );
                    }
                    Err(e) => return Outcome::Retry(e.to_string()),
                };
                let pipeline = backend.pipeline.clone();
                let source = job.record.source.clone();
                let result = tokio::task::spawn_blocking(move || {
                    let prepared = pipeline.prepare(&source, &bytes)?;
                    pipeline.ingest(&prepared, &mut |_, _| {})
                })
                .await;
                match result {
                    Ok(Ok(report)) => {
                        tracing::info!(job = %job.record.id, document_id = %report.document_id,
                            chunks = report.chunks, duplicate = report.duplicate, "ingested");
                        Outcome::Done
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(job = %job.record.id, error = %e, "ingest failed");
                        Outcome::Failed(sociograph_server::public_reason(&e))
                    }
                    Err(e) => {
                        tracing::error!(job = %job.record.id, error = %e, "ingest task failed");
                        Outcome::Failed("internal error during ingest".into())
                    }
                }
            }
            JobKind::Delete => {
                let store = backend.store.clone();
                let id = job.record.document_id.clone();
                match tokio::task::spawn_blocking(move || store.delete_document(&id)).await {
                    Ok(Ok(_)) => Outcome::Done,
                    Ok(Err(e)) => {
                        tracing::error!(job = %job.record.id, error = %e, "delete failed");
                        Outcome::Failed(
                            "internal error during delete (details are in the worker log)".into(),
                        )
                    }
                    Err(e) => Outcome::Failed(format!("internal error during delete: {e}")),
                }
            }
        }
    }

    /// Publish the local store, retrying storage errors briefly; a refusal (lease lost, the
    /// pointer moved by someone else) is final.
    async fn publish(&self, dir: &std::path::Path, pointer: &Pointer) -> anyhow::Result<Pointer> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let lease = self.lease.clone();
            let result = snapshots::publish(
                dir,
                &self.location,
                pointer,
                &self.holder,
                env!("CARGO_PKG_VERSION"),
                move || lease.is_held(),
            )
            .await;
            match result {
                Ok(published) => {
                    sociograph_telemetry::record::snapshot_update("published");
                    sociograph_telemetry::record::snapshot(
                        published.current.version,
                        published.current.created_at_unix,
                    );
                    tracing::info!(
                        version = published.current.version,
                        documents = published.manifest.counts.documents,
                        bytes = published.uploaded_bytes,
                        seconds = published.seconds,
                        "published snapshot"
                    );
                    return Ok(published.pointer);
                }
                Err(e @ sociograph_backup::Error::Refused(_)) => {
                    sociograph_telemetry::record::snapshot_update("failed");
                    return Err(e).context("publish refused");
                }
                Err(e) if attempt < 3 => {
                    sociograph_telemetry::record::snapshot_update("failed");
                    tracing::warn!(error = %e, attempt, "publish failed; retrying");
                    tokio::time::sleep(Duration::from_secs(attempt)).await;
                }
                Err(e) => return Err(e).context("cannot publish the snapshot"),
            }
        }
    }
}
