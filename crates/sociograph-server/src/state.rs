//! Shared state: settings, readiness, and the services loaded at startup.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

use sociograph_core::answer::Answerer;
use sociograph_core::graph::GraphCache;
use sociograph_core::ingest::Pipeline;
use sociograph_core::retrieve::Retriever;
use sociograph_store::Store;
use tokio::sync::Semaphore;

use crate::error::ApiError;
use sociograph_backup::Location;
use sociograph_backup::snapshots::Current;

use crate::jobs::JobQueue;
use crate::limits::RateLimiter;
use crate::settings::ServerSettings;

/// Lifecycle as seen by the load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Readiness {
    Starting = 0,
    Ready = 1,
    Draining = 2,
}

impl Readiness {
    pub fn as_str(self) -> &'static str {
        match self {
            Readiness::Starting => "starting",
            Readiness::Ready => "ready",
            Readiness::Draining => "draining",
        }
    }
}

/// What the data directory provides once loaded.
pub struct Services {
    pub store: Arc<Store>,
    pub pipeline: Arc<Pipeline>,
    pub retriever: Arc<Retriever>,
    pub answerer: Arc<Answerer>,
    pub graph: Arc<GraphCache>,
    pub jobs: Writes,
    pub embedder: String,
    pub extractor: String,
    /// The published snapshot being served (API replicas); `None` when this process owns its
    /// data directory.
    pub snapshot: Option<Current>,
}

/// Where uploads and deletes go.
#[derive(Clone)]
pub enum Writes {
    /// This process is the writer: its own ingest worker.
    Local(JobQueue),
    /// An API replica: jobs go to the shared queue in object storage, for the worker.
    Remote(Location),
}

pub struct Inner {
    pub settings: ServerSettings,
    services: RwLock<Option<Arc<Services>>>,
    readiness: AtomicU8,
    pub in_flight: Arc<Semaphore>,
    pub rate_limiter: RateLimiter,
}

/// Cheap to clone; one per process.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(settings: ServerSettings) -> Self {
        let in_flight = Arc::new(Semaphore::new(settings.max_in_flight.max(1)));
        let rate_limiter = RateLimiter::new(settings.rate_limit.clone());
        AppState(Arc::new(Inner {
            settings,
            services: RwLock::new(None),
            readiness: AtomicU8::new(Readiness::Starting as u8),
            in_flight,
            rate_limiter,
        }))
    }

    pub fn readiness(&self) -> Readiness {
        match self.readiness.load(Ordering::SeqCst) {
            1 => Readiness::Ready,
            2 => Readiness::Draining,
            _ => Readiness::Starting,
        }
    }

    pub fn set_readiness(&self, r: Readiness) {
        self.readiness.store(r as u8, Ordering::SeqCst);
        sociograph_telemetry::record::ready(r == Readiness::Ready);
    }

    /// Install the loaded services and report ready; returns the ones replaced (a newer
    /// snapshot swapped in: requests already holding the old ones finish on them).
    pub fn install(&self, services: Services) -> Option<Arc<Services>> {
        let old = self
            .services
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .replace(Arc::new(services));
        if self.readiness() == Readiness::Starting {
            self.set_readiness(Readiness::Ready);
        }
        old
    }

    pub fn services(&self) -> Result<Arc<Services>, ApiError> {
        self.services_if_loaded()
            .ok_or_else(|| ApiError::NotReady("the service is starting; try again shortly".into()))
    }

    /// Requests holding an in-flight permit now.
    pub fn in_flight_count(&self) -> usize {
        self.settings
            .max_in_flight
            .max(1)
            .saturating_sub(self.in_flight.available_permits())
    }

    pub fn services_if_loaded(&self) -> Option<Arc<Services>> {
        self.services
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
