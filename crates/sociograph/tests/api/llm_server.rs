//! A local OpenAI-compatible server speaking the real wire protocol, standing in for a hosted
//! LLM. `/v1/chat/completions` answers extraction prompts by running the offline extractor on
//! the user message and replying in the JSON shape the prompt asks for (wrapped in a code fence
//! and prose, as real models often do); `/v1/embeddings` returns feature-hashing vectors.
//! Failure modes (HTTP errors, malformed replies) are switchable per test.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use sociograph_core::extract::{Extractor, OfflineExtractor};
use sociograph_llm::{Embedder, HashingEmbedder};

#[derive(Default)]
pub struct Behaviour {
    /// Answer every call with this status (0 = behave).
    pub fail_status: AtomicU16,
    /// Reply with prose instead of JSON.
    pub malformed: std::sync::atomic::AtomicBool,
    pub calls: AtomicUsize,
    pub last_authorization: Mutex<Option<String>>,
}

pub struct LlmServer {
    pub base_url: String,
    pub behaviour: Arc<Behaviour>,
}

pub async fn spawn() -> LlmServer {
    let behaviour = Arc::new(Behaviour::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
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
        behaviour,
    }
}

fn record(state: &Behaviour, headers: &HeaderMap) -> Option<Response> {
    state.calls.fetch_add(1, Ordering::SeqCst);
    *state
        .last_authorization
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = state.fail_status.load(Ordering::SeqCst);
    if status != 0 {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(
            (
                code,
                Json(json!({"error": {"message": "simulated upstream failure"}})),
            )
                .into_response(),
        );
    }
    None
}

async fn chat(
    State(state): State<Arc<Behaviour>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(failure) = record(&state, &headers) {
        return failure;
    }
    let model = body["model"].as_str().unwrap_or("test-model").to_owned();
    let user = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned();
    let content = if state.malformed.load(Ordering::SeqCst) {
        "I'm sorry, I can't produce JSON for this text.".to_owned()
    } else {
        let extraction = OfflineExtractor
            .extract(&[user.as_str()])
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_default();
        format!(
            "Here is the extraction:\n```json\n{}\n```",
            serde_json::to_string(&extraction).unwrap_or_default()
        )
    };
    let prompt_tokens = user.split_whitespace().count() as u64;
    let completion_tokens = content.split_whitespace().count() as u64;
    Json(json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}
    }))
    .into_response()
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
