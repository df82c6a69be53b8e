//! Upload → job → searchable → delete → gone.

use serde_json::Value;

use crate::helpers::{AppOptions, fixture, hit_sources, spawn_app, spawn_app_with};

#[tokio::test]
async fn uploaded_pdf_becomes_searchable_with_page_numbers() {
    let app = spawn_app().await;
    app.ingest("three-pages.pdf", fixture("testdata/good/three-pages.pdf"))
        .await;

    let result = app.search("zephyrine", "keyword").await;
    let hit = &result["hits"][0];
    assert_eq!(hit["document"]["source"], "three-pages.pdf");
    assert_eq!(hit["page"], 2, "zephyrine is on page 2: {hit}");
    assert!(
        hit["text"]
            .as_str()
            .unwrap_or_default()
            .contains("zephyrine")
    );
    let result = app.search("marrowlight", "hybrid").await;
    assert_eq!(result["hits"][0]["page"], 3);
    app.shutdown().await;
}

#[tokio::test]
async fn upload_then_delete_removes_text_vectors_and_exclusive_entities() {
    let app = spawn_app().await;
    // A document that shares "Saltmarket District" with the memo, so it must survive the delete.
    app.ingest(
        "district.txt",
        b"The Saltmarket District flooded again in May. Residents of the Saltmarket District met the council.".to_vec(),
    )
    .await;
    let memo = app
        .ingest(
            "brackwater-memo.pdf",
            fixture("testdata/good/brackwater-memo.pdf"),
        )
        .await;

    let found = app
        .search("Orla Quennell Brackwater Foundation", "hybrid")
        .await;
    assert!(hit_sources(&found).contains(&"brackwater-memo.pdf".to_owned()));
    assert!(
        !app.entities("Orla Quennell").await.is_empty(),
        "memo entity should exist"
    );
    assert!(
        !app.entities("Piers Ambry").await.is_empty(),
        "page-2 entity should exist"
    );

    let r = app.delete(&memo).await;
    assert_eq!(r.status(), 200);

    for mode in ["hybrid", "naive", "keyword", "local"] {
        let after = app
            .search("Orla Quennell Brackwater Foundation Piers Ambry", mode)
            .await;
        assert!(
            !hit_sources(&after).contains(&"brackwater-memo.pdf".to_owned()),
            "deleted document still found in {mode} mode: {after}"
        );
    }
    assert!(
        app.entities("Orla Quennell").await.is_empty(),
        "exclusive entity should be gone"
    );
    assert!(app.entities("Brackwater Foundation").await.is_empty());
    assert!(
        !app.entities("Saltmarket District").await.is_empty(),
        "shared entity must survive"
    );
    assert_eq!(
        app.get(&format!("/api/documents/{memo}")).await.status(),
        404
    );
    assert_eq!(
        app.delete(&memo).await.status(),
        404,
        "second delete is a 404"
    );

    let list: Value = app.get("/api/documents").await.json().await.expect("json");
    assert_eq!(list["total"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn same_content_twice_is_a_no_op() {
    let app = spawn_app().await;
    let id = app
        .ingest(
            "a.txt",
            b"Mayor Helena Brandt opened the Northern Quay terminal.".to_vec(),
        )
        .await;
    let again = app
        .upload(
            "renamed.txt",
            b"Mayor Helena Brandt opened the Northern Quay terminal.".to_vec(),
        )
        .await;
    assert_eq!(again.status(), 200);
    let body: Value = again.json().await.expect("json");
    assert_eq!(body["document_id"], id.as_str());
    assert_eq!(body["documents"][0]["duplicate"], true);
    let list: Value = app.get("/api/documents").await.json().await.expect("json");
    assert_eq!(list["total"], 1);
    app.shutdown().await;
}

#[tokio::test]
async fn documents_survive_a_restart_and_the_index_is_reloaded() {
    let dir = tempfile::tempdir().expect("tmp");
    let options = || AppOptions {
        data_dir: Some(dir.path().to_path_buf()),
        ..AppOptions::default()
    };
    let app = spawn_app_with(options()).await;
    app.ingest("three-pages.pdf", fixture("testdata/good/three-pages.pdf"))
        .await;
    app.shutdown().await;

    let app = spawn_app_with(options()).await;
    let result = app.search("quillberry", "naive").await;
    assert_eq!(
        hit_sources(&result).first().map(String::as_str),
        Some("three-pages.pdf")
    );
    let doc: Value = app.get("/api/documents").await.json().await.expect("json");
    assert_eq!(doc["documents"][0]["pages"], 3);
    app.shutdown().await;
}

#[tokio::test]
async fn a_job_left_queued_by_a_crash_resumes_at_startup() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        // Simulate a process that accepted an upload and died before ingesting it.
        let store = sociograph_store::Store::open(&sociograph_store::StoreOptions {
            data_dir: dir.path().to_path_buf(),
            embedder: "hashing-v1".into(),
            dimensions: 384,
        })
        .expect("store");
        let bytes = fixture("testdata/good/three-pages.pdf");
        let hash = sociograph_core::ingest::content_hash(&bytes);
        store.save_upload(&hash, &bytes).expect("save");
        let doc = sociograph_core::types::DocumentId::from_hash(&hash);
        store
            .create_job("job_resumetest", "three-pages.pdf", &hash, doc.as_str())
            .expect("job");
    }
    let app = spawn_app_with(AppOptions {
        data_dir: Some(dir.path().to_path_buf()),
        ..AppOptions::default()
    })
    .await;
    let job = app.wait_job("job_resumetest").await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        hit_sources(&app.search("zephyrine", "keyword").await)[0],
        "three-pages.pdf"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn document_status_reports_queued_and_ready() {
    let app = spawn_app().await;
    let r = app
        .upload("three-pages.pdf", fixture("testdata/good/three-pages.pdf"))
        .await;
    let body: Value = r.json().await.expect("json");
    let id = body["document_id"].as_str().expect("id").to_owned();
    app.wait_job(body["job_id"].as_str().expect("job")).await;
    let status: Value = app
        .get(&format!("/api/documents/{id}"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(status["status"], "ready");
    assert_eq!(status["document"]["pages"], 3);
    assert_eq!(status["document"]["media_type"], "pdf");
    app.shutdown().await;
}
