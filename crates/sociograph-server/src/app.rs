//! [`Application`]: bind, load, serve, drain.
//!
//! The listener is bound first so `/health` can answer 503 while the data directory and model
//! load (on the blocking pool). Once loaded, the ingest worker starts, unfinished jobs resume,
//! and readiness flips to 200. On SIGTERM/SIGINT (or the test's shutdown future) readiness
//! flips to 503 at once and every response carries `Connection: close`; requests keep being
//! served for the drain period so a load balancer notices; then the listener closes (new
//! connections are refused), in-flight requests finish, and the worker stops between
//! documents — all within the drain timeout, after which whatever still runs is cut.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use sociograph_core::answer::{Answerer, Generator};
use sociograph_core::cache::StoreCache;
use sociograph_core::chunk::ChunkOptions;
use sociograph_core::extract::Extractor;
use sociograph_core::graph::GraphCache;
use sociograph_core::ingest::Pipeline;
use sociograph_core::retrieve::{Rerank, Retriever};
use sociograph_llm::{Embedder, ResponseCache};
use sociograph_store::{Store, StoreOptions};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::jobs;
use crate::replica::{self, ReplicaSource};
use crate::routes::router;
use crate::settings::ServerSettings;
use crate::state::{AppState, Readiness, Services, Writes};

/// Builds the extractor once the store exists, handing it the store-backed LLM response cache.
pub type ExtractorFactory = Box<dyn FnOnce(Arc<dyn ResponseCache>) -> Arc<dyn Extractor> + Send>;

/// The models a backend runs with.
pub struct Models {
    pub embedder: Arc<dyn Embedder>,
    pub extractor: ExtractorFactory,
    /// The optional cross-encoder after fusion.
    pub rerank: Option<Rerank>,
    /// The language model for answers; `None` makes answers extractive.
    pub generator: Option<Generator>,
}

impl Models {
    /// `embedder` with the given extractor, no reranker and extractive answers.
    pub fn basic(embedder: Arc<dyn Embedder>, extractor: Arc<dyn Extractor>) -> Self {
        Models {
            embedder,
            extractor: Box::new(move |_| extractor),
            rerank: None,
            generator: None,
        }
    }
}

/// What the loader hands back: the opened data directory and the models.
pub struct Backend {
    pub store: Arc<Store>,
    pub pipeline: Arc<Pipeline>,
    pub retriever: Arc<Retriever>,
    pub answerer: Arc<Answerer>,
    pub graph: Arc<GraphCache>,
    pub embedder: String,
    pub extractor: String,
}

impl Backend {
    /// Open the store at `data_dir` for the embedder and wire the ingest pipeline, retriever
    /// and answerer.
    pub fn open(
        data_dir: &std::path::Path,
        models: Models,
        chunking: ChunkOptions,
        max_bytes: u64,
    ) -> sociograph_store::Result<Backend> {
        let Models {
            embedder,
            extractor,
            rerank,
            generator,
        } = models;
        let store = Arc::new(Store::open(&StoreOptions {
            data_dir: data_dir.to_path_buf(),
            embedder: embedder.id().to_owned(),
            dimensions: embedder.dimensions(),
        })?);
        let extractor = extractor(Arc::new(StoreCache(store.clone())));
        let pipeline = Arc::new(Pipeline {
            store: store.clone(),
            embedder: embedder.clone(),
            extractor: extractor.clone(),
            chunking,
            max_bytes,
        });
        let retriever = Arc::new(Retriever {
            store: store.clone(),
            embedder: embedder.clone(),
            rerank,
        });
        let graph = Arc::new(GraphCache::new(store.clone()));
        let answerer = Arc::new(Answerer {
            retriever: retriever.clone(),
            store: store.clone(),
            graph: graph.clone(),
            generator,
        });
        Ok(Backend {
            embedder: embedder.id().to_owned(),
            extractor: extractor.name().to_owned(),
            store,
            pipeline,
            retriever,
            answerer,
            graph,
        })
    }
}

/// Opens the data directory and models; runs on a blocking thread. Errors are one line.
pub type Loader = Box<dyn FnOnce() -> Result<Backend, String> + Send>;

/// Where the served data comes from.
enum Source {
    /// This process's own data directory, written by its own ingest worker.
    Local(Loader),
    /// The worker's published snapshots (`serve --role api`).
    Replica(Box<ReplicaSource>),
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    port: u16,
    source: Source,
}

impl Application {
    /// Bind the listener (`settings.listen`, port 0 for any free port).
    pub async fn build(settings: ServerSettings, loader: Loader) -> std::io::Result<Self> {
        Self::bind(settings, Source::Local(loader)).await
    }

    /// An API replica: serves the published snapshots and queues writes for the worker.
    pub async fn build_replica(
        settings: ServerSettings,
        source: ReplicaSource,
    ) -> std::io::Result<Self> {
        Self::bind(settings, Source::Replica(Box::new(source))).await
    }

    async fn bind(settings: ServerSettings, source: Source) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&settings.listen).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen on {}: {e}", settings.listen),
            )
        })?;
        let port = listener.local_addr()?.port();
        Ok(Application {
            listener,
            state: AppState::new(settings),
            port,
            source,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> AppState {
        self.state.clone()
    }

    /// Serve until SIGTERM or SIGINT.
    pub async fn run_until_stopped(self) -> Result<(), String> {
        self.run_until(shutdown_signal()).await
    }

    /// Serve until `stop` completes (or loading fails, which is returned as the error).
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), String> {
        let Application {
            listener,
            state,
            source,
            ..
        } = self;
        let (close_tx, mut close_rx) = watch::channel(false);
        let (worker_stop_tx, worker_stop_rx) = watch::channel(false);

        let app = router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = close_rx.wait_for(|c| *c).await;
            })
            .await
        });

        // Load in the background; health says "starting" meanwhile.
        let load_state = state.clone();
        let loading = match source {
            Source::Replica(source) => tokio::spawn(async move {
                Ok::<_, String>(tokio::spawn(replica::follow(
                    load_state,
                    *source,
                    worker_stop_rx,
                )))
            }),
            Source::Local(loader) => tokio::spawn(async move {
                let backend = tokio::task::spawn_blocking(loader)
                    .await
                    .map_err(|e| format!("startup task failed: {e}"))??;
                let (queue, worker) = jobs::start(backend.pipeline.clone(), worker_stop_rx);
                let pipeline = backend.pipeline.clone();
                let resume_queue = queue.clone();
                match tokio::task::spawn_blocking(move || jobs::resume(&pipeline, &resume_queue))
                    .await
                {
                    Ok(Ok(n)) if n > 0 => {
                        tracing::info!(jobs = n, "resumed unfinished ingest jobs")
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "could not resume unfinished jobs"),
                    Err(e) => tracing::error!(error = %e, "resume task failed"),
                }
                sociograph_core::ingest::publish_corpus(&backend.store);
                let counts = backend.store.counts().ok();
                load_state.install(Services {
                    store: backend.store,
                    pipeline: backend.pipeline,
                    retriever: backend.retriever,
                    answerer: backend.answerer,
                    graph: backend.graph,
                    jobs: Writes::Local(queue),
                    embedder: backend.embedder,
                    extractor: backend.extractor,
                    snapshot: None,
                });
                tracing::info!(?counts, "ready");
                Ok::<_, String>(worker)
            }),
        };

        tokio::pin!(stop);
        let mut loading = Some(loading);
        let mut worker = None;
        let mut failure = None;
        loop {
            tokio::select! {
                _ = &mut stop => break,
                result = async {
                    match loading.as_mut() {
                        Some(handle) => handle.await,
                        None => std::future::pending().await,
                    }
                }, if loading.is_some() => {
                    loading = None;
                    match result {
                        Ok(Ok(handle)) => worker = Some(handle),
                        Ok(Err(e)) => { failure = Some(e); break; }
                        Err(e) => { failure = Some(format!("startup task failed: {e}")); break; }
                    }
                }
            }
        }

        state.set_readiness(Readiness::Draining);
        let deadline = tokio::time::Instant::now() + state.settings.drain_timeout;
        if failure.is_none() {
            let drain = state.settings.drain;
            tracing::info!(
                ?drain,
                "draining: /health now answers 503 and every response closes its connection"
            );
            tokio::time::sleep(drain).await;
        }
        // The listener closes: new connections are refused; idle keep-alive connections close;
        // requests in flight finish, up to the drain timeout.
        let _ = close_tx.send(true);
        let _ = worker_stop_tx.send(true);
        let mut server = server;
        match tokio::time::timeout_at(deadline, &mut server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "server error"),
            Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
            Err(_) => {
                tracing::warn!(
                    in_flight = state.in_flight_count(),
                    "drain timeout reached: requests still running are cut"
                );
                server.abort();
            }
        }
        if let Some(loading) = loading {
            loading.abort();
        }
        if let Some(worker) = worker
            && tokio::time::timeout_at(deadline, worker).await.is_err()
        {
            tracing::warn!(
                "drain timeout reached while a document was being ingested; its job stays queued and resumes at the next start"
            );
        }
        tracing::info!("stopped");
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}
