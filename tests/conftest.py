"""Shared fixtures.

``recording_server``: a real threaded HTTP/1.1 server on 127.0.0.1 that records every request
(method, path, query, headers, body) and answers from a queue of scripted responses (or a
default API answer). Use it to check exactly what went on the wire and to script failures::

    def test_x(recording_server):
        srv = recording_server
        srv.push(status=502, body=b"<html>bad gateway</html>")
        srv.push_json({"Response": {"RequestId": "r1"}})
        client = tccvm.Client(secret_id="id", secret_key="key", region="ap-guangzhou",
                              endpoint=srv.endpoint)
        ...
        req = srv.requests[-1]          # Recorded(method, path, query, headers, body)

``client_factory``: builds ``tccvm.Client``/``AsyncClient`` pointed at the server with fast
retry backoff.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

TEST_ID = "AKIDtestSECRETIDx0000"
TEST_KEY = "test-secret-key-DO-NOT-LEAK-1234"


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict  # lower-cased names
    body: bytes
    time: float = 0.0

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        return urllib.parse.parse_qsl(self.query, keep_blank_values=True)

    @property
    def form_pairs(self) -> list[tuple[str, str]]:
        return urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Scripted:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    #: Close the connection without answering (after reading the request).
    drop: bool = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        rec = Recorded(
            method=self.command,
            path=path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            time=time.monotonic(),
        )
        owner = self.server.owner
        with owner.lock:
            owner.requests.append(rec)
            n = len(owner.requests)
            script = owner.queue.pop(0) if owner.queue else None
        if script is None and owner.handler is not None:
            script = owner.handler(rec)
        if script is None:
            script = Scripted(
                body=json.dumps({"Response": {"RequestId": f"req-{n}"}}).encode(),
                headers={"Content-Type": "application/json"},
            )
        if script.delay:
            time.sleep(script.delay)
        if script.drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if any(k.lower() == "date" for k in script.headers):
            self.send_response_only(script.status)  # the scripted Date replaces ours
        else:
            self.send_response(script.status)
        for k, v in script.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(script.body)))
        self.end_headers()
        self.wfile.write(script.body)

    do_GET = _handle
    do_POST = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024
    owner: RecordingServer


class RecordingServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.queue: list[Scripted] = []
        self.handler: Callable[[Recorded], Scripted | None] | None = None
        self._srv = _Server(("127.0.0.1", 0), _Handler)
        self._srv.owner = self
        self.port = self._srv.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.endpoint = f"http://{self.host}"
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)
        self._thread.start()

    def push(
        self,
        status: int = 200,
        body: bytes | str = b"",
        headers: dict | None = None,
        delay: float = 0.0,
        drop: bool = False,
    ) -> None:
        if isinstance(body, str):
            body = body.encode()
        with self.lock:
            self.queue.append(Scripted(status, body, dict(headers or {}), delay, drop))

    def push_json(
        self,
        obj: Any,
        status: int = 200,
        headers: dict | None = None,
        delay: float = 0.0,
    ) -> None:
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self.push(status, json.dumps(obj).encode(), h, delay)

    def push_error(
        self, code: str, message: str = "error", request_id: str = "req-err", **kw: Any
    ) -> None:
        self.push_json(
            {
                "Response": {
                    "Error": {"Code": code, "Message": message},
                    "RequestId": request_id,
                }
            },
            **kw,
        )

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.queue.clear()
            self.handler = None

    def close(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()


@pytest.fixture
def recording_server():
    srv = RecordingServer()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def client_factory(recording_server):
    """Make clients pointed at the recording server, with near-zero retry backoff."""
    import tccvm

    made: list[Any] = []

    def make(cls: Any = None, **kw: Any) -> Any:
        cls = cls or tccvm.Client
        fast = kw.pop(
            "core_options",
            {"backoff_base": 0.001, "throttle_base": 0.001, "backoff_cap": 0.01},
        )
        kw.setdefault("secret_id", TEST_ID)
        kw.setdefault("secret_key", TEST_KEY)
        kw.setdefault("region", "ap-guangzhou")
        kw.setdefault("endpoint", recording_server.endpoint)
        kw.setdefault("timeout", 5.0)
        kw.setdefault("connect_timeout", 2.0)
        sub = type(cls.__name__, (cls,), {"_core_options": fast})
        c = sub(**kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def closed_port() -> int:
    """A local port with nothing listening."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
