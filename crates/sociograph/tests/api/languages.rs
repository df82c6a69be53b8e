//! Arabic over HTTP: Arabic queries find Arabic documents, and entity names given in both
//! scripts connect Arabic questions to English evidence.

use serde_json::{Value, json};

use crate::helpers::{TestApp, fixture, hit_sources, spawn_app};

async fn app_with_demo(files: &[&str]) -> TestApp {
    let app = spawn_app().await;
    for name in files {
        app.ingest(name, fixture(&format!("corpus/demo/{name}")))
            .await;
    }
    app
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arabic_query_retrieves_the_arabic_demo_document() {
    let app = app_with_demo(&[
        "ar-saltmarket-residents.md",
        "ar-election-report.txt",
        "fish-hall-demolition.txt",
        "election-results.txt",
    ])
    .await;
    // "the fish market" — the Arabic report on the Saltmarket Fish Hall.
    for mode in ["hybrid", "keyword"] {
        let result = app.search("سوق السمك", mode).await;
        assert_eq!(
            hit_sources(&result).first().map(String::as_str),
            Some("ar-saltmarket-residents.md"),
            "{mode}: {result}"
        );
    }
    // Spelling variants (hamza, taa marbuta) still match.
    let result = app.search("نقابه عمال الارصفه", "keyword").await;
    assert_eq!(hit_sources(&result)[0], "ar-election-report.txt");
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_given_in_both_scripts_links_an_arabic_query_to_english_evidence() {
    let app = app_with_demo(&[
        "ar-election-report.txt",
        "dockworkers-union-home.html",
        "fish-hall-demolition.txt",
    ])
    .await;
    // The Arabic report writes "نقابة عمال الأرصفة (Dockworkers Union)".
    let entities = app.entities("نقابة عمال الأرصفة").await;
    assert_eq!(entities.len(), 1, "{entities:?}");
    assert_eq!(entities[0]["name"], "Dockworkers Union");
    // Graph retrieval from the Arabic name reaches the English page about the union.
    let result = app.search("نقابة عمال الأرصفة", "local").await;
    assert_eq!(result["matched_entities"][0]["name"], "Dockworkers Union");
    let sources = hit_sources(&result);
    assert!(
        sources.contains(&"dockworkers-union-home.html".to_owned()),
        "{sources:?}"
    );
    assert!(sources.contains(&"ar-election-report.txt".to_owned()));
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arabic_question_without_a_model_gets_an_arabic_extractive_answer() {
    let app = app_with_demo(&["ar-saltmarket-residents.md", "fish-hall-demolition.txt"]).await;
    // "Who funded the demolition of the fish market?"
    let r = app
        .client
        .post(app.url("/api/qa/ask"))
        .json(&json!({"query": "من موّل هدم سوق السمك؟", "language": "ar"}))
        .send()
        .await
        .expect("ask");
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.expect("json");
    assert_eq!(answer["mode"], "extractive");
    let text = answer["answer"].as_str().unwrap_or_default();
    assert!(text.contains("صندوق الميناء"), "{text}");
    assert_eq!(
        answer["citations"][0]["document"]["source"],
        "ar-saltmarket-residents.md"
    );
    // Already Arabic: no "cannot translate" notice.
    assert!(
        !answer["notice"]
            .as_str()
            .unwrap_or_default()
            .contains("Translation"),
        "{answer}"
    );
    app.shutdown().await;
}
