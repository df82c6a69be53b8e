//! Traces end to end: an OTLP/HTTP receiver on 127.0.0.1 decodes the real protobuf the app
//! exports for one `/api/qa/ask` that arrives with a `traceparent`, and the local model server
//! sees the outgoing `traceparent`.
//!
//! Its own test binary: the tracing subscriber and the tracer provider are process-wide.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;
#[allow(dead_code)]
#[path = "api/llm_server.rs"]
mod llm_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use sociograph_llm::PriceTable;
use sociograph_telemetry::trace::{self, LogFormat, TraceSettings};

use helpers::{AppOptions, spawn_app_with, test_client, test_generator};
use llm_server::Reply;

type Received = Arc<Mutex<Vec<(Span, Vec<(String, String)>)>>>;

/// A minimal OTLP/HTTP traces receiver: decodes each protobuf export, keeps the spans with
/// their resource attributes.
async fn receiver() -> (String, Received) {
    async fn traces(State(received): State<Received>, body: Bytes) -> Vec<u8> {
        if let Ok(request) = ExportTraceServiceRequest::decode(body) {
            let mut spans = received.lock().unwrap_or_else(|e| e.into_inner());
            for rs in request.resource_spans {
                let resource: Vec<(String, String)> = rs
                    .resource
                    .map(|r| r.attributes)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|kv| (kv.key, string_value(kv.value.and_then(|v| v.value))))
                    .collect();
                for ss in rs.scope_spans {
                    for span in ss.spans {
                        spans.push((span, resource.clone()));
                    }
                }
            }
        }
        Vec::new()
    }
    let received: Received = Arc::default();
    let app = Router::new()
        .route("/v1/traces", post(traces))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://127.0.0.1:{port}/v1/traces"), received)
}

fn string_value(v: Option<AnyValue>) -> String {
    match v {
        Some(AnyValue::StringValue(s)) => s,
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        _ => String::new(),
    }
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| string_value(kv.value.clone().and_then(|v| v.value)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_question_is_one_trace_from_the_callers_span_down_to_the_model_call() {
    let (endpoint, received) = receiver().await;
    let guard = trace::init(&TraceSettings {
        service_name: "sociograph".into(),
        version: "test".into(),
        color: "green".into(),
        log_format: LogFormat::Json,
        default_filter: "info".into(),
        otlp_traces_endpoint: Some(endpoint),
        otel_enabled: true,
    })
    .expect("telemetry");

    let llm = llm_server::spawn().await;
    llm.behaviour.script(
        "answer-model",
        [Reply::text("Ingrid Valtersen chairs it [1].").usage(321, 12)],
    );
    let client = test_client(&llm.base_url).with_headers(trace::header_hook());
    let app = spawn_app_with(AppOptions {
        generator: Some(test_generator(client, PriceTable::default())),
        ..AppOptions::default()
    })
    .await;
    app.ingest(
        "trust.txt",
        b"Ingrid Valtersen chairs the Harbour Trust. The trust paid for the demolition.".to_vec(),
    )
    .await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let r = app
        .client
        .post(app.url("/api/qa/ask"))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .header("x-request-id", "req-trace-test")
        .json(&json!({"query": "Who chairs the Harbour Trust?"}))
        .send()
        .await
        .expect("ask");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-trace-test")
    );

    // Wait for the export of the whole trace (the server span ends after the response).
    let started = Instant::now();
    let spans: Vec<(Span, Vec<(String, String)>)> = loop {
        guard.flush().expect("flush");
        let spans: Vec<_> = received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(s, _)| hex(&s.trace_id) == trace_id)
            .cloned()
            .collect();
        if spans.iter().any(|(s, _)| s.name == "POST /api/qa/ask") {
            break spans;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no server span exported"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let by_name = |name: &str| -> &Span {
        &spans
            .iter()
            .find(|(s, _)| s.name == name)
            .unwrap_or_else(|| {
                let names: Vec<&str> = spans.iter().map(|(s, _)| s.name.as_str()).collect();
                panic!("no span {name:?} in {names:?}")
            })
            .0
    };
    let server = by_name("POST /api/qa/ask");
    assert_eq!(
        hex(&server.parent_span_id),
        caller_span,
        "the caller's span is the parent"
    );
    assert_eq!(
        attribute(server, "http.route").as_deref(),
        Some("/api/qa/ask")
    );
    assert_eq!(
        attribute(server, "request_id").as_deref(),
        Some("req-trace-test")
    );
    let retrieve = by_name("retrieve");
    assert_eq!(retrieve.parent_span_id, server.span_id);
    for stage in ["retrieve.vector", "retrieve.keyword", "retrieve.graph"] {
        assert_eq!(by_name(stage).parent_span_id, retrieve.span_id, "{stage}");
    }
    let answer = by_name("answer");
    assert_eq!(answer.parent_span_id, server.span_id);
    let chat = by_name("chat answer-model");
    assert_eq!(chat.parent_span_id, answer.span_id);
    assert_eq!(
        attribute(chat, "gen_ai.request.model").as_deref(),
        Some("answer-model")
    );
    assert_eq!(
        attribute(chat, "gen_ai.usage.input_tokens").as_deref(),
        Some("321")
    );
    assert_eq!(
        attribute(chat, "gen_ai.usage.output_tokens").as_deref(),
        Some("12")
    );
    assert_eq!(attribute(chat, "gen_ai.system").as_deref(), Some("openai"));
    // Resource attributes.
    let resource = &spans[0].1;
    for (key, value) in [
        ("service.name", "sociograph"),
        ("service.version", "test"),
        ("deployment.color", "green"),
    ] {
        assert!(
            resource.iter().any(|(k, v)| k == key && v == value),
            "resource lacks {key}={value}: {resource:?}"
        );
    }
    // The model server saw the chat span as the parent of its request.
    let traceparents = llm
        .behaviour
        .traceparents
        .lock()
        .map(|t| t.clone())
        .unwrap_or_default();
    let expected = format!("00-{trace_id}-{}-01", hex(&chat.span_id));
    assert!(
        traceparents.contains(&expected),
        "{traceparents:?} lacks {expected}"
    );
    app.shutdown().await;
}
