"""A tiny real HTTP export API for tests: stdlib ``http.server`` on 127.0.0.1.

``ExportServer(pages, faults=[...])`` serves ``pages[cursor]`` (cursor ``None`` for the
first page) as ``{"data": [...], "next_cursor": ...}``. Each request first takes the next
fault from the queue, if any:

* ``Fault.status(503)`` / ``Fault.status(429, retry_after="1")`` - an error status;
* ``Fault.slow(seconds)`` - wait before answering (the client should time out);
* ``Fault.hold()`` - wait until the test calls ``release()`` (or the server stops), then
  answer normally;
* ``Fault.trickle(interval)`` - promise a large body and send it one byte per
  ``interval`` seconds (the client must give up at its deadline);
* ``Fault.drop()`` - send headers promising a body, a few bytes, then close the socket;
* ``Fault.body(b"...", status=200)`` - an arbitrary body.

Every request is recorded (path, query, headers). The server runs on daemon threads,
stops on ``__exit__`` and, whatever happens, after ``max_lifetime_s``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""
    seconds: float = 0.0

    @classmethod
    def status_code(cls, status: int, *, retry_after: str | None = None) -> Fault:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls("status", status=status, headers=headers, payload=b'{"error":"x"}')

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", seconds=seconds)

    @classmethod
    def trickle(cls, interval: float) -> Fault:
        return cls("trickle", seconds=interval)

    @classmethod
    def hold(cls) -> Fault:
        return cls("hold")

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def body(cls, payload: bytes, *, status: int = 200) -> Fault:
        return cls("body", status=status, payload=payload)


@dataclass(frozen=True)
class SeenRequest:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # bounds idle keep-alive connections

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def do_GET(self) -> None:  # noqa: N802
        owner: ExportServer = self.server.owner  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        headers = {k.lower(): v for k, v in self.headers.items()}
        owner._record(SeenRequest(parts.path, query, headers))
        fault = owner._next_fault()
        try:
            if fault is not None and fault.kind == "slow":
                owner._stop.wait(fault.seconds)
                fault = None
            elif fault is not None and fault.kind == "hold":
                while not owner._released.wait(0.05) and not owner._stop.is_set():
                    pass
                fault = None
            if fault is None:
                cursor = query.get("cursor", [None])[0]
                if cursor not in owner.pages:
                    self._send(404, b'{"error":"unknown cursor"}')
                    return
                self._send(200, json.dumps(owner.pages[cursor]).encode("utf-8"))
            elif fault.kind == "status":
                self._send(fault.status, fault.payload, fault.headers)
            elif fault.kind == "body":
                self._send(fault.status, fault.payload)
            elif fault.kind == "trickle":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(100000):
                    if owner._stop.wait(fault.seconds):
                        break
                    self.wfile.write(b" ")
                    self.wfile.flush()
                self.close_connection = True
            elif fault.kind == "drop":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "5000")
                self.end_headers()
                self.wfile.write(b'{"data": [{"attempt_id"')
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:  # the client went away (e.g. after its timeout)
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class ExportServer:
    def __init__(
        self,
        pages: dict[str | None, dict[str, object]],
        *,
        faults: list[Fault] | None = None,
        max_lifetime_s: float = 20.0,
    ) -> None:
        self.pages = pages
        self._faults = deque(faults or [])
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._released = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._watchdog = threading.Timer(max_lifetime_s, self.stop)
        self._watchdog.daemon = True
        self._stopped = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/logs"

    def _record(self, request: SeenRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def release(self) -> None:
        """Answer every held request (``Fault.hold``)."""
        self._released.set()

    def start(self) -> ExportServer:
        self._thread.start()
        self._watchdog.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._stop.set()
        self._watchdog.cancel()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ExportServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
