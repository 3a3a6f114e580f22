"""Hostile HTTP servers on 127.0.0.1 for the reliability tests (raw sockets, one thread per
connection): each misbehaves in one way a real network or a broken server can.

- ``ClosingServer``: answers every request with a plain API success and closes the connection
  right after the answer, without ``Connection: close`` (the client only learns it from the
  FIN). With ``upstream`` it forwards each request to that server (the emulator) instead.
  Whether its FIN arrives before the client's next request depends on how soon the server gets
  to its close (a loaded machine may delay it past the client's next request).
- ``FinWithAnswerServer`` (``"closing-fin"``): the same, but its FIN comes in the answer's own
  segment, always (no race): a client that looks before reusing a connection never uses one.
- ``LateClosingServer`` (``"closing-late"``): the same, but it closes each connection only once
  the client's next request has arrived on it, without reading it (its kernel then resets the
  connection): the keep-alive race lost every time.
- ``StreamingServer``: answers 200 with an endless chunked body, or a huge one (with or without
  Content-Length), at whatever speed the client reads; ``sent`` counts the body bytes written.
- ``SlowServer``: reads the request, then waits ``delay`` seconds before answering.

``Remote(kind, *args)`` runs one in another process (``python hostile.py kind args``): a server
sharing the test's GIL would close its connections late whenever the client's thread holds the
GIL, which no real server does. ``GET /__stats`` (not counted) reports its counters.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.parse


def read_request(f) -> tuple[str, dict, bytes] | None:
    """One HTTP/1.1 request from a socket file: (request line, headers, body); None at EOF."""
    line = f.readline()
    if not line:
        return None
    headers: dict[str, str] = {}
    while True:
        h = f.readline()
        if not h or h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length") or 0)
    body = f.read(n) if n else b""
    return line.decode("latin-1").strip(), headers, body


def answer(status: int, body: bytes, extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


class _Base:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.requests = 0
        self.connections = 0
        self.lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve_conn, args=(conn,), daemon=True).start()

    def _serve_conn(self, conn: socket.socket) -> None:
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with conn, conn.makefile("rb") as f:
                if f.peek(12)[:12] == b"GET /__stats":
                    read_request(f)
                    stats = {
                        "requests": self.requests,
                        "connections": self.connections - 1,
                    }
                    conn.sendall(
                        answer(200, json.dumps(stats).encode(), "Connection: close\r\n")
                    )
                    with self.lock:
                        self.connections -= 1
                    return
                self.serve(conn, f)
        except OSError:
            pass

    def serve(self, conn: socket.socket, f) -> None:
        raise NotImplementedError

    def count(self) -> None:
        with self.lock:
            self.requests += 1

    def close(self) -> None:
        self._stop = True
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _api_success(n: int) -> bytes:
    return answer(200, json.dumps({"Response": {"RequestId": f"r-{n}"}}).encode())


class ClosingServer(_Base):
    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = urllib.parse.urlsplit(upstream) if upstream else None
        super().__init__()

    def serve(self, conn, f) -> None:
        req = read_request(f)
        if req is None:
            return
        self.count()
        if self.upstream is None:
            conn.sendall(_api_success(self.requests))
        else:
            line, headers, body = req
            method, path, _ = line.split(" ", 2)
            up = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port)
            headers.pop("connection", None)
            up.request(method, path, body=body, headers=headers)
            r = up.getresponse()
            data = r.read()
            up.close()
            conn.sendall(answer(r.status, data))
        # Closed right after the answer, no "Connection: close" said.


class FinWithAnswerServer(_Base):
    def serve(self, conn, f) -> None:
        if read_request(f) is None:
            return
        self.count()
        # Held back (corked) until the shutdown, which sends the FIN in the same segment.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        conn.sendall(_api_success(self.requests))
        conn.shutdown(socket.SHUT_WR)


class LateClosingServer(_Base):
    def serve(self, conn, f) -> None:
        if read_request(f) is None:
            return
        self.count()
        conn.sendall(_api_success(self.requests))
        # Closed as soon as the next request is there, with that request unread.
        select.select([conn], [], [], 30)


class StreamingServer(_Base):
    def __init__(self, total: int | None = None, content_length: bool = True) -> None:
        #: Body bytes to send (None: endless, chunked).
        self.total = total
        self.content_length = content_length
        self.sent = 0
        super().__init__()

    def serve(self, conn, f) -> None:
        if read_request(f) is None:
            return
        self.count()
        chunk = b" " * 65536
        if self.total is None:
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
            while True:
                conn.sendall(frame)
                self.sent += len(chunk)
        head = "HTTP/1.1 200 OK\r\n"
        if self.content_length:
            head += f"Content-Length: {self.total}\r\n"
        else:
            head += "Connection: close\r\n"
        conn.sendall((head + "\r\n").encode())
        left = self.total
        while left > 0:
            n = min(left, len(chunk))
            conn.sendall(chunk[:n])
            self.sent += n
            left -= n


class SlowServer(_Base):
    """Answers request n (from 1) after ``delays[n-1]`` seconds (0 beyond the list): the first
    ``throttle_first`` with RequestLimitExceeded, the others with ``response`` (plus a
    RequestId ``slow-n``). ``in_flight_max``: the most requests it held at once."""

    def __init__(
        self,
        delays: list[float] | float = 0.0,
        throttle_first: int = 0,
        response: dict | None = None,
    ) -> None:
        self.delays = [delays] if isinstance(delays, (int, float)) else list(delays)
        self.repeat = isinstance(delays, (int, float))
        self.throttle_first = throttle_first
        self.response = dict(response or {})
        self.in_flight = 0
        self.in_flight_max = 0
        super().__init__()

    def serve(self, conn, f) -> None:
        while True:
            if read_request(f) is None:
                return
            with self.lock:
                self.requests += 1
                n = self.requests
                self.in_flight += 1
                self.in_flight_max = max(self.in_flight_max, self.in_flight)
            if self.repeat:
                delay = self.delays[0]
            else:
                delay = self.delays[n - 1] if n <= len(self.delays) else 0.0
            try:
                time.sleep(delay)
            finally:
                with self.lock:
                    self.in_flight -= 1
            resp: dict = {"RequestId": f"slow-{n}"}
            if n <= self.throttle_first:
                resp["Error"] = {"Code": "RequestLimitExceeded", "Message": "slow down"}
            else:
                resp.update(self.response)
            conn.sendall(answer(200, json.dumps({"Response": resp}).encode()))


class Socks5Proxy(_Base):
    """A SOCKS5 proxy (RFC 1928, with RFC 1929 user/password when ``auth`` is given): records
    each CONNECT's target (``targets``) and the credentials it was given (``logins``)."""

    def __init__(self, auth: tuple[str, str] | None = None) -> None:
        self.auth = auth
        self.targets: list[tuple[str, int]] = []
        self.logins: list[tuple[str, str]] = []
        super().__init__()

    def serve(self, conn, f) -> None:
        ver, n = f.read(2)
        methods = f.read(n)
        want = 2 if self.auth else 0
        if ver != 5 or want not in methods:
            conn.sendall(b"\x05\xff")
            return
        conn.sendall(bytes([5, want]))
        if self.auth:
            _, ulen = f.read(2)
            user = f.read(ulen).decode()
            plen = f.read(1)[0]
            pw = f.read(plen).decode()
            self.logins.append((user, pw))
            ok = (user, pw) == self.auth
            conn.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return
        _, _cmd, _, atyp = f.read(4)
        if atyp == 1:
            host = socket.inet_ntoa(f.read(4))
        elif atyp == 3:
            host = f.read(f.read(1)[0]).decode()
        else:
            host = socket.inet_ntop(socket.AF_INET6, f.read(16))
        port = int.from_bytes(f.read(2), "big")
        self.count()
        self.targets.append((host, port))
        up = socket.create_connection((host, port))
        conn.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + b"\x00\x00")
        pending = f.peek(0) if hasattr(f, "peek") else b""
        if pending:
            up.sendall(f.read(len(pending)))

        def pump(src, dst) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        t = threading.Thread(target=pump, args=(up, conn), daemon=True)
        t.start()
        pump(conn, up)
        t.join()
        up.close()


KINDS = {
    "closing": ClosingServer,
    "closing-fin": FinWithAnswerServer,
    "closing-late": LateClosingServer,
    "slow": SlowServer,
    "streaming": StreamingServer,
}


class Remote:
    """A hostile server in a process of its own; ``requests`` and ``connections`` are read
    from it."""

    def __init__(self, kind: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, kind, *args], stdout=subprocess.PIPE, text=True
        )
        self.port = int(self.proc.stdout.readline())
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict:
        with socket.create_connection(("127.0.0.1", self.port)) as s:
            s.sendall(b"GET /__stats HTTP/1.1\r\nHost: x\r\n\r\n")
            with s.makefile("rb") as f:
                f.readline()
                while f.readline() not in (b"\r\n", b""):
                    pass
                return json.loads(f.read())

    @property
    def requests(self) -> int:
        return self.stats()["requests"]

    @property
    def connections(self) -> int:
        return self.stats()["connections"]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    srv = KINDS[sys.argv[1]](*sys.argv[2:])
    print(srv.port, flush=True)
    threading.Event().wait()
