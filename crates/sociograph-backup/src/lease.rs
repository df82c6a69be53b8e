//! The writer lease: one object (`worker/lease`) that makes exactly one worker the writer.
//!
//! Taking it is a conditional write: create if absent, or replace the exact version read if it
//! has expired (or was released). The holder renews it with the same conditional write every
//! third of its time to live; a renewal refused (someone else took it) or not confirmed
//! before the lease would expire means the lease is lost, and [`Lease::is_held`] turns false at
//! once — the worker checks it before every write it shares. Expiry compares wall clocks, so
//! the holder gives itself a margin (a fifth of the time to live) against clock skew and
//! stalls; the conditional write on `snapshots/current` fences a writer that misses even that.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use object_store::{PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::{Error, Location, Result};

pub const LEASE: &str = "worker/lease";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Body {
    holder: String,
    /// Unix milliseconds; 0 once released.
    expires_at_ms: u64,
    acquired_at_ms: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Who holds the lease when it could not be taken.
#[derive(Debug, Clone)]
pub struct Holder {
    pub holder: String,
    /// Milliseconds until it expires unless renewed.
    pub expires_in_ms: u64,
}

/// A held lease.
pub struct Lease {
    loc: Location,
    holder: String,
    ttl: Duration,
    acquired_at_ms: u64,
    version: Mutex<UpdateVersion>,
    /// Local deadline: the send time of the last confirmed write + ttl − margin.
    valid_until: Mutex<Instant>,
    lost: AtomicBool,
}

impl Lease {
    /// Take the lease if it is free or expired; otherwise say who holds it.
    pub async fn try_acquire(
        loc: &Location,
        holder: &str,
        ttl: Duration,
    ) -> Result<std::result::Result<Lease, Holder>> {
        let path = loc.path(LEASE);
        let mode = match loc.store.get(&path).await {
            Err(object_store::Error::NotFound { .. }) => PutMode::Create,
            Err(e) => return Err(e.into()),
            Ok(got) => {
                let version = UpdateVersion {
                    e_tag: got.meta.e_tag.clone(),
                    version: got.meta.version.clone(),
                };
                let bytes = got.bytes().await?;
                // An unreadable lease is treated as expired: it can only be replaced by a
                // conditional write of this exact version.
                if let Ok(body) = serde_json::from_slice::<Body>(&bytes) {
                    let now = now_ms();
                    if body.expires_at_ms > now && body.holder != holder {
                        return Ok(Err(Holder {
                            holder: body.holder,
                            expires_in_ms: body.expires_at_ms - now,
                        }));
                    }
                }
                PutMode::Update(version)
            }
        };
        let sent = Instant::now();
        let acquired_at_ms = now_ms();
        let body = Body {
            holder: holder.to_owned(),
            expires_at_ms: acquired_at_ms + ttl.as_millis() as u64,
            acquired_at_ms,
        };
        match write(loc, &body, mode).await {
            Ok(version) => Ok(Ok(Lease {
                loc: loc.clone(),
                holder: holder.to_owned(),
                ttl,
                acquired_at_ms,
                version: Mutex::new(version),
                valid_until: Mutex::new(sent + usable(ttl)),
                lost: AtomicBool::new(false),
            })),
            Err(Error::Storage(
                object_store::Error::Precondition { .. }
                | object_store::Error::AlreadyExists { .. },
            )) => Ok(Err(Holder {
                holder: "another worker (taken at the same moment)".into(),
                expires_in_ms: ttl.as_millis() as u64,
            })),
            Err(e) => Err(e),
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Whether this worker may still write: not lost, and its last confirmed renewal is recent
    /// enough. Checked before every shared write.
    pub fn is_held(&self) -> bool {
        if self.lost.load(Ordering::SeqCst) {
            return false;
        }
        let deadline = *self.valid_until.lock().unwrap_or_else(|e| e.into_inner());
        if Instant::now() >= deadline {
            self.lost.store(true, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Extend the lease by its time to live. A refusal marks it lost for good; a storage error
    /// is returned and leaves it held until its local deadline passes.
    pub async fn renew(&self) -> Result<()> {
        if !self.is_held() {
            return Err(Error::Refused("the writer lease was lost".into()));
        }
        let version = self
            .version
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let sent = Instant::now();
        let body = Body {
            holder: self.holder.clone(),
            expires_at_ms: now_ms() + self.ttl.as_millis() as u64,
            acquired_at_ms: self.acquired_at_ms,
        };
        match write(&self.loc, &body, PutMode::Update(version)).await {
            Ok(version) => {
                *self.version.lock().unwrap_or_else(|e| e.into_inner()) = version;
                *self.valid_until.lock().unwrap_or_else(|e| e.into_inner()) =
                    sent + usable(self.ttl);
                Ok(())
            }
            Err(Error::Storage(object_store::Error::Precondition { .. })) => {
                self.lost.store(true, Ordering::SeqCst);
                Err(Error::Refused(format!(
                    "{}: the writer lease was taken by another worker",
                    self.loc.display(LEASE)
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// Give the lease up so a waiting worker takes over at once (best effort: otherwise it
    /// expires).
    pub async fn release(&self) {
        if !self.is_held() {
            return;
        }
        self.lost.store(true, Ordering::SeqCst);
        let version = self
            .version
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let body = Body {
            holder: self.holder.clone(),
            expires_at_ms: 0,
            acquired_at_ms: self.acquired_at_ms,
        };
        if let Err(e) = write(&self.loc, &body, PutMode::Update(version)).await {
            tracing::warn!(error = %e, "could not release the writer lease; it will expire");
        }
    }
}

/// The part of the time to live the holder relies on.
fn usable(ttl: Duration) -> Duration {
    ttl - ttl / 5
}

async fn write(loc: &Location, body: &Body, mode: PutMode) -> Result<UpdateVersion> {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| Error::Invalid(format!("cannot encode the lease: {e}")))?;
    let put = loc
        .store
        .put_opts(
            &loc.path(LEASE),
            PutPayload::from(bytes),
            PutOptions::from(mode),
        )
        .await?;
    Ok(UpdateVersion {
        e_tag: put.e_tag,
        version: put.version,
    })
}
