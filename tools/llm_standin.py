#!/usr/bin/env python3
"""A local stand-in for a hosted OpenAI-compatible LLM, for ops checks and fire drills.

It speaks the real wire protocol of `POST /v1/chat/completions`: a JSON completion with
`usage`, or, with `"stream": true`, Server-Sent Events (`data: {chunk}` lines, a final chunk
with `usage`, then `data: [DONE]`). The answer cites source [1], which every SocioGraph prompt
has. Its latency is adjustable while it runs, so a drill can make "the provider" slow and then
recover:

    POST /admin/delay {"seconds": 0.8}    every completion waits this long first
    GET  /admin/stats                     {"completions": N, "delay_seconds": S}
    GET  /health

Standard library only; binds 127.0.0.1. Usage: llm_standin.py PORT [--delay SECONDS]
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "According to the sources, the record names who acted and who paid for it [1]."
STATE = {"delay": 0.0, "completions": 0}
LOCK = threading.Lock()


class Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops and resets connections under a burst of new ones.
    request_queue_size = 128
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A caller that went away mid-answer (a service killed in a drill) is not an error here.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # one line per request is noise in a drill log
        pass

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def do_GET(self):
        if self.path == "/health":
            self._json(200, {"status": "ok"})
        elif self.path == "/admin/stats":
            with LOCK:
                self._json(200, {"completions": STATE["completions"], "delay_seconds": STATE["delay"]})
        else:
            self._json(404, {"error": {"message": "no such route"}})

    def do_POST(self):
        body = self._body()
        if body is None:
            self._json(400, {"error": {"message": "body is not JSON"}})
        elif self.path == "/admin/delay":
            seconds = body.get("seconds")
            if not isinstance(seconds, (int, float)) or not 0 <= seconds <= 60:
                self._json(400, {"error": {"message": "seconds must be a number from 0 to 60"}})
                return
            with LOCK:
                STATE["delay"] = float(seconds)
            self._json(200, {"delay_seconds": float(seconds)})
        elif self.path.rstrip("/").endswith("/chat/completions"):
            self._complete(body)
        else:
            self._json(404, {"error": {"message": "no such route"}})

    def _complete(self, body):
        with LOCK:
            STATE["completions"] += 1
            delay = STATE["delay"]
        if delay:
            time.sleep(delay)
        model = body.get("model") or "standin"
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages") or [])
        usage = {
            "prompt_tokens": max(1, prompt_chars // 4),
            "completion_tokens": max(1, len(ANSWER) // 4),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        created = int(time.time())
        if not body.get("stream"):
            self._json(200, {
                "id": "chatcmpl-standin",
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER},
                             "finish_reason": "stop"}],
                "usage": usage,
            })
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        words = ANSWER.split(" ")
        pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        chunks = [{"choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": usage})
        for chunk in chunks:
            chunk.update({"id": "chatcmpl-standin", "object": "chat.completion.chunk",
                          "created": created, "model": model})
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    port = int(sys.argv[1])
    if "--delay" in sys.argv:
        STATE["delay"] = float(sys.argv[sys.argv.index("--delay") + 1])
    server = Server(("127.0.0.1", port), Handler)
    print(f"llm_standin: listening on http://127.0.0.1:{port}/v1", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
