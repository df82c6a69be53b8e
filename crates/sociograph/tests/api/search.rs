//! Retrieval over HTTP: modes, Arabic, health and docs.

use serde_json::Value;

use crate::helpers::{hit_sources, spawn_app};

#[tokio::test]
async fn health_reports_ready_version_and_color() {
    let app = spawn_app().await;
    let r = app.get("/health").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["color"], "blue");
    assert_eq!(body["version"], "test");
    assert!(body["snapshot"].is_u64(), "{body}");
    assert_eq!(app.get("/health/live").await.status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn every_mode_returns_hits_with_documents_and_timings() {
    let app = spawn_app().await;
    app.ingest(
        "council.txt",
        b"Councillor Tomas Reyes chairs the planning committee. Reyes backed the Harbour Gate plan.".to_vec(),
    )
    .await;
    app.ingest(
        "weather.txt",
        b"Heavy rain flooded the lower streets near the river on Tuesday.".to_vec(),
    )
    .await;
    for mode in ["hybrid", "naive", "keyword", "local"] {
        let result = app.search("Tomas Reyes", mode).await;
        assert_eq!(result["mode"], mode);
        assert_eq!(
            hit_sources(&result).first().map(String::as_str),
            Some("council.txt"),
            "{mode}: {result}"
        );
        let hit = &result["hits"][0];
        assert!(hit["score"].as_f64().is_some_and(|s| s > 0.0));
        assert!(hit["chunk_id"].is_i64());
        assert!(
            hit["document"]["id"]
                .as_str()
                .is_some_and(|s| s.starts_with("doc_"))
        );
        assert!(result["timings"]["total_ms"].is_f64());
    }
    let local = app.search("Tomas Reyes", "local").await;
    assert_eq!(local["matched_entities"][0]["name"], "Tomas Reyes");
    let names: Vec<&str> = local["hits"][0]["entities"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(names.contains(&"Tomas Reyes"), "{names:?}");
    app.shutdown().await;
}

#[tokio::test]
async fn arabic_text_is_indexed_and_found_whatever_the_spelling_variant() {
    let app = spawn_app().await;
    app.ingest(
        "ar.txt",
        "أسست سلمى العطار لجنة نساء الحي في عام ٢٠١٩. تدير اللجنة مطبخاً مجتمعياً."
            .as_bytes()
            .to_vec(),
    )
    .await;
    app.ingest(
        "en.txt",
        b"The committee met on Friday to discuss the market.".to_vec(),
    )
    .await;
    // Same words typed with a plain alef and without the taa marbuta.
    let result = app.search("اسست لجنه", "keyword").await;
    assert_eq!(
        hit_sources(&result).first().map(String::as_str),
        Some("ar.txt"),
        "{result}"
    );
    let result = app.search("سلمى العطار", "hybrid").await;
    assert_eq!(
        hit_sources(&result).first().map(String::as_str),
        Some("ar.txt")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn openapi_and_docs_describe_the_api() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.expect("json");
    for path in [
        "/health",
        "/search",
        "/api/documents",
        "/api/documents/{id}",
        "/api/jobs/{id}",
        "/api/graph/entities/{id}",
        "/api/qa/ask",
        "/api/qa/ask/stream",
        "/api/history",
        "/api/history/{id}",
    ] {
        assert!(spec["paths"][path].is_object(), "openapi lacks {path}");
    }
    for schema in ["SearchResult", "Answer", "AskBody", "HistoryPage", "Source"] {
        assert!(
            spec["components"]["schemas"][schema].is_object(),
            "openapi lacks the {schema} schema"
        );
    }
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(
        docs.text()
            .await
            .unwrap_or_default()
            .contains("/openapi.json")
    );
    app.shutdown().await;
}
