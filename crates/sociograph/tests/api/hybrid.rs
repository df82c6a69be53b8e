//! Hybrid retrieval on the demo corpus with the real MiniLM model: the graph reaches answers
//! that neither keyword nor vector search ranks in the top 5.

use std::sync::Arc;

use serde_json::Value;

use crate::helpers::{AppOptions, repo_root, spawn_app_with};

#[tokio::test(flavor = "multi_thread")]
async fn hybrid_finds_a_multi_hop_answer_that_keyword_and_vector_miss() {
    let model_dir = repo_root().join("models/all-MiniLM-L6-v2");
    let embedder = sociograph_llm::local_embedder(&model_dir)
        .expect("the MiniLM model is needed: run scripts/setup-test.sh");
    let app = spawn_app_with(AppOptions {
        embedder: Some(Arc::from(embedder)),
        ..AppOptions::default()
    })
    .await;
    let mut files: Vec<_> = std::fs::read_dir(repo_root().join("corpus/demo"))
        .expect("demo corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        app.ingest(&name, std::fs::read(path).expect("read")).await;
    }

    // Leonard Fisk is the CEO of the Bank of Halvard (bank-of-halvard-results.md); the bank's
    // loan to Marsh Holdings is on page 2 of the commission's report, which never names Fisk.
    let question = "What did Leonard Fisk pay for?";
    let is_answer = |hit: &Value| {
        hit["document"]["source"] == "harbour-contracts-commission-interim-report.pdf"
            && hit["page"] == 2
            && hit["text"]
                .as_str()
                .is_some_and(|t| t.contains("Marsh Holdings"))
    };
    let top5 = |result: &Value| -> bool {
        result["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .take(5)
            .any(is_answer)
    };
    let keyword = app.search(question, "keyword").await;
    let vector = app.search(question, "naive").await;
    let hybrid = app.search(question, "hybrid").await;
    assert!(
        !top5(&keyword),
        "keyword alone should not find it: {keyword}"
    );
    assert!(!top5(&vector), "vector alone should not find it: {vector}");
    assert!(
        top5(&hybrid),
        "hybrid should find it in the top 5: {hybrid}"
    );
    assert_eq!(hybrid["matched_entities"][0]["name"], "Leonard Fisk");

    // And the plain name search the README promises: hits from the right documents, with pages.
    let by_name = app.search("Magnus Valtersen", "hybrid").await;
    let sources: Vec<&str> = by_name["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["document"]["source"].as_str())
        .collect();
    assert!(
        sources.contains(&"valtersen-family-profile.md"),
        "{sources:?}"
    );
    let pdf_hit = by_name["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["document"]["source"] == "harbour-contracts-commission-interim-report.pdf")
        .unwrap_or_else(|| panic!("no PDF hit for Magnus Valtersen: {sources:?}"));
    assert_eq!(
        pdf_hit["page"], 3,
        "Magnus Valtersen's ownership is on page 3"
    );
    app.shutdown().await;
}
