#!/usr/bin/env python3
"""A stand-in for Slack's incoming-webhook endpoint, for the fire drill.

Alertmanager's Slack receiver POSTs its JSON payload here; each payload is appended, as one
JSON line, to the capture file, and answered `200 ok` as Slack does. `GET /captured` returns
everything received so far as a JSON list.

Standard library only; binds 127.0.0.1. Usage: slack_capture.py PORT CAPTURE_FILE
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
RECEIVED = []


class Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops and resets connections under a burst of new ones.
    request_queue_size = 128
    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    capture_file = ""

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/captured":
            with LOCK:
                self._reply(200, json.dumps(RECEIVED), "application/json")
        else:
            self._reply(404, "no such route")

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            payload = json.loads(raw)
        except ValueError:
            self._reply(400, "invalid_payload")
            return
        with LOCK:
            RECEIVED.append({"path": self.path, "payload": payload})
            with open(self.capture_file, "a", encoding="utf-8") as out:
                out.write(json.dumps({"path": self.path, "payload": payload}) + "\n")
        self._reply(200, "ok")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    Handler.capture_file = sys.argv[2]
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    print(f"slack_capture: listening on http://127.0.0.1:{sys.argv[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
