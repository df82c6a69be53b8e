//! The LLM extractor and the OpenAI-compatible embedder against a local test server.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use sociograph_core::extract::LlmExtractor;
use sociograph_core::retrieve::Rerank;
use sociograph_llm::{ChatClient, ClientConfig, Embedder, OpenAiEmbedder, Reranker};

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

/// The app with the LLM extractor (and the store's response cache) pointed at the local test
/// server.
async fn app_with_llm_extractor(llm: &llm_server::LlmServer) -> TestApp {
    let client = client(&llm.base_url);
    let runtime = tokio::runtime::Handle::current();
    spawn_app_with(AppOptions {
        extractor: Some(Box::new(move |cache| {
            Arc::new(LlmExtractor::new(
                client.with_cache(cache),
                "extract-model",
                runtime,
            ))
        })),
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
        llm.behaviour.authorization().as_deref(),
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
async fn the_extraction_cache_makes_a_second_ingest_of_the_same_text_call_no_model() {
    let llm = llm_server::spawn().await;
    let app = app_with_llm_extractor(&llm).await;
    let text =
        b"Ingrid Valtersen chairs the Harbour Trust. Edward Marsh leads the Dockworkers Union. \
                 Victoria Lund met Judge Ruth Calloway at the Port Authority."
            .to_vec();
    let id = app.ingest("trust.txt", text.clone()).await;
    let first = llm.behaviour.calls_for("extract-model");
    assert!(first >= 1, "the first ingest must ask the model");
    assert_eq!(app.delete(&id).await.status(), 200);
    assert!(app.entities("Valtersen").await.is_empty());

    app.ingest("trust.txt", text).await;
    assert_eq!(
        llm.behaviour.calls_for("extract-model"),
        first,
        "the second ingest of the same text must be served from the cache"
    );
    // The cached replies rebuilt the same graph.
    assert_eq!(app.entities("Valtersen").await[0]["type"], "person");
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

fn reranker(base_url: &str) -> Rerank {
    Rerank {
        reranker: Reranker::new(client(base_url), Some("rerank-model".into())),
        runtime: tokio::runtime::Handle::current(),
        candidates: 20,
    }
}

async fn seed_fish_hall(app: &TestApp) {
    for (name, text) in [
        (
            "a.txt",
            "The fish hall stood on the quay for a century. Traders sold herring there.",
        ),
        (
            "b.txt",
            "The Harbour Trust paid for the demolition of the Saltmarket Fish Hall.",
        ),
        (
            "c.txt",
            "Residents marched against the demolition plan in the rain.",
        ),
    ] {
        app.ingest(name, text.as_bytes().to_vec()).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reranker_reorders_fused_hits_and_its_time_is_a_stage() {
    let llm = llm_server::spawn().await;
    let app = spawn_app_with(AppOptions {
        rerank: Some(reranker(&llm.root_url)),
        ..AppOptions::default()
    })
    .await;
    seed_fish_hall(&app).await;
    let result = app
        .search("who paid for the demolition of the fish hall", "hybrid")
        .await;
    assert_eq!(result["reranked"], true, "{result}");
    assert!(result["timings"]["rerank_ms"].as_f64() > Some(0.0));
    assert_eq!(hit_sources(&result)[0], "b.txt");
    let scores: Vec<f64> = result["hits"]
        .as_array()
        .map(|h| h.iter().filter_map(|h| h["score"].as_f64()).collect())
        .unwrap_or_default();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let rerank_calls = llm.behaviour.calls.load(Ordering::SeqCst);
    assert_eq!(rerank_calls, 1);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_reranker_leaves_the_fused_order_and_search_still_answers() {
    let llm = llm_server::spawn().await;
    llm.behaviour.fail_status.store(503, Ordering::SeqCst);
    let app = spawn_app_with(AppOptions {
        rerank: Some(reranker(&llm.root_url)),
        ..AppOptions::default()
    })
    .await;
    seed_fish_hall(&app).await;
    let result = app.search("demolition of the fish hall", "hybrid").await;
    assert_eq!(result["reranked"], false);
    assert_eq!(result["hits"].as_array().map(Vec::len), Some(3));
    app.shutdown().await;
}
