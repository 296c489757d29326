"""A real webhook receiver for tests: stdlib ``http.server`` on 127.0.0.1, POST only.

``WebhookServer(faults=[...])`` answers each POST with the next fault, if any
(``("status", 500)``: that status; ``("slow", seconds)``: wait, then answer 200 -- the
client should have timed out), else 200 ``ok``. Every POST body is recorded as JSON.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        owner: WebhookServer = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        fault = owner._next_fault()
        status = 200
        if fault is not None and fault[0] == "slow":
            owner._stop.wait(fault[1])
        elif fault is not None and fault[0] == "status":
            status = fault[1]
        if status == 200 and fault is None:
            # Recorded before the answer: a test that reads ``received`` as soon as the
            # client has its 200 must find the body there.
            owner._record(self.path, json.loads(body))
        try:
            payload = b"ok" if status == 200 else b"error"
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client went away after its timeout
            self.close_connection = True


class WebhookServer:
    def __init__(self, faults: list[tuple[str, float]] | None = None) -> None:
        self._faults = deque(faults or [])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.received: list[tuple[str, dict]] = []
        self.posts = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.owner = self  # type: ignore[attr-defined]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def add_faults(self, *faults: tuple[str, float]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self):
        with self._lock:
            self.posts += 1
            return self._faults.popleft() if self._faults else None

    def _record(self, path: str, body: dict) -> None:
        with self._lock:
            self.received.append((path, body))

    def __enter__(self) -> WebhookServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
