import { describe, expect, it } from 'vitest';

import { SseParser, readSse, type SseEvent } from '../src/lib/sse';

/** A byte stream delivering `chunks` one read at a time. */
function streamOf(chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) {
        const c = chunks[i++]!;
        controller.enqueue(typeof c === 'string' ? enc.encode(c) : c);
      } else {
        controller.close();
      }
    },
  });
}

async function collect(chunks: (string | Uint8Array)[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const e of readSse(streamOf(chunks))) out.push(e);
  return out;
}

describe('SSE parsing', () => {
  it('parses named events with LF line endings', async () => {
    const events = await collect([
      'event: sources\ndata: {"sources":[]}\n\nevent: delta\ndata: {"text":"Hi"}\n\nevent: done\ndata: {}\n\n',
    ]);
    expect(events).toEqual([
      { event: 'sources', data: '{"sources":[]}' },
      { event: 'delta', data: '{"text":"Hi"}' },
      { event: 'done', data: '{}' },
    ]);
  });

  it('parses CRLF line endings', async () => {
    const events = await collect(['event: delta\r\ndata: {"text":"a"}\r\n\r\nevent: done\r\ndata: {}\r\n\r\n']);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['delta', '{"text":"a"}'],
      ['done', '{}'],
    ]);
  });

  it('parses bare CR line endings', async () => {
    const events = await collect(['event: delta\rdata: x\r\r']);
    expect(events).toEqual([{ event: 'delta', data: 'x' }]);
  });

  it('reassembles an event split across chunks at any point', async () => {
    const whole = 'event: delta\r\ndata: {"text":"split"}\r\n\r\nevent: done\ndata: {"ok":true}\n\n';
    for (let cut = 1; cut < whole.length; cut++) {
      const events = await collect([whole.slice(0, cut), whole.slice(cut)]);
      expect(events, `cut at ${cut}`).toEqual([
        { event: 'delta', data: '{"text":"split"}' },
        { event: 'done', data: '{"ok":true}' },
      ]);
    }
  });

  it('does not read a CR at the end of a chunk and an LF at the start of the next as two breaks', async () => {
    const events = await collect(['data: one\r', '\ndata: two\r', '\n\r', '\n']);
    expect(events).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });

  it('joins multi-line data with newlines', async () => {
    const events = await collect(['event: delta\ndata: first line\ndata: second line\ndata:\ndata: fourth\n\n']);
    expect(events).toEqual([{ event: 'delta', data: 'first line\nsecond line\n\nfourth' }]);
  });

  it('ignores comments, keep-alives and unknown fields, and strips one leading space only', async () => {
    const events = await collect([':keep-alive\n\n: ping\nretry: 100\nfoo: bar\nevent: delta\ndata:  two spaces\n\n']);
    expect(events).toEqual([{ event: 'delta', data: ' two spaces' }]);
  });

  it('keeps a multi-byte character split across chunks intact', async () => {
    const bytes = new TextEncoder().encode('event: delta\ndata: {"text":"مرحبا [١]"}\n\n');
    const cut = bytes.indexOf(0xd8) + 1; // inside the first Arabic letter
    const events = await collect([bytes.slice(0, cut), bytes.slice(cut)]);
    expect(JSON.parse(events[0]!.data)).toEqual({ text: 'مرحبا [١]' });
  });

  it('delivers a final event whose blank line is missing', async () => {
    const events = await collect(['event: done\ndata: {"last":1}']);
    expect(events).toEqual([{ event: 'done', data: '{"last":1}' }]);
  });

  it('does not dispatch an event without data', async () => {
    const events = await collect(['event: delta\n\nevent: done\ndata: x\n\n']);
    expect(events).toEqual([{ event: 'done', data: 'x' }]);
  });

  it('resets the event name after each event and defaults it to "message"', () => {
    const p = new SseParser();
    expect(p.push('event: delta\ndata: a\n\ndata: b\n\n')).toEqual([
      { event: 'delta', data: 'a' },
      { event: 'message', data: 'b' },
    ]);
  });

  it('remembers the last id', () => {
    const p = new SseParser();
    expect(p.push('id: 7\ndata: a\n\ndata: b\n\n')).toEqual([
      { event: 'message', data: 'a', id: '7' },
      { event: 'message', data: 'b', id: '7' },
    ]);
  });

  it('handles one byte at a time', async () => {
    const text = 'event: sources\r\ndata: {"n":1}\r\n\r\nevent: delta\ndata: {"text":"x"}\n\n';
    const events = await collect([...text]);
    expect(events.map((e) => e.event)).toEqual(['sources', 'delta']);
  });
});
