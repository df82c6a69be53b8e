//! A local OpenAI-compatible server speaking the real wire protocol, standing in for a hosted
//! LLM. `/v1/chat/completions` answers plain and streamed (`text/event-stream`, `data:` lines,
//! `[DONE]`) requests; `/v1/embeddings` returns feature-hashing vectors; `/rerank` scores texts
//! by shared words, in TEI's reply shape.
//!
//! Each model has a queue of scripted replies (status, delay, content, usage, stream piece size,
//! mid-stream failure). A model with an empty queue falls back to extraction: it runs the
//! offline extractor on the user message and replies with its JSON wrapped in a code fence and
//! prose, as real models often do. In scripted content, `{{cite:some phrase}}` becomes `[n]`,
//! where n is the number of the source in the prompt whose text contains the phrase — so a
//! test can cite "the chunk that says X" without knowing the retrieval order.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use sociograph_core::extract::{Extractor, OfflineExtractor};
use sociograph_llm::{Embedder, HashingEmbedder};

/// One scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status; anything but 200 answers `{"error": …}`.
    pub status: u16,
    /// Wait this long before answering (before the headers, for streams).
    pub delay: Duration,
    pub content: String,
    /// (prompt, completion) tokens reported; `None` reports no usage at all.
    pub usage: Option<(u64, u64)>,
    /// Characters per streamed delta.
    pub piece: usize,
    /// For streams: after this many deltas, send an error event and stop (no `[DONE]`).
    pub fail_after: Option<usize>,
}

impl Reply {
    pub fn text(content: &str) -> Self {
        Reply {
            status: 200,
            delay: Duration::ZERO,
            content: content.to_owned(),
            usage: Some((100, 20)),
            piece: 4,
            fail_after: None,
        }
    }

    pub fn status(status: u16) -> Self {
        Reply {
            status,
            ..Reply::text("")
        }
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn usage(mut self, prompt: u64, completion: u64) -> Self {
        self.usage = Some((prompt, completion));
        self
    }

    pub fn piece(mut self, chars: usize) -> Self {
        self.piece = chars.max(1);
        self
    }

    pub fn fail_after(mut self, deltas: usize) -> Self {
        self.fail_after = Some(deltas);
        self
    }
}

#[derive(Default)]
pub struct Behaviour {
    /// Answer every call with this status (0 = behave).
    pub fail_status: AtomicU16,
    /// Reply with prose instead of JSON (extraction fallback only).
    pub malformed: AtomicBool,
    pub calls: AtomicUsize,
    last_authorization: Mutex<Option<String>>,
    /// The `traceparent` header of every request that carried one, in order.
    pub traceparents: Mutex<Vec<String>>,
    scripts: Mutex<HashMap<String, VecDeque<Reply>>>,
    calls_by_model: Mutex<HashMap<String, usize>>,
    /// Every chat request body received, in order.
    pub requests: Mutex<Vec<Value>>,
}

impl Behaviour {
    /// Queue replies for `model`, served in order.
    pub fn script(&self, model: &str, replies: impl IntoIterator<Item = Reply>) {
        self.scripts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(model.to_owned())
            .or_default()
            .extend(replies);
    }

    /// The `Authorization` header of the last request.
    pub fn authorization(&self) -> Option<String> {
        self.last_authorization
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn calls_for(&self, model: &str) -> usize {
        self.calls_by_model
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(model)
            .copied()
            .unwrap_or(0)
    }

    /// Chat request bodies sent to `model`.
    pub fn requests_for(&self, model: &str) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|r| r["model"] == model)
            .cloned()
            .collect()
    }

    fn next_reply(&self, model: &str) -> Option<Reply> {
        self.scripts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(model)
            .and_then(VecDeque::pop_front)
    }
}

pub struct LlmServer {
    pub base_url: String,
    /// The server root (no `/v1`), for `/rerank`.
    pub root_url: String,
    pub behaviour: Arc<Behaviour>,
}

pub async fn spawn() -> LlmServer {
    let behaviour = Arc::new(Behaviour::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
        .route("/rerank", post(rerank))
        .with_state(behaviour.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    LlmServer {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        root_url: format!("http://127.0.0.1:{port}"),
        behaviour,
    }
}

fn error_response(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        Json(json!({"error": {"message": "simulated upstream failure"}})),
    )
        .into_response()
}

fn record(state: &Behaviour, headers: &HeaderMap) -> Option<Response> {
    state.calls.fetch_add(1, Ordering::SeqCst);
    if let Some(tp) = headers.get("traceparent").and_then(|v| v.to_str().ok()) {
        state
            .traceparents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tp.to_owned());
    }
    *state
        .last_authorization
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match state.fail_status.load(Ordering::SeqCst) {
        0 => None,
        status => Some(error_response(status)),
    }
}

/// The text of each numbered source in an answer prompt: `[n] heading\ntext…`.
fn prompt_sources(user: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    for line in user.lines() {
        if line.starts_with("Question: ") || line.starts_with("The knowledge graph connects") {
            break;
        }
        let numbered = line
            .strip_prefix('[')
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(n, _)| n.parse::<usize>().ok());
        match numbered {
            Some(n) => out.push((n, String::new())),
            None => {
                if let Some((_, text)) = out.last_mut() {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    out
}

/// Replace `{{cite:phrase}}` with `[n]` of the source containing the phrase (`[0]` if none).
fn resolve_citations(content: &str, user: &str) -> String {
    let sources = prompt_sources(user);
    let mut out = String::new();
    let mut rest = content;
    while let Some(start) = rest.find("{{cite:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 7..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let phrase = &after[..end];
        let n = sources
            .iter()
            .find(|(_, text)| text.contains(phrase))
            .map_or(0, |(n, _)| *n);
        out.push_str(&format!("[{n}]"));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn extraction_reply(state: &Behaviour, user: &str) -> Reply {
    let content = if state.malformed.load(Ordering::SeqCst) {
        "I'm sorry, I can't produce JSON for this text.".to_owned()
    } else {
        let extraction = OfflineExtractor
            .extract(&[user])
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_default();
        format!(
            "Here is the extraction:\n```json\n{}\n```",
            serde_json::to_string(&extraction).unwrap_or_default()
        )
    };
    let prompt = user.split_whitespace().count() as u64;
    let completion = content.split_whitespace().count() as u64;
    Reply::text(&content).usage(prompt, completion)
}

async fn chat(
    State(state): State<Arc<Behaviour>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    state
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(body.clone());
    if let Some(failure) = record(&state, &headers) {
        return failure;
    }
    let model = body["model"].as_str().unwrap_or("test-model").to_owned();
    *state
        .calls_by_model
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(model.clone())
        .or_default() += 1;
    let user = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let mut reply = state
        .next_reply(&model)
        .unwrap_or_else(|| extraction_reply(&state, &user));
    reply.content = resolve_citations(&reply.content, &user);
    tokio::time::sleep(reply.delay).await;
    if reply.status != 200 {
        return error_response(reply.status);
    }
    let usage = reply
        .usage
        .map(|(p, c)| json!({"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}));
    if body["stream"] == true {
        let include_usage = body["stream_options"]["include_usage"] == true;
        return stream(&model, &reply, usage.filter(|_| include_usage));
    }
    let mut out = json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content}, "finish_reason": "stop"}],
    });
    if let Some(usage) = usage {
        out["usage"] = usage;
    }
    Json(out).into_response()
}

fn sse(data: &Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

/// The reply as OpenAI streams it: role, content pieces, finish, usage, `[DONE]`.
fn stream(model: &str, reply: &Reply, usage: Option<Value>) -> Response {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events: Vec<Bytes> = vec![
        Bytes::from_static(b": keep-alive comment, ignored by clients\n\n"),
        sse(&chunk(
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        )),
    ];
    let chars: Vec<char> = reply.content.chars().collect();
    for (i, piece) in chars.chunks(reply.piece).enumerate() {
        if reply.fail_after == Some(i) {
            events.push(sse(
                &json!({"error": {"message": "upstream overloaded", "code": 502}}),
            ));
            return sse_response(events);
        }
        let text: String = piece.iter().collect();
        events.push(sse(&chunk(json!({"content": text}), Value::Null)));
    }
    events.push(sse(&chunk(json!({}), json!("stop"))));
    if let Some(usage) = usage {
        events.push(sse(
            &json!({"id": "chatcmpl-test", "object": "chat.completion.chunk",
                                "model": model, "choices": [], "usage": usage}),
        ));
    }
    events.push(Bytes::from_static(b"data: [DONE]\n\n"));
    sse_response(events)
}

/// Send `events` one at a time with a short pause, as a real server trickles tokens.
fn sse_response(events: Vec<Bytes>) -> Response {
    let body = futures::stream::unfold(events.into_iter(), |mut events| async move {
        let next = events.next()?;
        tokio::time::sleep(Duration::from_millis(2)).await;
        Some((Ok::<_, Infallible>(next), events))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| error_response(500))
}

async fn embeddings(
    State(state): State<Arc<Behaviour>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(failure) = record(&state, &headers) {
        return failure;
    }
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let vectors = HashingEmbedder::new(64).embed(&refs).unwrap_or_default();
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, v)| json!({"object": "embedding", "index": i, "embedding": v}))
        .collect();
    Json(json!({"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 1, "total_tokens": 1}})).into_response()
}

/// TEI's `/rerank`: `[{index, score}]`, scored by words shared with the query (best first).
async fn rerank(
    State(state): State<Arc<Behaviour>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(failure) = record(&state, &headers) {
        return failure;
    }
    let words = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_owned)
            .collect()
    };
    let query = words(body["query"].as_str().unwrap_or_default());
    let mut scored: Vec<Value> = body["texts"]
        .as_array()
        .map(|texts| {
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let text = words(t.as_str().unwrap_or_default());
                    let score = query.iter().filter(|w| text.contains(w)).count() as f64
                        / (1.0 + text.len() as f64).ln();
                    json!({"index": i, "score": score})
                })
                .collect()
        })
        .unwrap_or_default();
    scored.sort_by(|a, b| {
        b["score"]
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&a["score"].as_f64().unwrap_or(0.0))
    });
    Json(Value::Array(scored)).into_response()
}
