"""The sync call path: each client's "sync lane" (a current-thread tokio runtime driven by the
calling thread, with a connection pool of its own). Sync calls run on the caller's thread, not on
the shared runtime's workers; threads that find the lane taken still run in parallel; the lane
is rebuilt after fork (also when a thread of the parent was in the middle of a call), dropped by
close(), safe against servers that close idle connections, and a nested sync call from inside a
running call is a clear error."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time

import pytest
import tccvm
from conftest import Scripted
from test_secrets_scan import https_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(60)


def _attempt_records(caplog) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "tccvm" and r.levelno == logging.DEBUG and hasattr(r, "attempt")
    ]


def test_sync_calls_run_on_the_calling_thread(recording_server, client_factory, caplog):
    """The logging observer runs where the call runs: the caller's thread, every attempt."""
    caplog.set_level(logging.DEBUG, logger="tccvm")
    c = client_factory()
    recording_server.push_error(
        "RequestLimitExceeded"
    )  # one retry, after a backoff sleep
    for _ in range(3):
        c.call("DescribeZones")
    recs = _attempt_records(caplog)
    assert len(recs) == 4
    assert {r.thread for r in recs} == {threading.get_ident()}, {
        r.threadName for r in recs
    }


def test_async_calls_still_use_the_shared_runtime(
    recording_server, client_factory, caplog
):
    import asyncio

    caplog.set_level(logging.DEBUG, logger="tccvm")
    c = client_factory(cls=tccvm.AsyncClient)
    asyncio.run(c.call("DescribeZones"))
    recs = _attempt_records(caplog)
    assert len(recs) == 1
    assert recs[0].thread != threading.get_ident()


def test_threads_are_not_serialised_behind_the_lane(recording_server, client_factory):
    """One thread holds the lane with a slow call; 16 others still run their calls meanwhile."""

    def handler(rec):
        if rec.headers.get("x-tc-action") == "DescribeRegions":
            return Scripted(
                body=b'{"Response": {"RequestId": "slow"}}',
                headers={"Content-Type": "application/json"},
                delay=3.0,
            )
        return None

    recording_server.handler = handler
    c = client_factory()
    c.call("DescribeZones")  # the lane exists
    slow = threading.Thread(target=c.call, args=("DescribeRegions",))
    slow.start()
    time.sleep(0.2)  # the slow call holds the lane now
    errors: list[BaseException] = []
    done: list[float] = []

    def work() -> None:
        try:
            for _ in range(5):
                c.call("DescribeZones")
            done.append(time.monotonic())
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t0 = time.monotonic()
    ts = [threading.Thread(target=work) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    slow.join(30)
    assert not errors
    assert len(done) == 16
    # All 80 calls finished well before the slow one could give the lane back.
    assert max(done) - t0 < 2.5, max(done) - t0


def test_sixteen_threads_with_latency(recording_server, client_factory):
    recording_server.handler = lambda rec: Scripted(
        body=b'{"Response": {"RequestId": "x"}}',
        headers={"Content-Type": "application/json"},
        delay=0.05,
    )
    c = client_factory()
    c.call("DescribeZones")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                assert c.call("DescribeZones") == {"RequestId": "x"}
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t0 = time.monotonic()
    ts = [threading.Thread(target=work) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    elapsed = time.monotonic() - t0
    assert not errors
    assert len(recording_server.requests) == 161
    # Sequentially 160 x 50 ms = 8 s; in parallel about 10 x 50 ms.
    assert elapsed < 4, elapsed


def test_nested_sync_call_from_a_log_handler_is_a_clear_error(
    recording_server, client_factory
):
    c = client_factory()
    seen: list[BaseException] = []

    class Nested(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if seen:
                return
            try:
                c.call("DescribeZones")
            except BaseException as e:  # noqa: BLE001
                seen.append(e)

    log = logging.getLogger("tccvm")
    h = Nested(logging.DEBUG)
    old = log.level
    log.addHandler(h)
    log.setLevel(logging.DEBUG)
    try:
        assert c.call("DescribeRegions") == {"RequestId": "req-1"}
    finally:
        log.removeHandler(h)
        log.setLevel(old)
    assert len(seen) == 1
    e = seen[0]
    assert isinstance(e, tccvm.TccvmError)
    assert "already running a tokio runtime" in str(e)
    assert "internal error" not in str(e)
    # The outer call went on, and the client is still usable.
    assert c.call("DescribeZones")


# -- a raw server: counts connections, sees them closed, closes idle ones --------------------


class RawServer:
    """HTTP/1.1 keep-alive server answering every request with a minimal API success. With
    `idle_close`, it closes a connection that stays idle that long, without warning the client
    (no `Connection: close`), as servers with a keep-alive timeout do."""

    def __init__(self, idle_close: float | None = None) -> None:
        self.idle_close = idle_close
        self.lock = threading.Lock()
        self.opened = 0
        self.closed_by_client = 0
        self.requests = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.endpoint = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.opened += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                conn.settimeout(self.idle_close or 30)
                while b"\r\n\r\n" not in buf:
                    try:
                        chunk = conn.recv(65536)
                    except socket.timeout:
                        return  # idle: close it under the client's feet
                    if not chunk:
                        with self.lock:
                            self.closed_by_client += 1
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v)
                conn.settimeout(30)
                while len(buf) < length:
                    buf += conn.recv(65536)
                buf = buf[length:]
                with self.lock:
                    self.requests += 1
                    n = self.requests
                body = json.dumps({"Response": {"RequestId": f"raw-{n}"}}).encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
        except OSError:
            return
        finally:
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture
def raw_server():
    servers: list[RawServer] = []

    def make(**kw):
        s = RawServer(**kw)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.close()


def _client(endpoint: str, **kw) -> tccvm.Client:
    return tccvm.Client(
        secret_id="AKIDx",
        secret_key="k",
        region="ap-guangzhou",
        endpoint=endpoint,
        timeout=5,
        **kw,
    )


def test_idle_connections_closed_by_the_server_are_not_errors(raw_server):
    """StartInstances is not idempotent and has no ClientToken: a request lost on a connection
    the server had closed would fail (max_attempts=1 makes sure nothing hides it)."""
    srv = raw_server(idle_close=0.05)
    with _client(srv.endpoint, max_attempts=1) as c:
        for i in range(6):
            assert c.call("StartInstances", {"InstanceIds": ["ins-1"]})["RequestId"]
            time.sleep(0.15)  # the server closes the idle connection meanwhile
    assert srv.requests == 6
    assert srv.opened == 6


def test_close_drops_the_lane_and_its_connections(raw_server):
    srv = raw_server()
    c = _client(srv.endpoint)
    c.call("DescribeZones")
    c.call("DescribeZones")
    assert srv.opened == 1
    c.close()
    deadline = time.monotonic() + 5
    while srv.closed_by_client < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert srv.closed_by_client == 1  # the socket was closed by close(), not left open
    c.call("DescribeZones")  # a closed client opens a new lane and pool
    assert srv.opened == 2
    c.close()
    c.close()
    assert c.call("DescribeZones")["RequestId"] == "raw-4"
    c.close()


def test_close_while_a_call_is_in_flight(recording_server, client_factory):
    recording_server.push_json({"Response": {"RequestId": "slow"}}, delay=0.5)
    c = client_factory()
    out: list = []
    t = threading.Thread(target=lambda: out.append(c.call("DescribeZones")))
    t.start()
    time.sleep(0.2)
    c.close()  # the call in flight keeps its lane until it is done
    t.join(10)
    assert out == [{"RequestId": "slow"}]
    assert c.call("DescribeZones")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_fork_while_another_thread_drives_the_lane(recording_server, client_factory):
    """At fork time a parent thread is blocked in a call on the lane: the child must build its
    own lane (the parent's is taken, and its epoll fd is shared with the parent)."""
    recording_server.handler = lambda rec: (
        Scripted(
            body=b'{"Response": {"RequestId": "slow"}}',
            headers={"Content-Type": "application/json"},
            delay=1.5,
        )
        if rec.headers.get("x-tc-action") == "DescribeRegions"
        else None
    )
    c = client_factory()
    c.call("DescribeZones")
    out: list = []
    t = threading.Thread(target=lambda: out.append(c.call("DescribeRegions")))
    t.start()
    time.sleep(0.3)
    pid = os.fork()
    if pid == 0:  # child: only this thread exists
        code = 1
        try:
            ok = all(c.call("DescribeZones") for _ in range(3))
            c.close()
            ok = ok and bool(c.call("DescribeZones"))
            code = 0 if ok else 3
        except BaseException:  # noqa: BLE001
            code = 2
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the call in the forked child hung")
        time.sleep(0.05)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    t.join(10)
    assert out == [{"RequestId": "slow"}]  # the parent's call was not disturbed
    assert c.call("DescribeZones")


# -- TLS configuration shared by clients ---------------------------------------------------


def test_shared_tls_configuration_follows_the_ca_bundle_content(
    https_server,  # noqa: F811 (the fixture imported above)
    tmp_path,
):
    """TLS configurations are built once per setting and shared; a CA bundle is keyed by its
    content, so a file rewritten between two clients is honoured."""
    from test_secrets_scan import _certs

    port, ca_path = https_server
    other = tmp_path / "other"
    other.mkdir()
    other_ca, _, _ = _certs(other)
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(other_ca.read_bytes())
    endpoint = f"https://127.0.0.1:{port}"
    first = _client(endpoint, verify=str(bundle), max_attempts=1)
    with pytest.raises(tccvm.TransportError):
        first.call("DescribeZones")
    bundle.write_bytes(ca_path.read_bytes())
    second = _client(endpoint, verify=str(bundle), max_attempts=1)
    assert second.call("DescribeZones")["RequestId"] == "tls-ok"
    # Many clients on the same bundle; the first keeps the configuration it was built with.
    more = [_client(endpoint, verify=str(bundle)) for _ in range(20)]
    assert all(m.call("DescribeZones")["RequestId"] == "tls-ok" for m in more[:3])
    with pytest.raises(tccvm.TransportError):
        first.call("DescribeZones")
    bundle.write_bytes(b"not a certificate\n")
    with pytest.raises(ValueError, match="holds no certificate"):
        _client(endpoint, verify=str(bundle))
    for c in [first, second, *more]:
        c.close()


def test_rate_limit_permits_come_back_when_the_lane_is_idle(
    recording_server, client_factory
):
    """Thread A's calls ran on the lane; thread B, which found the lane taken, waits on the
    process runtime for a permit that A's calls hold. A then stops calling: the permits must
    still come back a window later (not only when someone drives the lane again)."""

    def handler(rec):
        slow = rec.json().get("KeyName") == "slow"
        return Scripted(
            body=b'{"Response": {"RequestId": "k"}}',
            headers={"Content-Type": "application/json"},
            delay=0.6 if slow else 0.0,
        )

    recording_server.handler = handler
    c = client_factory(rate_limit=True)  # CreateKeyPair: 10 per second
    for i in range(9):
        c.call("CreateKeyPair", {"KeyName": f"k{i}", "ProjectId": 0})
    a = threading.Thread(
        target=c.call, args=("CreateKeyPair", {"KeyName": "slow", "ProjectId": 0})
    )
    a.start()
    time.sleep(0.2)  # A holds the lane and the 10th permit
    done: list[float] = []
    t0 = time.monotonic()
    b = threading.Thread(
        target=lambda: done.append(
            bool(c.call("CreateKeyPair", {"KeyName": "b", "ProjectId": 0}))
            and time.monotonic()
        )
    )
    b.start()
    a.join(10)
    b.join(8)
    assert done, "the waiting call never got a permit back"
    assert done[0] - t0 < 4
    assert c._core.stats()["rate_limited"] >= 1


def test_threads_calling_at_once_each_drive_a_lane(
    recording_server, client_factory, caplog
):
    """Four threads overlapping their calls: every attempt runs on its caller's thread (each
    took a lane of its own), none on the shared runtime's workers."""
    caplog.set_level(logging.DEBUG, logger="tccvm")
    recording_server.handler = lambda rec: Scripted(
        body=b'{"Response": {"RequestId": "x"}}',
        headers={"Content-Type": "application/json"},
        delay=0.02,
    )
    c = client_factory()
    callers: set[int] = set()
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        callers.add(threading.get_ident())
        try:
            barrier.wait(10)
            for _ in range(10):
                c.call("DescribeZones")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    assert not errors
    recs = _attempt_records(caplog)
    assert len(recs) == 40
    assert {r.thread for r in recs} == callers


def _cpu_seconds() -> float:
    import resource

    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def test_nothing_keeps_polling_after_a_burst_of_calls():
    """A sync call sleeps until its answer arrives (the SDK never polls); the emulator polls for
    the next request for at most a millisecond after an answer (crates/emulator/src/poll.rs):
    once the calls stop, this process (client and emulator alike) uses no CPU while it
    sleeps."""
    from tccvm.emulator import Emulator

    with Emulator() as emu:
        c = tccvm.Client(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region="ap-guangzhou",
            endpoint=emu.endpoint,
        )
        for _ in range(200):
            c.describe_zones()
        # Settled: let the last call's connection work and the emulator's polling end.
        time.sleep(0.05)
        before = _cpu_seconds()
        time.sleep(0.5)
        used = _cpu_seconds() - before
        c.close()
    assert used < 0.05, f"{used:.3f} s of CPU while idle for 0.5 s"
