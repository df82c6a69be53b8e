//! Decoding a streamed chat completion: Server-Sent Events framing ([`SseDecoder`]), then the
//! OpenAI chunk format (deltas, usage, finish, in-band errors), then the item stream callers
//! read, with an idle timeout between chunks.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::sync::OwnedSemaphorePermit;

use crate::chat::{ChatStream, StreamChunk};
use crate::{Error, Result, Usage};

/// Splits a byte stream into SSE events and returns each event's `data` (multi-line data
/// joined by `\n`). Comments (`: keep-alive`) and fields other than `data` are dropped. Both
/// `\n\n` and `\r\n\r\n` end an event; bytes are decoded only once an event is complete, so a
/// character split across network reads is never mangled.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buffer: Vec<u8>,
}

/// Largest event a stream may send; a provider that never ends its event is cut off here.
const MAX_EVENT_BYTES: usize = 4 << 20;

impl SseDecoder {
    /// Bytes received but not yet part of a complete event.
    pub fn pending_bytes(&self) -> usize {
        self.buffer.len()
    }

    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some((end, separator)) = event_end(&self.buffer) {
            let raw: Vec<u8> = self.buffer.drain(..end + separator).collect();
            if let Some(data) = event_data(&raw[..end]) {
                out.push(data);
            }
        }
        out
    }

    /// The stream ended: a last event without its blank line still counts.
    pub fn finish(&mut self) -> Vec<String> {
        let rest = std::mem::take(&mut self.buffer);
        event_data(&rest).into_iter().collect()
    }
}

fn event_data(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let data: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|d| d.strip_prefix(' ').unwrap_or(d))
        .collect();
    (!data.is_empty()).then(|| data.join("\n"))
}

/// Byte offset of the end of the first complete event and the separator's length.
fn event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2));
    let crlf = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// What one `data:` payload of a chat completion stream says.
#[derive(Debug, Default, PartialEq)]
struct Payload {
    chunks: Vec<Result<StreamChunk, String>>,
    finished: bool,
    done: bool,
}

fn interpret(data: &str) -> Payload {
    let mut p = Payload::default();
    if data.trim() == "[DONE]" {
        p.done = true;
        p.finished = true;
        return p;
    }
    let event: serde_json::Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(e) => {
            p.chunks.push(Err(format!("undecodable stream event: {e}")));
            return p;
        }
    };
    if let Some(error) = event.get("error").filter(|e| !e.is_null()) {
        let message = error
            .get("message")
            .and_then(|m| m.as_str())
            .unwrap_or("unspecified error");
        p.chunks
            .push(Err(format!("the provider failed mid-answer: {message}")));
        return p;
    }
    if let Some(choice) = event.get("choices").and_then(|c| c.get(0)) {
        if let Some(text) = choice
            .get("delta")
            .and_then(|d| d.get("content"))
            .and_then(|c| c.as_str())
            .filter(|t| !t.is_empty())
        {
            p.chunks.push(Ok(StreamChunk::Delta(text.to_owned())));
        }
        p.finished = choice.get("finish_reason").is_some_and(|r| !r.is_null());
    }
    if let Some(usage) = event.get("usage").filter(|u| !u.is_null())
        && let Ok(usage) = serde_json::from_value::<Usage>(usage.clone())
    {
        p.chunks.push(Ok(StreamChunk::Usage(usage)));
    }
    p
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// Metrics of one streamed call, recorded once when the stream ends (or is dropped).
pub(crate) struct Meter {
    pub client: crate::ChatClient,
    pub model: String,
    pub operation: &'static str,
    pub started: std::time::Instant,
    /// The `chat {model}` span; it ends when the stream does.
    pub span: tracing::Span,
}

struct State {
    bytes: ByteStream,
    decoder: SseDecoder,
    pending: VecDeque<Result<StreamChunk>>,
    /// No more input will be read (DONE, EOF or an error); pending items still drain.
    finished: bool,
    saw_finish: bool,
    idle: Duration,
    url: String,
    meter: Meter,
    usage: Option<Usage>,
    /// How the stream ended, once it has; `None` while running (dropped then: `cancelled`).
    ended: Option<&'static str>,
    /// Held until the stream is dropped: a streaming answer occupies a concurrency slot.
    _permit: OwnedSemaphorePermit,
}

impl Drop for State {
    fn drop(&mut self) {
        let outcome = self.ended.unwrap_or("cancelled");
        if outcome != "ok" {
            self.meter.span.record("otel.status_code", "ERROR");
            self.meter.span.record("error.type", outcome);
        }
        if let Some(usage) = self.usage {
            crate::chat::record_usage_on(&self.meter.span, usage);
        }
        sociograph_telemetry::record::llm_request(
            &self.meter.model,
            self.meter.operation,
            outcome,
            self.meter.started.elapsed(),
        );
        if let Some(usage) = self.usage {
            self.meter
                .client
                .meter_usage(&self.meter.model, self.meter.operation, usage);
        }
    }
}

impl State {
    fn take(&mut self, payloads: Vec<String>) {
        for data in payloads {
            if self.finished {
                return;
            }
            let p = interpret(&data);
            self.saw_finish |= p.finished;
            for chunk in p.chunks {
                if let Ok(StreamChunk::Usage(u)) = &chunk {
                    self.usage = Some(*u);
                }
                self.pending.push_back(chunk.map_err(Error::BadReply));
            }
            self.finished |= p.done;
        }
    }
}

/// The completion items of an SSE response body.
pub(crate) fn completion_stream(
    bytes: ByteStream,
    meter: Meter,
    idle: Duration,
    url: String,
    permit: OwnedSemaphorePermit,
) -> ChatStream {
    let state = State {
        bytes,
        decoder: SseDecoder::default(),
        pending: VecDeque::new(),
        finished: false,
        saw_finish: false,
        idle,
        url,
        meter,
        usage: None,
        ended: None,
        _permit: permit,
    };
    Box::pin(futures::stream::unfold(state, next_item))
}

async fn next_item(mut state: State) -> Option<(Result<StreamChunk>, State)> {
    loop {
        if let Some(item) = state.pending.pop_front() {
            if let Err(e) = &item {
                // An error ends the stream.
                state.finished = true;
                state.pending.clear();
                state.ended = Some(crate::chat::error_outcome(e));
            }
            return Some((item, state));
        }
        if state.finished {
            state.ended.get_or_insert("ok");
            return None;
        }
        match tokio::time::timeout(state.idle, state.bytes.next()).await {
            Err(_) => state.pending.push_back(Err(Error::Timeout {
                url: state.url.clone(),
                seconds: state.idle.as_secs(),
            })),
            Ok(Some(Ok(bytes))) => {
                let payloads = state.decoder.feed(&bytes);
                state.take(payloads);
                if state.decoder.pending_bytes() > MAX_EVENT_BYTES {
                    state.pending.push_back(Err(Error::BadReply(format!(
                        "a stream event grew past {MAX_EVENT_BYTES} bytes without ending"
                    ))));
                }
            }
            Ok(Some(Err(e))) => state.pending.push_back(Err(Error::Connect {
                url: state.url.clone(),
                reason: format!("the stream broke: {e}"),
            })),
            Ok(None) => {
                let payloads = state.decoder.finish();
                state.take(payloads);
                if !state.saw_finish {
                    state.pending.push_back(Err(Error::BadReply(
                        "the stream ended before the answer was complete".into(),
                    )));
                }
                state.finished = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_and_in_either_line_ending_decode_the_same() {
        let wire =
            "data: {\"a\":1}\r\n\r\n: keep-alive\n\nevent: x\ndata: [\ndata: 2]\n\ndata: é\n\n";
        let whole = SseDecoder::default().feed(wire.as_bytes());
        assert_eq!(whole, vec!["{\"a\":1}", "[\n2]", "é"]);
        for size in 1..8 {
            let mut decoder = SseDecoder::default();
            let mut got = Vec::new();
            for piece in wire.as_bytes().chunks(size) {
                got.extend(decoder.feed(piece));
            }
            got.extend(decoder.finish());
            assert_eq!(got, whole, "pieces of {size} bytes");
        }
    }

    #[test]
    fn a_last_event_without_its_blank_line_is_kept() {
        let mut decoder = SseDecoder::default();
        assert!(decoder.feed(b"data: [DONE]").is_empty());
        assert_eq!(decoder.finish(), vec!["[DONE]"]);
    }

    #[test]
    fn chunks_carry_deltas_usage_finish_and_in_band_errors() {
        let delta = interpret(r#"{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}"#);
        assert_eq!(delta.chunks, vec![Ok(StreamChunk::Delta("Hi".into()))]);
        assert!(!delta.finished);
        let end = interpret(
            r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#,
        );
        assert_eq!(
            end.chunks,
            vec![Ok(StreamChunk::Usage(Usage {
                prompt_tokens: 7,
                completion_tokens: 3
            }))]
        );
        assert!(interpret(r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#).finished);
        assert!(interpret("[DONE]").done);
        let error = interpret(r#"{"error":{"message":"overloaded"}}"#);
        assert!(matches!(&error.chunks[0], Err(m) if m.contains("overloaded")));
        assert!(interpret("{not json").chunks[0].is_err());
    }
}
