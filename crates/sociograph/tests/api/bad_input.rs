//! Every kind of bad input gets a 4xx that says what is wrong; the server stays up and the
//! documents ingested before still answer.

use serde_json::Value;

use crate::helpers::{AppOptions, TestApp, fixture, hit_sources, spawn_app_with};

const SIZE_LIMIT: u64 = 64 * 1024;

async fn app_with_a_document() -> TestApp {
    let app = spawn_app_with(AppOptions {
        max_upload_bytes: SIZE_LIMIT,
        ..AppOptions::default()
    })
    .await;
    app.ingest("three-pages.pdf", fixture("testdata/good/three-pages.pdf"))
        .await;
    app
}

/// The server is still up, the earlier document still answers, and nothing new was stored.
async fn assert_intact(app: &TestApp) {
    assert_eq!(app.get("/health").await.status(), 200);
    let result = app.search("zephyrine", "hybrid").await;
    assert_eq!(
        hit_sources(&result).first().map(String::as_str),
        Some("three-pages.pdf")
    );
    let list: Value = app.get("/api/documents").await.json().await.expect("json");
    assert_eq!(
        list["total"], 1,
        "a rejected upload must store nothing: {list}"
    );
    let uploads = walk_files(&app.data_dir.join("uploads"));
    assert_eq!(
        uploads, 1,
        "a rejected upload must leave no file in uploads/"
    );
}

fn walk_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    if e.path().is_dir() {
                        walk_files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn rejected(
    app: &TestApp,
    r: reqwest::Response,
    status: u16,
    error_type: &str,
    needle: &str,
) {
    assert_eq!(r.status().as_u16(), status);
    let body: Value = r.json().await.expect("error body is JSON");
    assert_eq!(body["error_type"], error_type, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(
        message.contains(needle),
        "message {message:?} should mention {needle:?}"
    );
    assert_intact(app).await;
}

#[tokio::test]
async fn truncated_pdf_is_rejected_with_422() {
    let app = app_with_a_document().await;
    let r = app
        .upload("truncated.pdf", fixture("testdata/bad/truncated.pdf"))
        .await;
    rejected(&app, r, 422, "corrupt_pdf", "not a readable PDF").await;
}

#[tokio::test]
async fn encrypted_pdf_is_rejected_with_422() {
    let app = app_with_a_document().await;
    let r = app
        .upload("encrypted.pdf", fixture("testdata/bad/encrypted.pdf"))
        .await;
    rejected(&app, r, 422, "encrypted_pdf", "encrypted").await;
}

/// Regression: a self-referencing Form XObject made pdf-extract recurse until the stack
/// overflowed, aborting the whole server.
#[tokio::test]
async fn pdf_whose_form_draws_itself_is_rejected_and_the_server_survives() {
    let app = app_with_a_document().await;
    let r = app
        .upload("loop.pdf", fixture("testdata/bad/self-form.pdf"))
        .await;
    rejected(&app, r, 422, "corrupt_pdf", "cycle").await;
}

#[tokio::test]
async fn image_only_pdf_is_rejected_with_422() {
    let app = app_with_a_document().await;
    let r = app
        .upload("scan.pdf", fixture("testdata/bad/image-only.pdf"))
        .await;
    rejected(&app, r, 422, "no_text", "no extractable text").await;
}

#[tokio::test]
async fn blank_pdf_is_rejected_with_422() {
    let app = app_with_a_document().await;
    let r = app
        .upload("blank.pdf", fixture("testdata/bad/blank.pdf"))
        .await;
    rejected(&app, r, 422, "no_text", "no extractable text").await;
}

#[tokio::test]
async fn zero_byte_file_is_rejected_with_422() {
    let app = app_with_a_document().await;
    let r = app.upload("empty.txt", Vec::new()).await;
    rejected(&app, r, 422, "empty_file", "empty (0 bytes)").await;
}

#[tokio::test]
async fn file_over_the_size_limit_is_rejected_with_413() {
    let app = app_with_a_document().await;
    let big = "Mayor Brandt spoke. "
        .repeat((SIZE_LIMIT as usize / 20) + 100)
        .into_bytes();
    let r = app.upload("big.txt", big).await;
    rejected(&app, r, 413, "too_large", "limit").await;
}

#[tokio::test]
async fn executable_renamed_pdf_is_rejected_with_415() {
    let app = app_with_a_document().await;
    let r = app
        .upload("report.pdf", fixture("testdata/bad/program.pdf"))
        .await;
    rejected(&app, r, 415, "unsupported_type", "ELF executable").await;
}

#[tokio::test]
async fn unsupported_extension_is_rejected_with_415() {
    let app = app_with_a_document().await;
    let r = app
        .upload("sheet.xlsx", b"not really a spreadsheet".to_vec())
        .await;
    rejected(&app, r, 415, "unsupported_type", ".xlsx").await;
}

#[tokio::test]
async fn filename_with_dot_dot_is_rejected_with_400() {
    let app = app_with_a_document().await;
    let r = app
        .upload("../../etc/passwd.txt", b"Mayor Brandt".to_vec())
        .await;
    rejected(&app, r, 400, "invalid_input", "path").await;
}

#[tokio::test]
async fn invalid_utf8_text_is_rejected_with_422() {
    let app = app_with_a_document().await;
    let r = app
        .upload("latin1.txt", fixture("testdata/bad/invalid-utf8.txt"))
        .await;
    rejected(&app, r, 422, "invalid_utf8", "not valid UTF-8").await;
}

#[tokio::test]
async fn one_bad_file_in_a_batch_rejects_the_whole_batch() {
    let app = app_with_a_document().await;
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"Councillor Reyes spoke.".to_vec())
                .file_name("ok.txt"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(Vec::new()).file_name("empty.txt"),
        );
    let r = app
        .client
        .post(app.url("/api/documents"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    rejected(&app, r, 422, "empty_file", "empty.txt").await;
}

#[tokio::test]
async fn upload_without_multipart_is_rejected_with_400() {
    let app = app_with_a_document().await;
    let r = app
        .client
        .post(app.url("/api/documents"))
        .body("hello")
        .send()
        .await
        .expect("post");
    rejected(&app, r, 400, "invalid_input", "multipart").await;
}

#[tokio::test]
async fn empty_query_is_rejected_with_400() {
    let app = app_with_a_document().await;
    let r = app
        .client
        .get(app.url("/search"))
        .query(&[("q", "   ")])
        .send()
        .await
        .expect("get");
    rejected(&app, r, 400, "invalid_input", "empty").await;
    let r = app.get("/search").await;
    rejected(&app, r, 400, "invalid_input", "empty").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hundred_kilobyte_query_is_rejected_with_a_reason() {
    let app = app_with_a_document().await;
    let q = "harbour ".repeat(100 * 1024 / 8);
    // Through POST the query reaches the handler, which says what is wrong.
    let r = app
        .client
        .post(app.url("/search"))
        .json(&serde_json::json!({"q": q}))
        .send()
        .await
        .expect("post");
    rejected(&app, r, 400, "invalid_input", "limit is 2000").await;
    // A GET URI that long is refused by the HTTP layer itself (414, no body), before any
    // handler: HTTP clients cannot even build such a URI.
    let addr = app.address.trim_start_matches("http://").to_owned();
    let path = format!("/search?q={}", q.replace(' ', "+"));
    let status = tokio::task::spawn_blocking(move || raw_get(&addr, &path))
        .await
        .expect("join");
    assert_eq!(status, 414);
    // Long but still representable GET queries get the handler's message.
    let q = "harbour ".repeat(10 * 1024 / 8);
    let r = app
        .client
        .get(app.url("/search"))
        .query(&[("q", q.as_str())])
        .send()
        .await
        .expect("get");
    rejected(&app, r, 400, "invalid_input", "limit is 2000").await;
}

/// Send a GET with a raw request line (reqwest refuses URIs over 64 kB) and return the status.
fn raw_get(addr: &str, path: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn bad_k_and_mode_are_rejected_with_400() {
    let app = app_with_a_document().await;
    let r = app
        .client
        .get(app.url("/search"))
        .query(&[("q", "harbour"), ("k", "0")])
        .send()
        .await
        .expect("get");
    rejected(&app, r, 400, "invalid_input", "k must be between 1 and 100").await;
    let r = app
        .client
        .get(app.url("/search"))
        .query(&[("q", "harbour"), ("k", "ten")])
        .send()
        .await
        .expect("get");
    rejected(&app, r, 400, "invalid_input", "whole number").await;
    let r = app
        .client
        .get(app.url("/search"))
        .query(&[("q", "harbour"), ("mode", "psychic")])
        .send()
        .await
        .expect("get");
    rejected(&app, r, 400, "invalid_input", "unknown mode").await;
}

#[tokio::test]
async fn malformed_ids_are_rejected_with_400_and_unknown_ones_with_404() {
    let app = app_with_a_document().await;
    let r = app.get("/api/documents/not-an-id").await;
    rejected(&app, r, 400, "invalid_input", "not a document id").await;
    let r = app.get("/api/documents/doc_0000000000000000").await;
    rejected(&app, r, 404, "not_found", "no document").await;
    let r = app.get("/api/graph/entities/abc").await;
    rejected(&app, r, 400, "invalid_input", "not an entity id").await;
    let r = app.get("/api/jobs/job_nope").await;
    rejected(&app, r, 404, "not_found", "no job").await;
    let r = app.get("/no/such/route").await;
    rejected(&app, r, 404, "not_found", "no such route").await;
}
