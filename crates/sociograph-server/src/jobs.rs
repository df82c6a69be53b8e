//! The ingest queue: uploads are accepted (validated, stored under `uploads/`, recorded as a
//! `queued` job) and then ingested one at a time by a single worker task — the one writer.
//!
//! Nothing is lost across restarts: jobs still `queued` or `running` when the process stopped
//! are re-read from `uploads/` and re-queued at startup. A document is written in one
//! transaction, so a job interrupted mid-way simply runs again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sociograph_core::Error as CoreError;
use sociograph_core::ingest::{Pipeline, Prepared};
use sociograph_store::{JobStatus, Store};
use sociograph_telemetry::record;
use tokio::sync::{mpsc, watch};

/// One unit of work: a job id and its parsed file.
pub struct Job {
    pub id: String,
    pub prepared: Prepared,
}

/// Sender side of the queue; cheap to clone.
#[derive(Clone)]
pub struct JobQueue {
    tx: mpsc::UnboundedSender<Job>,
    depth: Arc<AtomicUsize>,
}

impl JobQueue {
    pub fn enqueue(&self, job: Job) -> bool {
        record::ingest_queue_depth(self.depth.fetch_add(1, Ordering::SeqCst) + 1);
        if self.tx.send(job).is_err() {
            record::ingest_queue_depth(self.depth.fetch_sub(1, Ordering::SeqCst) - 1);
            return false;
        }
        true
    }

    /// Jobs waiting or running.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::SeqCst)
    }
}

/// Start the single ingest worker. It stops at a safe point (between documents) once
/// `shutdown` turns true; unprocessed jobs stay `queued` in `graph.db`.
pub fn start(
    pipeline: Arc<Pipeline>,
    mut shutdown: watch::Receiver<bool>,
) -> (JobQueue, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    let depth = Arc::new(AtomicUsize::new(0));
    let queue = JobQueue {
        tx,
        depth: depth.clone(),
    };
    let handle = tokio::spawn(async move {
        loop {
            let job = tokio::select! {
                biased;
                _ = shutdown.wait_for(|stop| *stop) => break,
                job = rx.recv() => match job {
                    Some(job) => job,
                    None => break,
                },
            };
            run_job(&pipeline, job).await;
            record::ingest_queue_depth(depth.fetch_sub(1, Ordering::SeqCst).saturating_sub(1));
            if depth.load(Ordering::SeqCst) == 0 {
                let store = pipeline.store.clone();
                if let Err(e) = tokio::task::spawn_blocking(move || store.flush_index())
                    .await
                    .unwrap_or_else(|e| {
                        Err(sociograph_store::Error::Vector(format!(
                            "flush task failed: {e}"
                        )))
                    })
                {
                    tracing::error!(error = %e, "could not save the vector index");
                }
            }
        }
        let store = pipeline.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.flush_index()).await;
        tracing::info!("ingest worker stopped");
    });
    (queue, handle)
}

async fn run_job(pipeline: &Arc<Pipeline>, job: Job) {
    let store = pipeline.store.clone();
    let id = job.id.clone();
    update(&store, &id, JobStatus::Running, "load", 0.0, None);
    let p = pipeline.clone();
    let progress_store = store.clone();
    let progress_id = id.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut last = Instant::now() - Duration::from_secs(1);
        p.ingest(&job.prepared, &mut |stage, fraction| {
            // Throttle progress writes: the writer connection is shared with the ingest itself.
            if last.elapsed() >= Duration::from_millis(250) || fraction >= 1.0 {
                last = Instant::now();
                update(
                    &progress_store,
                    &progress_id,
                    JobStatus::Running,
                    stage.as_str(),
                    fraction,
                    None,
                );
            }
        })
    })
    .await;
    match result {
        Ok(Ok(report)) => {
            tracing::info!(job = %id, document_id = %report.document_id, chunks = report.chunks,
                entities = report.entities, relations = report.relations, duplicate = report.duplicate,
                seconds = report.seconds, "ingested document");
            update(&store, &id, JobStatus::Done, "done", 1.0, None);
        }
        Ok(Err(e)) => {
            tracing::warn!(job = %id, error = %e, "ingest failed");
            update(
                &store,
                &id,
                JobStatus::Failed,
                "failed",
                0.0,
                Some(&public_reason(&e)),
            );
        }
        Err(e) => {
            tracing::error!(job = %id, error = %e, "ingest task panicked");
            update(
                &store,
                &id,
                JobStatus::Failed,
                "failed",
                0.0,
                Some("internal error during ingest"),
            );
        }
    }
}

/// What a job's reader may see: input problems verbatim; backend failures without paths, SQL
/// or provider replies (those go to the log).
pub fn public_reason(e: &CoreError) -> String {
    match e {
        CoreError::Model(m) => crate::error::model_failure_message(m),
        CoreError::Store(_) | CoreError::Internal(_) => {
            "internal error during ingest (details are in the server log)".into()
        }
        CoreError::InvalidInput(_)
        | CoreError::UnsupportedType(_)
        | CoreError::EmptyFile { .. }
        | CoreError::TooLarge { .. }
        | CoreError::EncryptedPdf { .. }
        | CoreError::CorruptPdf { .. }
        | CoreError::NoText { .. }
        | CoreError::InvalidUtf8 { .. }
        | CoreError::NotFound(_) => e.to_string(),
    }
}

fn update(
    store: &Store,
    id: &str,
    status: JobStatus,
    stage: &str,
    progress: f64,
    error: Option<&str>,
) {
    if let Err(e) = store.update_job(id, status, stage, progress, error) {
        tracing::error!(job = %id, error = %e, "could not record job progress");
    }
}

/// Re-queue jobs left unfinished by the previous process.
pub fn resume(pipeline: &Pipeline, queue: &JobQueue) -> sociograph_store::Result<usize> {
    let store = &pipeline.store;
    let mut resumed = 0;
    for job in store.unfinished_jobs()? {
        let path = store.upload_path(&job.content_hash);
        let prepared = std::fs::read(&path)
            .map_err(|e| format!("original file missing: {e}"))
            .and_then(|bytes| {
                pipeline
                    .prepare(&job.source, &bytes)
                    .map_err(|e| e.to_string())
            });
        match prepared {
            Ok(prepared) => {
                store.update_job(&job.id, JobStatus::Queued, "queued", 0.0, None)?;
                if queue.enqueue(Job {
                    id: job.id.clone(),
                    prepared,
                }) {
                    resumed += 1;
                }
            }
            Err(reason) => {
                store.update_job(&job.id, JobStatus::Failed, "failed", 0.0, Some(&reason))?;
            }
        }
    }
    Ok(resumed)
}
