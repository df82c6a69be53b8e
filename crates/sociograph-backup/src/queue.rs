//! The job queue in object storage, shared by every API task and the worker.
//!
//! An API task stores the original file under `uploads/<content hash>` (content-addressed, so a
//! repeat upload rewrites identical bytes), then the job record `jobs/<id>.json` (created, never
//! overwritten by an API task), then the marker `queue/<id>` that makes it visible to the
//! worker — in that order, so the worker never sees a job without its file. The worker lists
//! `queue/` in id order (ids are time-ordered UUIDv7), updates the record as the job runs, and
//! removes the marker only once the job's effect is in a published snapshot. A worker that dies
//! first leaves the marker, so the job runs again (at least once); ingest is keyed by content
//! hash and delete by document id, so the effect happens once.

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::{PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};
use sociograph_store::{JobRecord, JobStatus};

use crate::time::Utc;
use crate::{Error, Location, Result};

const UPLOADS: &str = "uploads";
const JOBS: &str = "jobs";
const QUEUE: &str = "queue";

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Ingest,
    Delete,
}

/// A job as stored in `jobs/<id>.json`: the same fields as a local job, plus its kind and the
/// snapshot version that carries its effect once done.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteJob {
    #[serde(flatten)]
    pub record: JobRecord,
    pub kind: JobKind,
    pub snapshot: Option<u64>,
}

impl RemoteJob {
    pub fn new(
        id: &str,
        kind: JobKind,
        source: &str,
        content_hash: &str,
        document_id: &str,
    ) -> Self {
        let now = Utc::now().rfc3339();
        RemoteJob {
            record: JobRecord {
                id: id.to_owned(),
                status: JobStatus::Queued,
                source: source.to_owned(),
                content_hash: content_hash.to_owned(),
                document_id: document_id.to_owned(),
                stage: "queued".into(),
                progress: 0.0,
                error: None,
                created_at: now.clone(),
                updated_at: now,
            },
            kind,
            snapshot: None,
        }
    }

    /// Move to `status` at `stage`, stamping the time.
    pub fn set(&mut self, status: JobStatus, stage: &str, error: Option<String>) {
        self.record.status = status;
        self.record.stage = stage.to_owned();
        self.record.progress = if status == JobStatus::Done { 1.0 } else { 0.0 };
        self.record.error = error;
        self.record.updated_at = Utc::now().rfc3339();
    }
}

fn encode(job: &RemoteJob) -> Result<Vec<u8>> {
    serde_json::to_vec(job)
        .map_err(|e| Error::Invalid(format!("cannot encode job {}: {e}", job.record.id)))
}

fn job_key(id: &str) -> String {
    format!("{JOBS}/{id}.json")
}

fn check_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(Error::Invalid(format!("{id:?} is not a job id")));
    }
    Ok(())
}

/// Queue a job; for an ingest, `original` is the file, stored first.
pub async fn submit(loc: &Location, job: &RemoteJob, original: Option<Bytes>) -> Result<()> {
    check_id(&job.record.id)?;
    if let Some(bytes) = original {
        let key = format!("{UPLOADS}/{}", job.record.content_hash);
        loc.store
            .put(&loc.path(&key), PutPayload::from(bytes))
            .await?;
    }
    let body = encode(job)?;
    loc.store
        .put_opts(
            &loc.path(&job_key(&job.record.id)),
            PutPayload::from(body),
            PutOptions::from(PutMode::Create),
        )
        .await?;
    let marked = loc
        .store
        .put_opts(
            &loc.path(&format!("{QUEUE}/{}", job.record.id)),
            PutPayload::from_static(b""),
            PutOptions::from(PutMode::Create),
        )
        .await;
    if let Err(e) = marked {
        // Not queued: say so in the record (best effort) rather than leave it `queued`.
        let mut failed = job.clone();
        failed.set(
            JobStatus::Failed,
            "failed",
            Some("could not be queued (the shared store failed); upload it again".into()),
        );
        let _ = update(loc, &failed).await;
        return Err(e.into());
    }
    Ok(())
}

/// A job's record, if it exists.
pub async fn job(loc: &Location, id: &str) -> Result<Option<RemoteJob>> {
    check_id(id)?;
    let key = job_key(id);
    match loc.store.get(&loc.path(&key)).await {
        Ok(got) => {
            let bytes = got.bytes().await?;
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Refused(format!("{}: unreadable job ({e})", loc.display(&key))))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Rewrite a job's record (the worker only).
pub async fn update(loc: &Location, job: &RemoteJob) -> Result<()> {
    let body = encode(job)?;
    loc.store
        .put(&loc.path(&job_key(&job.record.id)), PutPayload::from(body))
        .await?;
    Ok(())
}

/// Ids of the queued jobs, oldest first.
pub async fn pending(loc: &Location) -> Result<Vec<String>> {
    let listed: Vec<_> = loc.store.list(Some(&loc.path(QUEUE))).try_collect().await?;
    let mut ids: Vec<String> = listed
        .iter()
        .filter_map(|m| m.location.filename().map(str::to_owned))
        .filter(|id| check_id(id).is_ok())
        .collect();
    ids.sort();
    Ok(ids)
}

/// The original file of an ingest job.
pub async fn original(loc: &Location, content_hash: &str) -> Result<Bytes> {
    let key = format!("{UPLOADS}/{content_hash}");
    match loc.store.get(&loc.path(&key)).await {
        Ok(got) => Ok(got.bytes().await?),
        Err(object_store::Error::NotFound { .. }) => Err(Error::Refused(format!(
            "{}: the original file is missing",
            loc.display(&key)
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Take a job off the queue (its effect is published, or it failed for good).
pub async fn finish(loc: &Location, id: &str) -> Result<()> {
    match loc.store.delete(&loc.path(&format!("{QUEUE}/{id}"))).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
