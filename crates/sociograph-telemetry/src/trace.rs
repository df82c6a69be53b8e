//! Tracing setup: the `tracing` subscriber (env filter, JSON or text logs carrying `trace_id`,
//! `span_id` and `request_id`) and OpenTelemetry traces, exported over OTLP/HTTP (protobuf)
//! when an endpoint is configured — nothing is exported otherwise, but spans still get W3C
//! trace ids, so logs and outgoing `traceparent` headers correlate either way.
//!
//! Also the propagation helpers: [`set_parent_from_headers`] (an incoming `traceparent` becomes
//! the parent of the server span) and [`traceparent`] (the current context, for outgoing calls).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{KeyValue, global};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::logs::{JsonWithTrace, RequestIdLayer};

/// Log line format on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line, with `trace_id`, `span_id` and `request_id`.
    Json,
}

/// What [`init`] needs.
#[derive(Debug, Clone)]
pub struct TraceSettings {
    pub service_name: String,
    pub version: String,
    /// blue or green (a resource attribute).
    pub color: String,
    pub log_format: LogFormat,
    /// Filter when `RUST_LOG` is unset, e.g. `info`.
    pub default_filter: String,
    /// Full OTLP/HTTP traces URL (`…/v1/traces`); `None` exports nothing.
    pub otlp_traces_endpoint: Option<String>,
    /// `false` leaves OpenTelemetry out entirely (no span data, no trace ids in logs, no
    /// outgoing `traceparent`): the standard `OTEL_SDK_DISABLED=true`.
    pub otel_enabled: bool,
}

impl TraceSettings {
    /// `OTEL_SDK_DISABLED=true` (the OpenTelemetry standard variable) turns tracing off.
    pub fn otel_enabled_from_env() -> bool {
        !std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The traces URL from the standard environment: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as
    /// is, else `OTEL_EXPORTER_OTLP_ENDPOINT` (or `configured`) + `/v1/traces`.
    pub fn endpoint_from_env(configured: Option<&str>) -> Option<String> {
        let non_empty = |v: String| (!v.trim().is_empty()).then_some(v);
        if let Some(full) = std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .ok()
            .and_then(non_empty)
        {
            return Some(full);
        }
        std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
            .ok()
            .and_then(non_empty)
            .or_else(|| configured.map(str::to_owned).and_then(non_empty))
            .map(|base| format!("{}/v1/traces", base.trim_end_matches('/')))
    }
}

/// Flushes and shuts the tracer down when dropped (the last spans are lost otherwise).
pub struct TraceGuard {
    provider: Option<SdkTracerProvider>,
}

impl TraceGuard {
    /// Export every finished span now. Blocking.
    pub fn flush(&self) -> Result<(), String> {
        match &self.provider {
            Some(provider) => provider.force_flush().map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// Export what is buffered and stop. Blocking; idempotent.
    pub fn shutdown(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("sociograph: trace export did not shut down cleanly: {e}");
        }
    }
}

impl Drop for TraceGuard {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// OTLP over the process's own reqwest client (TLS included), driven on the tokio runtime:
/// the batch exporter runs on its own thread, so requests are spawned onto `runtime`.
#[derive(Debug)]
struct ReqwestOnTokio {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for ReqwestOnTokio {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        let (parts, body) = request.into_parts();
        let task = self.runtime.spawn(async move {
            let response = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes))
        });
        let (status, bytes) = task.await??;
        let mut out = Response::new(bytes);
        *out.status_mut() = status;
        Ok(out)
    }
}

/// Install the global subscriber and, with an endpoint, the OTLP exporter. Call once, inside
/// the tokio runtime.
pub fn init(settings: &TraceSettings) -> Result<TraceGuard, String> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let resource = Resource::builder()
        .with_service_name(settings.service_name.clone())
        .with_attributes([
            KeyValue::new("service.version", settings.version.clone()),
            KeyValue::new("deployment.color", settings.color.clone()),
        ])
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = settings
        .otlp_traces_endpoint
        .as_ref()
        .filter(|_| settings.otel_enabled)
    {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "trace export needs the tokio runtime".to_owned())?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("OTLP client: {e}"))?;
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(ReqwestOnTokio { client, runtime })
            .with_endpoint(endpoint.clone())
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("OTLP exporter for {endpoint}: {e}"))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer("sociograph");
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(&settings.default_filter));
    let otel = settings
        .otel_enabled
        .then(|| tracing_opentelemetry::layer().with_tracer(tracer));
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(RequestIdLayer)
        .with(otel);
    let installed = match settings.log_format {
        LogFormat::Json => {
            let (format, slot) = JsonWithTrace::new();
            let dispatch = tracing::Dispatch::new(
                registry.with(
                    tracing_subscriber::fmt::layer()
                        .event_format(format)
                        .with_writer(std::io::stderr),
                ),
            );
            slot.set(&dispatch);
            dispatch.try_init().map_err(|e| e.to_string())
        }
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_target(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()
            .map_err(|e| e.to_string()),
    };
    installed.map_err(|e| format!("logging was already initialised: {e}"))?;
    global::set_tracer_provider(provider.clone());
    Ok(TraceGuard {
        provider: Some(provider),
    })
}

struct HeaderPairs<'a>(&'a [(String, String)]);

impl Extractor for HeaderPairs<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}

/// Make the `traceparent` (and `tracestate`) in `headers` the parent of `span`. A missing or
/// malformed header leaves `span` a new root.
pub fn set_parent_from_headers(span: &tracing::Span, headers: &[(String, String)]) {
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderPairs(headers)));
    let _ = span.set_parent(parent);
}

#[derive(Default)]
struct Collected(Vec<(String, String)>);

impl Injector for Collected {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

/// The W3C headers (`traceparent`, and `tracestate` if any) of the current span, for an
/// outgoing request.
pub fn current_context_headers() -> Vec<(String, String)> {
    let cx = tracing::Span::current().context();
    let mut headers = Collected::default();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
    headers.0
}

/// [`current_context_headers`] as a header hook for the model client.
pub fn header_hook() -> Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync> {
    Arc::new(current_context_headers)
}

/// The current span's trace id as 32 hex digits, if it has a valid one.
pub fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| sc.trace_id().to_string())
}
