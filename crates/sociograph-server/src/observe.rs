//! Per-request telemetry: the HTTP metrics of the contract (route *templates* only, never raw
//! paths or ids), the `x-request-id` header in and out, and the server span `{method} {route}`
//! (child of an incoming `traceparent`) that every span and log line of the request nests in;
//! and `GET /metrics`.
//!
//! For a streamed answer the duration is the time to the response head (the first event), and
//! the request stops counting as active once its stream has started.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sociograph_telemetry::{record, trace};
use tracing::Instrument;

use crate::state::AppState;

/// Renders the Prometheus text exposition (installed by the binary).
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

pub const REQUEST_ID: &str = "x-request-id";

/// A client's request id if it is sane (1–128 visible ASCII characters), else a new one.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string())
}

/// HTTP methods beyond the standard ones share one label value, so a client cannot mint
/// label values (OpenTelemetry's `_OTHER`).
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "_OTHER",
    }
}

/// Middleware (outermost): metrics, request id, request span.
pub async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(request.method());
    let id = request_id(&request);
    let span = tracing::info_span!(
        "request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        request_id = %id,
    );
    // An incoming W3C `traceparent` makes this request part of the caller's trace.
    let trace_headers: Vec<(String, String)> = ["traceparent", "tracestate"]
        .iter()
        .filter_map(|name| {
            let value = request.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect();
    if !trace_headers.is_empty() {
        trace::set_parent_from_headers(&span, &trace_headers);
    }
    record::http_active(1.0);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    record::http_active(-1.0);
    let status = response.status();
    record::http_request(method, &route, status.as_u16(), started.elapsed());
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match &state.settings.metrics {
        Some(render) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            render(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "metrics are not enabled in this process\n",
        )
            .into_response(),
    }
}
