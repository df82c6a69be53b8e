//! The OpenAI-compatible HTTP client: `/chat/completions` (plain and streamed) and the transport
//! that `/embeddings` and `/rerank` share.
//!
//! Works with OpenRouter, OpenAI, vLLM, Ollama, TGI and LiteLLM by base URL + key. Each request
//! has a timeout (for streams: the longest silence between two chunks); 429, 5xx and connection
//! failures are retried a bounded number of times with jittered exponential backoff, honouring
//! `Retry-After`; a semaphore bounds concurrent calls, and callers that must not queue (a user
//! waiting for an answer) get [`Error::Busy`] instead of waiting forever. Deterministic calls
//! can be served from a [`ResponseCache`].

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::Stream;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use crate::{Error, PriceTable, Result};
use sociograph_telemetry::record;

/// Extra headers for each outgoing request, computed at send time (the W3C `traceparent` of
/// the current span, for example). Installed by the binary's telemetry.
pub type HeaderHook = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// How to reach an OpenAI-compatible server.
#[derive(Clone)]
pub struct ClientConfig {
    /// e.g. `https://openrouter.ai/api/v1` or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    /// Whole-request limit for plain calls; longest gap between chunks for streams.
    pub timeout: Duration,
    pub max_retries: u32,
    pub max_concurrency: usize,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_concurrency", &self.max_concurrency)
            .finish()
    }
}

/// Stored replies to deterministic requests, keyed by a hash of the whole request.
///
/// Implementations are blocking and expected to be fast (a local database).
pub trait ResponseCache: Send + Sync {
    fn get(&self, key: &str) -> Option<String>;
    fn put(&self, key: &str, model: &str, reply: &str);
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "system".into(),
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChatOptions {
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// Ask for `response_format: {"type": "json_object"}` (servers that ignore it still work).
    pub json: bool,
    /// The request is deterministic: answer it from the response cache when possible and
    /// store the reply.
    pub cache: bool,
    /// Longest wait for a free concurrency slot; `None` waits as long as it takes.
    pub queue_wait: Option<Duration>,
    /// Retry a request that timed out. Right for background work; a person waiting for an
    /// answer would rather hear "timed out" once than wait for every retry to time out too.
    pub retry_timeouts: bool,
    /// What the call is for, as metrics label it: `extract`, `answer`, `translate`.
    pub operation: &'static str,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
}

#[derive(Debug, Clone)]
pub struct ChatReply {
    pub content: String,
    pub model: String,
    /// Tokens the provider reported (`None` if it reported none); zero for a cached reply,
    /// which spent nothing.
    pub usage: Option<Usage>,
    pub cached: bool,
}

/// One piece of a streamed completion.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamChunk {
    /// More answer text.
    Delta(String),
    /// Token usage, when the provider reports it (usually with the last chunk).
    Usage(Usage),
}

/// A streamed completion: chunks in order, ending after the provider's `[DONE]`. An error item
/// ends the stream (the provider failed mid-answer or went silent too long).
pub type ChatStream = Pin<Box<dyn Stream<Item = Result<StreamChunk>> + Send>>;

/// A shared, cloneable client.
#[derive(Clone)]
pub struct ChatClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    permits: Arc<Semaphore>,
    cache: Option<Arc<dyn ResponseCache>>,
    headers: Option<HeaderHook>,
    prices: Arc<PriceTable>,
}

/// How a model call ended, as the metrics label it.
pub(crate) fn outcome(result: &Result<impl Sized>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(e) => error_outcome(e),
    }
}

pub(crate) fn error_outcome(e: &Error) -> &'static str {
    match e {
        Error::Timeout { .. } => "timeout",
        Error::Busy { .. } => "busy",
        _ => "error",
    }
}

#[derive(Deserialize)]
struct CompletionBody {
    #[serde(default)]
    model: String,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ReplyMessage,
}

#[derive(Deserialize)]
struct ReplyMessage {
    #[serde(default)]
    content: Option<String>,
}

/// The request's retry outcome: the error and the server's `Retry-After`, if any.
type Attempt<T> = std::result::Result<T, (Error, Option<Duration>)>;

impl ChatClient {
    pub fn new(config: ClientConfig) -> Result<Self> {
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "LLM base URL must start with http:// or https://, got {:?}",
                config.base_url
            )));
        }
        // No client-wide timeout: plain calls set one per request, streams time each chunk.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5).min(config.timeout))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let permits = Arc::new(Semaphore::new(config.max_concurrency.max(1)));
        Ok(ChatClient {
            http,
            config: Arc::new(config),
            permits,
            cache: None,
            headers: None,
            prices: Arc::new(PriceTable::default()),
        })
    }

    /// The same client (sharing its concurrency limit) with a response cache.
    pub fn with_cache(mut self, cache: Arc<dyn ResponseCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The same client (sharing its concurrency limit) pricing its calls' tokens with `prices`
    /// for the cost metric.
    pub fn with_prices(mut self, prices: PriceTable) -> Self {
        self.prices = Arc::new(prices);
        self
    }

    /// Count a finished call's tokens and cost.
    pub(crate) fn meter_usage(&self, model: &str, operation: &'static str, usage: Usage) {
        let cost = self.prices.cost(model, usage);
        record::llm_usage(
            model,
            operation,
            usage.prompt_tokens,
            usage.completion_tokens,
            cost,
        );
    }

    /// The same client (sharing its concurrency limit) adding `hook`'s headers to each request.
    pub fn with_headers(mut self, hook: HeaderHook) -> Self {
        self.headers = Some(hook);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    pub fn timeout(&self) -> Duration {
        self.config.timeout
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.config.base_url.trim_end_matches('/'), path)
    }

    async fn permit(&self, wait: Option<Duration>) -> Result<OwnedSemaphorePermit> {
        let acquire = self.permits.clone().acquire_owned();
        let permit = match wait {
            None => acquire.await,
            Some(wait) => tokio::time::timeout(wait, acquire)
                .await
                .map_err(|_| Error::Busy {
                    limit: self.config.max_concurrency,
                })?,
        };
        permit.map_err(|_| Error::Config("the model client is shut down".into()))
    }

    fn request(&self, url: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        let mut request = self.http.post(url).json(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        if let Some(hook) = &self.headers {
            for (name, value) in hook() {
                request = request.header(name, value);
            }
        }
        request
    }

    /// Run `once` until it succeeds, fails for good, or the retries run out.
    async fn with_retries<T, F, Fut>(
        &self,
        url: &str,
        retry_timeouts: bool,
        mut once: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Attempt<T>>,
    {
        let retryable =
            |e: &Error| e.is_retryable() && (retry_timeouts || !matches!(e, Error::Timeout { .. }));
        let mut attempt = 0u32;
        loop {
            match once().await {
                Ok(v) => return Ok(v),
                Err((e, retry_after)) if retryable(&e) && attempt < self.config.max_retries => {
                    attempt += 1;
                    let backoff = retry_after.unwrap_or_else(|| {
                        let base = 250u64 * 2u64.pow(attempt - 1);
                        let jitter = rand::rng().random_range(0..=base / 2);
                        Duration::from_millis(base + jitter)
                    });
                    let backoff = backoff.min(Duration::from_secs(20));
                    tracing::warn!(%url, attempt, error = %e, ?backoff, "retrying model request");
                    tokio::time::sleep(backoff).await;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// POST `body` as JSON to `path` under the base URL, with retries; returns the JSON reply.
    /// `operation` labels the call's metrics (`embed`, `rerank`).
    pub async fn post_json(
        &self,
        operation: &'static str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let started = Instant::now();
        let result = self.post_json_with(path, body, None, true).await;
        let model = body["model"].as_str().unwrap_or("unknown");
        record::llm_request(model, operation, outcome(&result), started.elapsed());
        result
    }

    async fn post_json_with(
        &self,
        path: &str,
        body: &serde_json::Value,
        queue_wait: Option<Duration>,
        retry_timeouts: bool,
    ) -> Result<serde_json::Value> {
        let url = self.url(path);
        let _permit = self.permit(queue_wait).await?;
        self.with_retries(&url, retry_timeouts, || async {
            let response = self.send(&url, body, Some(self.config.timeout)).await?;
            response
                .json::<serde_json::Value>()
                .await
                .map_err(|e| (self.transport_error(&url, e), None))
        })
        .await
    }

    /// Send one request; a non-2xx status is an error carrying the server's `Retry-After`.
    async fn send(
        &self,
        url: &str,
        body: &serde_json::Value,
        timeout: Option<Duration>,
    ) -> Attempt<reqwest::Response> {
        let mut request = self.request(url, body);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let send = request.send();
        // A stream's headers must arrive within the timeout too.
        let response = tokio::time::timeout(self.config.timeout, send)
            .await
            .map_err(|_| (self.timeout_error(url), None))?
            .map_err(|e| (self.transport_error(url, e), None))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        let body: String = text.chars().take(500).collect();
        Err((
            Error::Status {
                url: url.to_owned(),
                status: status.as_u16(),
                body,
            },
            retry_after,
        ))
    }

    fn timeout_error(&self, url: &str) -> Error {
        Error::Timeout {
            url: url.to_owned(),
            seconds: self.config.timeout.as_secs(),
        }
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            self.timeout_error(url)
        } else if e.is_decode() {
            Error::BadReply(e.to_string())
        } else {
            Error::Connect {
                url: url.to_owned(),
                reason: e.to_string(),
            }
        }
    }

    fn body(
        model: &str,
        messages: &[ChatMessage],
        options: &ChatOptions,
        stream: bool,
    ) -> serde_json::Value {
        let mut body = serde_json::json!({
            "model": model,
            "messages": messages,
            "stream": stream,
        });
        if stream {
            // OpenAI, OpenRouter and vLLM then report usage in the last chunk.
            body["stream_options"] = serde_json::json!({"include_usage": true});
        }
        if let Some(t) = options.temperature {
            body["temperature"] = serde_json::json!(t);
        }
        if let Some(m) = options.max_tokens {
            body["max_tokens"] = serde_json::json!(m);
        }
        if options.json {
            body["response_format"] = serde_json::json!({"type": "json_object"});
        }
        body
    }

    /// One non-streaming chat completion.
    pub async fn chat(
        &self,
        model: &str,
        messages: &[ChatMessage],
        options: &ChatOptions,
    ) -> Result<ChatReply> {
        let started = Instant::now();
        let span = chat_span(model, options.operation);
        let result = self
            .chat_once(model, messages, options)
            .instrument(span.clone())
            .await;
        let label = match &result {
            Ok(reply) if reply.cached => "cached",
            other => outcome(other),
        };
        record::llm_request(model, options.operation, label, started.elapsed());
        match &result {
            Ok(reply) => {
                span.record("gen_ai.response.model", reply.model.as_str());
                if let Some(usage) = reply.usage {
                    record_usage_on(&span, usage);
                    self.meter_usage(model, options.operation, usage);
                }
            }
            Err(e) => {
                span.record("otel.status_code", "ERROR");
                span.record("error.type", error_outcome(e));
            }
        }
        result
    }

    async fn chat_once(
        &self,
        model: &str,
        messages: &[ChatMessage],
        options: &ChatOptions,
    ) -> Result<ChatReply> {
        let body = Self::body(model, messages, options, false);
        let cache = self.cache.as_ref().filter(|_| options.cache);
        let key = cache.map(|_| cache_key(&body));
        if let (Some(cache), Some(key)) = (cache, &key)
            && let Some(content) = cache.get(key)
        {
            return Ok(ChatReply {
                content,
                model: model.to_owned(),
                usage: Some(Usage::default()),
                cached: true,
            });
        }
        let value = self
            .post_json_with(
                "chat/completions",
                &body,
                options.queue_wait,
                options.retry_timeouts,
            )
            .await?;
        let parsed: CompletionBody =
            serde_json::from_value(value).map_err(|e| Error::BadReply(e.to_string()))?;
        let content = parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| Error::BadReply("no choices[0].message.content".into()))?;
        if let (Some(cache), Some(key)) = (cache, &key) {
            cache.put(key, model, &content);
        }
        Ok(ChatReply {
            content,
            model: if parsed.model.is_empty() {
                model.to_owned()
            } else {
                parsed.model
            },
            usage: parsed.usage,
            cached: false,
        })
    }

    /// A streamed chat completion. Connection failures and error statuses are retried (and
    /// returned here) before any text arrives; failures after that end the stream with an error.
    pub async fn chat_stream(
        &self,
        model: &str,
        messages: &[ChatMessage],
        options: &ChatOptions,
    ) -> Result<ChatStream> {
        let started = Instant::now();
        let span = chat_span(model, options.operation);
        let body = Self::body(model, messages, options, true);
        let url = self.url("chat/completions");
        let opened = async {
            let permit = self.permit(options.queue_wait).await?;
            let response = self
                .with_retries(&url, options.retry_timeouts, || {
                    self.send(&url, &body, None)
                })
                .await?;
            Ok::<_, Error>((permit, response))
        }
        .instrument(span.clone())
        .await;
        let (permit, response) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                span.record("otel.status_code", "ERROR");
                span.record("error.type", error_outcome(&e));
                record::llm_request(
                    model,
                    options.operation,
                    error_outcome(&e),
                    started.elapsed(),
                );
                return Err(e);
            }
        };
        Ok(crate::stream::completion_stream(
            Box::pin(response.bytes_stream()),
            crate::stream::Meter {
                client: self.clone(),
                model: model.to_owned(),
                operation: options.operation,
                started,
                span,
            },
            self.config.timeout,
            url,
            permit,
        ))
    }
}

/// The client span of one model call, named `chat {model}` with the OpenTelemetry GenAI
/// attributes; token usage is recorded on it when the reply reports it.
pub(crate) fn chat_span(model: &str, operation: &'static str) -> tracing::Span {
    tracing::info_span!(
        "chat",
        otel.name = %format!("chat {model}"),
        otel.kind = "client",
        otel.status_code = tracing::field::Empty,
        gen_ai.system = "openai",
        gen_ai.operation.name = "chat",
        gen_ai.request.model = %model,
        gen_ai.response.model = tracing::field::Empty,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        sociograph.operation = operation,
        error.type = tracing::field::Empty,
    )
}

pub(crate) fn record_usage_on(span: &tracing::Span, usage: Usage) {
    span.record("gen_ai.usage.input_tokens", usage.prompt_tokens);
    span.record("gen_ai.usage.output_tokens", usage.completion_tokens);
}

/// The cache key of a request: SHA-256 of its canonical JSON.
fn cache_key(body: &serde_json::Value) -> String {
    format!("{:x}", Sha256::digest(body.to_string().as_bytes()))
}
