//! Logs and traces for a command: text or JSON lines on stderr (filtered by `RUST_LOG`), and
//! OpenTelemetry spans exported over OTLP/HTTP when a collector is configured.

use sociograph_telemetry::trace::{self, LogFormat as TraceLogFormat, TraceGuard, TraceSettings};

use crate::config::{LogFormat, Settings};

/// Install the global subscriber. `default_level` applies when `RUST_LOG` is unset. Must run
/// inside the tokio runtime (the trace exporter uses it); keep the guard until the end.
pub fn init(settings: &Settings, default_level: &str) -> anyhow::Result<TraceGuard> {
    let trace_settings = TraceSettings {
        service_name: "sociograph".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        color: settings.server.color.clone(),
        log_format: match settings.log.format {
            LogFormat::Json => TraceLogFormat::Json,
            LogFormat::Text => TraceLogFormat::Text,
        },
        default_filter: format!(
            "{default_level},html5ever=error,pdf_extract=error,lopdf=error,opentelemetry=warn"
        ),
        otlp_traces_endpoint: TraceSettings::endpoint_from_env(
            settings.log.otlp_endpoint.as_deref(),
        ),
        otel_enabled: TraceSettings::otel_enabled_from_env(),
    };
    trace::init(&trace_settings).map_err(anyhow::Error::msg)
}
