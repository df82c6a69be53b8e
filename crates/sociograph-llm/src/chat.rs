//! The OpenAI-compatible HTTP client: `/chat/completions` (and the transport that
//! `/embeddings` shares).
//!
//! Works with OpenRouter, OpenAI, vLLM, Ollama, TGI and LiteLLM by base URL + key. Each request
//! has a timeout; 429, 5xx and connection failures are retried a bounded number of times with
//! jittered exponential backoff, honouring `Retry-After`; a semaphore bounds concurrent calls.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::{Error, Result};

/// How to reach an OpenAI-compatible server.
#[derive(Clone)]
pub struct ClientConfig {
    /// e.g. `https://openrouter.ai/api/v1` or `http://127.0.0.1:8080/v1`.
    pub base_url: String,
    pub api_key: Option<SecretString>,
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
    pub usage: Usage,
}

/// A shared, cloneable client.
#[derive(Clone)]
pub struct ChatClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    permits: Arc<Semaphore>,
}

#[derive(Deserialize)]
struct CompletionBody {
    #[serde(default)]
    model: String,
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Usage,
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

impl ChatClient {
    pub fn new(config: ClientConfig) -> Result<Self> {
        if !(config.base_url.starts_with("http://") || config.base_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "LLM base URL must start with http:// or https://, got {:?}",
                config.base_url
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(5).min(config.timeout))
            .build()
            .map_err(|e| Error::Config(e.to_string()))?;
        let permits = Arc::new(Semaphore::new(config.max_concurrency.max(1)));
        Ok(ChatClient {
            http,
            config: Arc::new(config),
            permits,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.config.base_url.trim_end_matches('/'), path)
    }

    /// POST `body` as JSON to `path` under the base URL, with retries; returns the JSON reply.
    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let url = self.url(path);
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Config("client is shut down".into()))?;
        let mut attempt = 0u32;
        loop {
            match self.post_once(&url, body).await {
                Ok(v) => return Ok(v),
                Err((e, retry_after)) if e.is_retryable() && attempt < self.config.max_retries => {
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

    async fn post_once(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> std::result::Result<serde_json::Value, (Error, Option<Duration>)> {
        let mut request = self.http.post(url).json(body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose_secret());
        }
        let response = request
            .send()
            .await
            .map_err(|e| (self.transport_error(url, e), None))?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = response.text().await.unwrap_or_default();
            let body: String = text.chars().take(500).collect();
            return Err((
                Error::Status {
                    url: url.to_owned(),
                    status: status.as_u16(),
                    body,
                },
                retry_after,
            ));
        }
        response
            .json::<serde_json::Value>()
            .await
            .map_err(|e| (self.transport_error(url, e), None))
    }

    fn transport_error(&self, url: &str, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            Error::Timeout {
                url: url.to_owned(),
                seconds: self.config.timeout.as_secs(),
            }
        } else if e.is_decode() {
            Error::BadReply(e.to_string())
        } else {
            Error::Connect {
                url: url.to_owned(),
                reason: e.to_string(),
            }
        }
    }

    /// One non-streaming chat completion.
    pub async fn chat(
        &self,
        model: &str,
        messages: &[ChatMessage],
        options: &ChatOptions,
    ) -> Result<ChatReply> {
        let mut body = serde_json::json!({
            "model": model,
            "messages": messages,
            "stream": false,
        });
        if let Some(t) = options.temperature {
            body["temperature"] = serde_json::json!(t);
        }
        if let Some(m) = options.max_tokens {
            body["max_tokens"] = serde_json::json!(m);
        }
        if options.json {
            body["response_format"] = serde_json::json!({"type": "json_object"});
        }
        let value = self.post_json("chat/completions", &body).await?;
        let parsed: CompletionBody =
            serde_json::from_value(value).map_err(|e| Error::BadReply(e.to_string()))?;
        let content = parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| Error::BadReply("no choices[0].message.content".into()))?;
        Ok(ChatReply {
            content,
            model: if parsed.model.is_empty() {
                model.to_owned()
            } else {
                parsed.model
            },
            usage: parsed.usage,
        })
    }
}
