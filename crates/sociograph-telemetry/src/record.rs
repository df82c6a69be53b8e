//! Recording helpers: the only place label sets are spelled out.

use std::time::Duration;

use metrics::{counter, gauge, histogram};

use crate::names::*;

/// One finished HTTP request. `route` must be the route *template* (`/api/documents/{id}`),
/// or `unmatched` — never a raw path.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    histogram!(HTTP_DURATION,
        "http_request_method" => method.to_owned(),
        "http_route" => route.to_owned(),
        "http_response_status_code" => status.to_string())
    .record(elapsed.as_secs_f64());
}

/// A request started (+1) or finished (-1).
pub fn http_active(delta: f64) {
    gauge!(HTTP_ACTIVE).increment(delta);
}

/// Time spent in one retrieval stage: vector, keyword, graph, rerank or total.
pub fn retrieval_stage(stage: &'static str, elapsed: Duration) {
    histogram!(RETRIEVAL_DURATION, "stage" => stage).record(elapsed.as_secs_f64());
}

/// One model call: how long, and how it ended (ok, error, timeout, busy, cached).
pub fn llm_request(model: &str, operation: &'static str, outcome: &'static str, elapsed: Duration) {
    histogram!(LLM_DURATION,
        "model" => model.to_owned(), "operation" => operation, "outcome" => outcome)
    .record(elapsed.as_secs_f64());
}

/// Tokens a model call consumed and produced, and what it cost (when the model has a price).
pub fn llm_usage(model: &str, operation: &'static str, input: u64, output: u64, usd: Option<f64>) {
    counter!(LLM_TOKENS, "model" => model.to_owned(), "operation" => operation, "direction" => "input")
        .increment(input);
    counter!(LLM_TOKENS, "model" => model.to_owned(), "operation" => operation, "direction" => "output")
        .increment(output);
    if let Some(usd) = usd {
        // Counters are integers in the facade; cost is kept as a float gauge that only grows.
        gauge!(LLM_COST, "model" => model.to_owned(), "operation" => operation).increment(usd);
    }
}

/// A document's ingest finished: ingested, duplicate or failed.
pub fn ingest_document(outcome: &'static str) {
    counter!(INGEST_DOCUMENTS, "outcome" => outcome).increment(1);
}

pub fn ingest_stage(stage: &'static str, elapsed: Duration) {
    histogram!(INGEST_STAGE_DURATION, "stage" => stage).record(elapsed.as_secs_f64());
}

pub fn ingest_queue_depth(depth: usize) {
    gauge!(INGEST_QUEUE_DEPTH).set(depth as f64);
}

/// What the data directory holds.
pub fn corpus(documents: u64, chunks: u64, entities: u64, relations: u64, vectors: u64) {
    gauge!(DOCUMENTS).set(documents as f64);
    gauge!(CHUNKS).set(chunks as f64);
    gauge!(ENTITIES).set(entities as f64);
    gauge!(RELATIONS).set(relations as f64);
    gauge!(VECTORS).set(vectors as f64);
}

pub fn backup_succeeded(unix_seconds: f64) {
    gauge!(BACKUP_LAST_SUCCESS).set(unix_seconds);
}

pub fn backup_verified(unix_seconds: f64) {
    gauge!(BACKUP_LAST_VERIFIED).set(unix_seconds);
}

/// The snapshot served (or published) and how old it is now.
pub fn snapshot(version: u64, created_at_unix: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    gauge!(SNAPSHOT_VERSION).set(version as f64);
    gauge!(SNAPSHOT_AGE).set((now - created_at_unix as f64).max(0.0));
}

/// `outcome`: swapped or failed (replica), published or failed (worker).
pub fn snapshot_update(outcome: &'static str) {
    counter!(SNAPSHOT_UPDATES, "outcome" => outcome).increment(1);
}

pub fn build_info(version: &str, revision: &str, color: &str) {
    gauge!(BUILD_INFO,
        "version" => version.to_owned(), "revision" => revision.to_owned(), "color" => color.to_owned())
    .set(1.0);
}

pub fn ready(ready: bool) {
    gauge!(READY).set(if ready { 1.0 } else { 0.0 });
}

pub fn gpu_available(available: bool) {
    gauge!(GPU_AVAILABLE).set(if available { 1.0 } else { 0.0 });
}

pub fn gpu(index: u32, utilization_ratio: f64, memory_used_bytes: u64) {
    gauge!(GPU_UTILIZATION, "gpu" => index.to_string()).set(utilization_ratio);
    gauge!(GPU_MEMORY_USED, "gpu" => index.to_string()).set(memory_used_bytes as f64);
}
