//! The LLM extractor and the OpenAI-compatible embedder against a local test server.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use sociograph_core::extract::LlmExtractor;
use sociograph_llm::{ChatClient, ClientConfig, Embedder, OpenAiEmbedder};

use crate::helpers::{AppOptions, TestApp, hit_sources, spawn_app_with};
use crate::llm_server;

fn client(base_url: &str) -> ChatClient {
    ChatClient::new(ClientConfig {
        base_url: base_url.to_owned(),
        api_key: Some("test-key".to_owned().into()),
        timeout: Duration::from_secs(5),
        max_retries: 2,
        max_concurrency: 4,
    })
    .expect("client")
}

/// The app with the LLM extractor pointed at the local test server.
async fn app_with_llm_extractor(llm: &llm_server::LlmServer) -> TestApp {
    let extractor = Arc::new(LlmExtractor::new(
        client(&llm.base_url),
        "extract-model",
        tokio::runtime::Handle::current(),
    ));
    spawn_app_with(AppOptions {
        extractor: Some(extractor),
        ..AppOptions::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn llm_extractor_builds_the_graph_through_the_chat_api() {
    let llm = llm_server::spawn().await;
    let app = app_with_llm_extractor(&llm).await;
    app.ingest(
        "trust.txt",
        b"Ingrid Valtersen chairs the Harbour Trust. Victoria Lund toured Victoria District."
            .to_vec(),
    )
    .await;
    assert!(llm.behaviour.calls.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        llm.behaviour
            .last_authorization
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
            .as_deref(),
        Some("Bearer test-key")
    );
    let people = app.entities("Ingrid Valtersen").await;
    assert_eq!(people[0]["type"], "person");
    let detail: Value = app
        .get(&format!("/api/graph/entities/{}", people[0]["id"]))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        detail["relations"][0]["target"]["name"], "Harbour Trust",
        "{detail}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn llm_outage_fails_the_job_with_a_reason_and_writes_nothing() {
    let llm = llm_server::spawn().await;
    llm.behaviour.fail_status.store(503, Ordering::SeqCst);
    let app = app_with_llm_extractor(&llm).await;
    let r = app
        .upload("a.txt", b"Mayor Helena Brandt backed the plan.".to_vec())
        .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.expect("json");
    let job = app.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "failed");
    assert!(
        job["error"].as_str().unwrap_or_default().contains("503"),
        "{job}"
    );
    // 1 try + 2 retries.
    assert_eq!(llm.behaviour.calls.load(Ordering::SeqCst), 3);
    let list: Value = app.get("/api/documents").await.json().await.expect("json");
    assert_eq!(list["total"], 0, "a failed ingest must store nothing");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_llm_replies_yield_no_graph_but_the_text_is_still_searchable() {
    let llm = llm_server::spawn().await;
    llm.behaviour.malformed.store(true, Ordering::SeqCst);
    let app = app_with_llm_extractor(&llm).await;
    app.ingest(
        "a.txt",
        b"Mayor Helena Brandt backed the quillberry plan.".to_vec(),
    )
    .await;
    assert!(app.entities("Helena").await.is_empty());
    assert_eq!(
        hit_sources(&app.search("quillberry", "keyword").await),
        vec!["a.txt"]
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_compatible_embedder_is_probed_and_used() {
    let llm = llm_server::spawn().await;
    let handle = tokio::runtime::Handle::current();
    let base = llm.base_url.clone();
    let embedder = tokio::task::spawn_blocking(move || {
        OpenAiEmbedder::connect(client(&base), "embed-model", handle)
    })
    .await
    .expect("join")
    .expect("connect");
    assert_eq!(embedder.dimensions(), 64);
    assert_eq!(embedder.id(), "openai:embed-model");
    let app = spawn_app_with(AppOptions {
        embedder: Some(Arc::new(embedder)),
        ..AppOptions::default()
    })
    .await;
    app.ingest(
        "a.txt",
        b"The Dockworkers Union called a strike on the Northern Quay.".to_vec(),
    )
    .await;
    app.ingest("b.txt", b"Heavy rain flooded Victoria District.".to_vec())
        .await;
    assert_eq!(
        hit_sources(&app.search("dockworkers strike", "naive").await)[0],
        "a.txt"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_embedder_refuses_to_start_when_the_endpoint_is_down() {
    let llm = llm_server::spawn().await;
    llm.behaviour.fail_status.store(401, Ordering::SeqCst);
    let handle = tokio::runtime::Handle::current();
    let base = llm.base_url.clone();
    let result = tokio::task::spawn_blocking(move || {
        OpenAiEmbedder::connect(client(&base), "embed-model", handle)
    })
    .await
    .expect("join");
    let err = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("401"), "{err}");
    // 401 is not retryable.
    assert_eq!(llm.behaviour.calls.load(Ordering::SeqCst), 1);
}
