//! `/metrics` against the real app: the HTTP histogram moves for exactly the route templates
//! that were called, retrieval stages are observed, and LLM token and cost counters match the
//! scripted usage and the price table.
//!
//! Its own test binary: the Prometheus recorder is process-wide, and no other test may move
//! the counters between the two scrapes.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "api/llm_server.rs"]
mod llm_server;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::json;
use sociograph_llm::{Price, PriceTable};

use helpers::{AppOptions, spawn_app_with, test_client, test_generator};
use llm_server::Reply;

type Series = HashMap<(String, BTreeMap<String, String>), f64>;

/// Parse the text exposition: `name{a="x",b="y"} value` → ((name, labels), value).
fn parse(text: &str) -> Series {
    let mut out = Series::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let Some((key, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match key.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (key, ""),
        };
        let mut map = BTreeMap::new();
        for pair in labels.split("\",").filter(|p| !p.is_empty()) {
            if let Some((k, v)) = pair.split_once("=\"") {
                map.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
            }
        }
        out.insert((name.to_owned(), map), value);
    }
    out
}

fn value(series: &Series, name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    series
        .iter()
        .filter(|((n, l), _)| n == name && want.iter().all(|(k, v)| l.get(k) == Some(v)))
        .map(|(_, v)| *v)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_move_for_exactly_the_routes_called_and_count_llm_tokens_and_cost() {
    let handle = sociograph_telemetry::prometheus::install().expect("recorder");
    let llm = llm_server::spawn().await;
    let mut prices = PriceTable::default();
    prices.0.insert(
        "answer-model".into(),
        Price {
            input_per_million: 2.0,
            output_per_million: 10.0,
        },
    );
    let client = test_client(&llm.base_url).with_prices(prices.clone());
    let app = spawn_app_with(AppOptions {
        metrics: Some(Arc::new(move || handle.render())),
        generator: Some(test_generator(client, prices)),
        ..AppOptions::default()
    })
    .await;
    let doc = app
        .ingest(
            "trust.txt",
            b"Ingrid Valtersen chairs the Harbour Trust. The trust paid for the demolition."
                .to_vec(),
        )
        .await;
    llm.behaviour.script(
        "answer-model",
        [Reply::text("Ingrid Valtersen [1].").usage(1_234, 56)],
    );

    let before = parse(&app.get("/metrics").await.text().await.expect("scrape"));
    for _ in 0..3 {
        assert_eq!(app.get("/search?q=harbour+trust").await.status(), 200);
    }
    for _ in 0..2 {
        assert_eq!(
            app.get(&format!("/api/documents/{doc}")).await.status(),
            200
        );
    }
    assert_eq!(
        app.get("/api/documents/doc_ffffffffffffffff")
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/no/such/route/42").await.status(), 404);
    let r = app
        .client
        .post(app.url("/api/qa/ask"))
        .json(&json!({"query": "Who chairs the Harbour Trust?"}))
        .send()
        .await
        .expect("ask");
    assert_eq!(r.status(), 200);
    let text = app.get("/metrics").await.text().await.expect("scrape");
    let after = parse(&text);

    // Which (route, method, status) counts moved, and by how much.
    let count = "http_server_request_duration_seconds_count";
    let mut moved: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    for ((name, labels), v) in &after {
        if name != count {
            continue;
        }
        let old = before
            .get(&(name.clone(), labels.clone()))
            .copied()
            .unwrap_or(0.0);
        if *v != old {
            moved.insert(
                (
                    labels["http_route"].clone(),
                    labels["http_request_method"].clone(),
                    labels["http_response_status_code"].clone(),
                ),
                v - old,
            );
        }
    }
    let expected: BTreeMap<(String, String, String), f64> = [
        ("/search", "GET", "200", 3.0),
        ("/api/documents/{id}", "GET", "200", 2.0),
        ("/api/documents/{id}", "GET", "404", 1.0),
        ("unmatched", "GET", "404", 1.0),
        ("/api/qa/ask", "POST", "200", 1.0),
        ("/metrics", "GET", "200", 1.0),
    ]
    .into_iter()
    .map(|(r, m, s, n)| ((r.to_owned(), m.to_owned(), s.to_owned()), n))
    .collect();
    assert_eq!(moved, expected);

    // No raw path or id in any route label.
    for (_, labels) in after.keys() {
        if let Some(route) = labels.get("http_route") {
            assert!(
                !route.contains("doc_") && !route.contains("42"),
                "raw path in a label: {route}"
            );
        }
    }
    // Histograms, not summaries: buckets exist from 1 ms to 60 s.
    assert!(text.contains("http_server_request_duration_seconds_bucket{"));
    assert!(text.contains("le=\"0.001\""));
    assert!(text.contains("le=\"60\""));

    // Retrieval stages: 3 searches + 1 ask, each with a vector stage.
    let vector = "sociograph_retrieval_duration_seconds_count";
    let stage = |s: &Series, st: &str| value(s, vector, &[("stage", st)]);
    assert_eq!(stage(&after, "vector") - stage(&before, "vector"), 4.0);
    assert_eq!(stage(&after, "total") - stage(&before, "total"), 4.0);

    // LLM tokens and cost from the scripted usage and the price table.
    let tokens = |s: &Series, dir: &str| {
        value(
            s,
            "sociograph_llm_tokens_total",
            &[
                ("model", "answer-model"),
                ("operation", "answer"),
                ("direction", dir),
            ],
        )
    };
    assert_eq!(tokens(&after, "input") - tokens(&before, "input"), 1_234.0);
    assert_eq!(tokens(&after, "output") - tokens(&before, "output"), 56.0);
    let cost = value(
        &after,
        "sociograph_llm_cost_usd_total",
        &[("model", "answer-model"), ("operation", "answer")],
    );
    // 1234 × $2/M + 56 × $10/M
    assert!((cost - 0.003028).abs() < 1e-9, "{cost}");
    let calls = value(
        &after,
        "sociograph_llm_request_duration_seconds_count",
        &[
            ("model", "answer-model"),
            ("operation", "answer"),
            ("outcome", "ok"),
        ],
    );
    assert_eq!(calls, 1.0);

    // Ingest and corpus.
    assert_eq!(
        value(
            &after,
            "sociograph_ingest_documents_total",
            &[("outcome", "ingested")]
        ),
        1.0
    );
    assert_eq!(value(&after, "sociograph_documents", &[]), 1.0);
    assert!(value(&after, "sociograph_vectors", &[]) >= 1.0);
    assert!(
        value(
            &after,
            "sociograph_ingest_stage_duration_seconds_count",
            &[("stage", "embed")]
        ) >= 1.0
    );
    assert_eq!(value(&after, "sociograph_ready", &[]), 1.0);
    assert_eq!(
        value(&after, "http_server_active_requests", &[]),
        1.0,
        "only the scrape itself"
    );
    app.shutdown().await;
}
