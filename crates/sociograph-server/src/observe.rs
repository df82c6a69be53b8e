//! Per-request telemetry: the HTTP metrics of the contract (route *templates* only, never raw
//! paths or ids), the `x-request-id` header in and out, the request span every log line of the
//! request is recorded in, and `GET /metrics`.
//!
//! For a streamed answer the duration is the time to the response head (the first event), and
//! the request stops counting as active once its stream has started.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sociograph_telemetry::record;
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
    let span =
        tracing::info_span!("request", http.method = method, http.route = %route, request_id = %id);
    record::http_active(1.0);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span).await;
    record::http_active(-1.0);
    record::http_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
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
