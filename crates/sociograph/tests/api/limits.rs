//! Auth, the in-flight limit and the per-client rate limit.

use serde_json::Value;
use sociograph_server::RateLimitSettings;

use crate::helpers::{AppOptions, fixture, spawn_app_with};

#[tokio::test]
async fn mutating_routes_need_a_valid_key_when_keys_are_configured() {
    let app = spawn_app_with(AppOptions {
        api_keys: vec!["s3cret-key".into()],
        ..AppOptions::default()
    })
    .await;
    let pdf = fixture("testdata/good/three-pages.pdf");
    let r = app.upload_with_key("a.pdf", pdf.clone(), None).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error_type"], "unauthorized");
    assert_eq!(
        app.upload_with_key("a.pdf", pdf.clone(), Some("wrong"))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.upload_with_key("a.pdf", pdf, Some("s3cret-key"))
            .await
            .status(),
        202
    );
    let r = app
        .client
        .delete(app.url("/api/documents/doc_0000000000000000"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), 401);
    // Reads, health and docs stay open.
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/search?q=harbour").await.status(), 200);
    assert_eq!(app.get("/openapi.json").await.status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn requests_over_the_in_flight_limit_get_429_with_retry_after() {
    let app = spawn_app_with(AppOptions {
        max_in_flight: 2,
        ..AppOptions::default()
    })
    .await;
    // Occupy every slot, as two slow requests would.
    let held = app
        .state
        .in_flight
        .clone()
        .acquire_many_owned(2)
        .await
        .expect("permits");
    let r = app.get("/search?q=harbour").await;
    assert_eq!(r.status(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    // Health is outside the limit: the load balancer must still see the instance.
    assert_eq!(app.get("/health").await.status(), 200);
    drop(held);
    assert_eq!(app.get("/search?q=harbour").await.status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after() {
    let app = spawn_app_with(AppOptions {
        rate_limit: RateLimitSettings {
            enabled: true,
            per_second: 0.5,
            burst: 3,
        },
        ..AppOptions::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/search?q=harbour").await.status(), 200);
    }
    let r = app.get("/search?q=harbour").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("retry-after");
    assert!((1..=2).contains(&retry), "retry-after {retry}");
    let body: Value = r.json().await.expect("json");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("rate limit")
    );
    app.shutdown().await;
}

#[tokio::test]
async fn concurrency_fifty_stays_under_the_default_limit() {
    let app = spawn_app_with(AppOptions::default()).await;
    let requests = (0..50).map(|_| app.client.get(app.url("/search?q=harbour+council")).send());
    let responses = futures::future::join_all(requests).await;
    for r in responses {
        assert_eq!(r.expect("request").status(), 200);
    }
    app.shutdown().await;
}
