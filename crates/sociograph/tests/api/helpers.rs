//! `spawn_app()` and typed helpers. No fixed ports, no bare sleeps: poll with a deadline.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sociograph_core::answer::Generator;
use sociograph_core::chunk::ChunkOptions;
use sociograph_core::extract::OfflineExtractor;
use sociograph_core::retrieve::Rerank;
use sociograph_llm::{Embedder, HashingEmbedder};
use sociograph_server::{
    Application, Backend, ExtractorFactory, Models, RateLimitSettings, ServerSettings,
};
use tempfile::TempDir;

pub const DEADLINE: Duration = Duration::from_secs(60);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(relative: &str) -> Vec<u8> {
    let path = repo_root().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// Options for [`spawn_app_with`].
pub struct AppOptions {
    pub api_keys: Vec<String>,
    pub max_upload_bytes: u64,
    pub max_in_flight: usize,
    pub rate_limit: RateLimitSettings,
    pub data_dir: Option<PathBuf>,
    pub embedder: Option<Arc<dyn Embedder>>,
    /// Builds the extractor with the store's LLM cache (default: the offline extractor).
    pub extractor: Option<ExtractorFactory>,
    /// Answers through this model (default: extractive answers).
    pub generator: Option<Generator>,
    /// Reorders fused hits (default: none).
    pub rerank: Option<Rerank>,
    /// Renders `/metrics` (default: none; the process-wide recorder is installed only by the
    /// metrics test binary).
    pub metrics: Option<sociograph_server::MetricsRender>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            api_keys: Vec::new(),
            max_upload_bytes: 5 * 1024 * 1024,
            max_in_flight: 512,
            rate_limit: RateLimitSettings::default(),
            data_dir: None,
            embedder: None,
            extractor: None,
            generator: None,
            rerank: None,
            metrics: None,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    pub state: sociograph_server::AppState,
    _temp: Option<TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(mut options: AppOptions) -> TestApp {
    let (temp, data_dir) = match options.data_dir.clone() {
        Some(d) => (None, d),
        None => {
            let t = tempfile::tempdir().expect("temp dir");
            let d = t.path().to_path_buf();
            (Some(t), d)
        }
    };
    let settings = ServerSettings {
        listen: "127.0.0.1:0".into(),
        color: "blue".into(),
        max_upload_bytes: options.max_upload_bytes,
        max_in_flight: options.max_in_flight,
        request_timeout: Duration::from_secs(30),
        drain: Duration::ZERO,
        drain_timeout: Duration::from_secs(10),
        api_keys: options.api_keys.iter().map(|k| k.clone().into()).collect(),
        trusted_proxies: Vec::new(),
        rate_limit: options.rate_limit.clone(),
        version: "test".into(),
        metrics: options.metrics.take(),
    };
    let embedder: Arc<dyn Embedder> = options
        .embedder
        .clone()
        .unwrap_or_else(|| Arc::new(HashingEmbedder::new(384)));
    let extractor: ExtractorFactory = options
        .extractor
        .take()
        .unwrap_or_else(|| Box::new(|_| Arc::new(OfflineExtractor)));
    let models = Models {
        embedder,
        extractor,
        rerank: options.rerank.take(),
        generator: options.generator.take(),
    };
    let dir = data_dir.clone();
    let max_bytes = options.max_upload_bytes;
    let loader = Box::new(move || backend(&dir, models, max_bytes));
    let app = Application::build(settings, loader).await.expect("bind");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until(async move {
        let _ = stop_rx.await;
    }));
    let test_app = TestApp {
        address,
        client: reqwest::Client::new(),
        data_dir,
        state,
        _temp: temp,
        stop: Some(stop_tx),
        handle: Some(handle),
    };
    test_app.wait_ready().await;
    test_app
}

pub fn backend(dir: &Path, models: Models, max_bytes: u64) -> Result<Backend, String> {
    Backend::open(dir, models, ChunkOptions::default(), max_bytes).map_err(|e| e.to_string())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    async fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            if let Ok(r) = self.client.get(self.url("/health")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(started.elapsed() < DEADLINE, "app did not become ready");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn search(&self, q: &str, mode: &str) -> Value {
        let r = self
            .client
            .get(self.url("/search"))
            .query(&[("q", q), ("mode", mode), ("k", "10")])
            .send()
            .await
            .expect("search");
        assert_eq!(r.status(), 200, "search {q:?} failed");
        r.json().await.expect("json")
    }

    pub async fn upload_with_key(
        &self,
        name: &str,
        bytes: Vec<u8>,
        key: Option<&str>,
    ) -> reqwest::Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
        let form = reqwest::multipart::Form::new().part("file", part);
        let mut request = self.client.post(self.url("/api/documents")).multipart(form);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send().await.expect("upload")
    }

    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        self.upload_with_key(name, bytes, None).await
    }

    /// Poll a job until it is done or failed.
    pub async fn wait_job(&self, job_id: &str) -> Value {
        let started = Instant::now();
        loop {
            let job: Value = self
                .get(&format!("/api/jobs/{job_id}"))
                .await
                .json()
                .await
                .expect("job json");
            if let Some("done" | "failed") = job["status"].as_str() {
                return job;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "job {job_id} did not finish: {job}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Upload one file, wait for its job, return the document id.
    pub async fn ingest(&self, name: &str, bytes: Vec<u8>) -> String {
        let r = self.upload(name, bytes).await;
        assert_eq!(r.status(), 202, "upload of {name} was not accepted");
        let body: Value = r.json().await.expect("json");
        let job = self
            .wait_job(body["job_id"].as_str().expect("job id"))
            .await;
        assert_eq!(job["status"], "done", "job failed: {job}");
        body["document_id"]
            .as_str()
            .expect("document id")
            .to_owned()
    }

    pub async fn delete(&self, id: &str) -> reqwest::Response {
        self.client
            .delete(self.url(&format!("/api/documents/{id}")))
            .send()
            .await
            .expect("delete")
    }

    pub async fn entities(&self, q: &str) -> Vec<Value> {
        let body: Value = self
            .client
            .get(self.url("/api/graph/entities"))
            .query(&[("q", q)])
            .send()
            .await
            .expect("entities")
            .json()
            .await
            .expect("json");
        body["entities"].as_array().cloned().unwrap_or_default()
    }

    /// Stop the app and wait for it to exit.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let result = tokio::time::timeout(DEADLINE, handle)
                .await
                .expect("shutdown in time");
            result.expect("join").expect("clean exit");
        }
    }
}

/// Sources (file names) of the hits in a search result.
pub fn hit_sources(result: &Value) -> Vec<String> {
    result["hits"]
        .as_array()
        .map(|hits| {
            hits.iter()
                .filter_map(|h| h["document"]["source"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A model client for the local test server: no key, no retries, two slots. (Used by the
/// metrics and tracing test binaries, which include this file.)
#[allow(dead_code)]
pub fn test_client(base_url: &str) -> sociograph_llm::ChatClient {
    sociograph_llm::ChatClient::new(sociograph_llm::ClientConfig {
        base_url: base_url.to_owned(),
        api_key: None,
        timeout: Duration::from_secs(10),
        max_retries: 0,
        max_concurrency: 2,
    })
    .expect("client")
}

/// Answers (and translations) by `answer-model` through `client`.
#[allow(dead_code)]
pub fn test_generator(
    client: sociograph_llm::ChatClient,
    prices: sociograph_llm::PriceTable,
) -> Generator {
    Generator {
        client,
        answer_model: "answer-model".into(),
        translate_model: "answer-model".into(),
        prices,
        temperature: 0.0,
        max_tokens: 100,
        queue_wait: Duration::from_secs(5),
    }
}
