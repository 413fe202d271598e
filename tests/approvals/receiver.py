"""A local webhook receiver: a real HTTP server on loopback that keeps every delivery (headers
and the exact body bytes), as Slack or any endpoint would receive them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self) -> None:
        self.deliveries: list[dict] = []
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append({"headers": dict(self.headers), "body": body,
                                 "json": json.loads(body)})
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self, name: str) -> list[dict]:
        return [d for d in self.deliveries if d["headers"].get("X-JSC-Event") == name]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
