//! JSON log lines that carry the trace: `{"timestamp", "level", "target", "message", …fields,
//! "trace_id", "span_id", "request_id"}`, one per line.
//!
//! `trace_id`/`span_id` come from the OpenTelemetry context of the span the event is in;
//! `request_id` from the nearest enclosing span that has a `request_id` field (the server's
//! request span), remembered by [`RequestIdLayer`].

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The request id a span carries (set on the span that declares a `request_id` field).
struct RequestId(String);

/// Remembers each span's `request_id` field so log lines inside it can report it.
pub struct RequestIdLayer;

struct RequestIdVisitor(Option<String>);

impl Visit for RequestIdVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "request_id" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "request_id" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for RequestIdLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut visitor = RequestIdVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(request_id), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(request_id));
        }
    }
}

struct JsonFields<'a>(&'a mut Map<String, Value>);

impl Visit for JsonFields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().to_owned(), Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::from(format!("{value:?}")));
    }
}

/// The JSON event format.
///
/// Reading a span's OpenTelemetry ids needs the dispatcher, which `tracing` hides while an
/// event is being dispatched (re-entrancy guard), so the formatter is handed a weak reference
/// to its own dispatcher once that exists ([`DispatchSlot::set`]).
pub struct JsonWithTrace {
    dispatch: DispatchSlot,
}

/// Where the formatter finds its dispatcher.
#[derive(Clone, Default)]
pub struct DispatchSlot(Arc<OnceLock<WeakDispatch>>);

impl DispatchSlot {
    pub fn set(&self, dispatch: &Dispatch) {
        let _ = self.0.set(dispatch.downgrade());
    }
}

impl JsonWithTrace {
    pub fn new() -> (Self, DispatchSlot) {
        let slot = DispatchSlot::default();
        (
            JsonWithTrace {
                dispatch: slot.clone(),
            },
            slot,
        )
    }
}

impl<S, N> FormatEvent<S, N> for JsonWithTrace
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), Value::from(timestamp));
        line.insert(
            "level".into(),
            Value::from(event.metadata().level().as_str()),
        );
        line.insert("target".into(), Value::from(event.metadata().target()));
        event.record(&mut JsonFields(&mut line));
        if let Some(span) = ctx.lookup_current() {
            line.insert("span".into(), Value::from(span.name()));
            let request_id = span
                .scope()
                .find_map(|s| s.extensions().get::<RequestId>().map(|r| r.0.clone()));
            if let Some(request_id) = request_id {
                line.insert("request_id".into(), Value::from(request_id));
            }
            let cx = self
                .dispatch
                .0
                .get()
                .and_then(WeakDispatch::upgrade)
                .and_then(|dispatch| {
                    tracing_opentelemetry::get_otel_context(&span.id(), &dispatch)
                });
            if let Some(cx) = cx {
                let otel = cx.span();
                let sc = otel.span_context();
                if sc.is_valid() {
                    line.insert("trace_id".into(), Value::from(sc.trace_id().to_string()));
                    line.insert("span_id".into(), Value::from(sc.span_id().to_string()));
                }
            }
        }
        let json = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{json}")
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Mutex;

    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    #[test]
    fn json_lines_carry_the_trace_span_and_request_ids() {
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let buffer = Buffer::default();
        let (format, slot) = JsonWithTrace::new();
        let subscriber = tracing_subscriber::registry()
            .with(RequestIdLayer)
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(
                tracing_subscriber::fmt::layer()
                    .event_format(format)
                    .with_writer(buffer.clone()),
            );
        let dispatch = Dispatch::new(subscriber);
        slot.set(&dispatch);
        tracing::dispatcher::with_default(&dispatch, || {
            let request = tracing::info_span!("request", request_id = "req-42");
            let _outer = request.enter();
            let inner = tracing::info_span!("retrieve");
            let _inner = inner.enter();
            tracing::warn!(chunks = 3_u64, "something worth a line");
        });
        let text = String::from_utf8(buffer.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        let line: serde_json::Value =
            serde_json::from_str(text.lines().next().unwrap_or_default()).unwrap_or_default();
        assert_eq!(line["level"], "WARN", "{text}");
        assert_eq!(line["message"], "something worth a line");
        assert_eq!(line["chunks"], 3);
        assert_eq!(line["span"], "retrieve");
        assert_eq!(line["request_id"], "req-42");
        let hex = |v: &serde_json::Value, len: usize| {
            v.as_str()
                .is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        assert!(hex(&line["trace_id"], 32), "{line}");
        assert!(hex(&line["span_id"], 16), "{line}");
        assert_eq!(text.lines().count(), 1);
    }
}
