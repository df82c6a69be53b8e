/**
 * Server-Sent Events over `fetch`: the browser's EventSource cannot POST a body, so the answer
 * stream is read from a `ReadableStream` and parsed here, following the WHATWG event-stream
 * rules: lines end in CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the
 * next are one line break), `data:` lines of one event are joined with "\n", a blank line
 * dispatches the event, lines starting with ":" are comments (keep-alives).
 */

export interface SseEvent {
  /** The `event:` field; "message" when absent. */
  event: string;
  /** The `data:` lines, joined with "\n". */
  data: string;
  /** The last `id:` field seen, if any. */
  id?: string;
}

/** Incremental parser: push decoded text as it arrives, get complete events back. */
export class SseParser {
  private line = '';
  /** The previous chunk ended in CR: a leading LF in the next one belongs to that break. */
  private pendingCr = false;
  private eventName = '';
  private dataLines: string[] = [];
  private hasData = false;
  private lastId: string | undefined;

  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    let i = 0;
    if (this.pendingCr && text.startsWith('\n')) {
      start = 1;
      i = 1;
    }
    this.pendingCr = false;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line += text.slice(start, i);
      this.processLine(this.line, out);
      this.line = '';
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
    }
    this.line += text.slice(start);
    return out;
  }

  /**
   * The stream ended. A final event that lacks its terminating blank line is still delivered
   * (the spec would drop it; losing a `done` event to a proxy that trims the last newline is
   * worse).
   */
  finish(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.line !== '') {
      this.processLine(this.line, out);
      this.line = '';
    }
    this.dispatch(out);
    return out;
  }

  private processLine(line: string, out: SseEvent[]): void {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventName = value;
        break;
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields do not matter to a one-shot fetch stream.
        break;
    }
  }

  private dispatch(out: SseEvent[]): void {
    if (this.hasData) {
      const event: SseEvent = { event: this.eventName || 'message', data: this.dataLines.join('\n') };
      if (this.lastId !== undefined) event.id = this.lastId;
      out.push(event);
    }
    this.eventName = '';
    this.dataLines = [];
    this.hasData = false;
  }
}

/** Read a byte stream to its end, yielding each event as soon as it is complete. */
export async function* readSse(stream: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = stream.getReader();
  // Stream mode keeps a multi-byte character split across two chunks intact.
  const decoder = new TextDecoder('utf-8');
  const parser = new SseParser();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        break;
      }
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    const rest = decoder.decode();
    if (rest) yield* parser.push(rest);
    yield* parser.finish();
  } finally {
    // A consumer that stops early (the user left the page) cancels the response body.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
