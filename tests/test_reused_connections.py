"""Reused connections that the server closed: a server that closes every connection right after
answering (without ``Connection: close``) must cost no more failures of non-idempotent calls
than ``requests`` suffers in the same run, and RunInstances (retried safely with its
ClientToken) no more than one extra attempt per 20 calls. Idle connections are dropped before
the server's announced keep-alive limit; the emulator announces its own.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest
import requests
import tccvm
from hostile import Remote, SlowServer, _Base, answer, read_request
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(180)

CALLS = 200


def client(endpoint: str, cls=tccvm.Client, **kw):
    return cls(
        secret_id="AKIDx",
        secret_key="k",
        region="ap-guangzhou",
        endpoint=endpoint,
        **kw,
    )


def start_failures(c: tccvm.Client, calls: int = CALLS) -> int:
    """StartInstances (no ClientToken: never resent once it may have arrived) ``calls`` times;
    how many failed."""
    failed = 0
    for _ in range(calls):
        try:
            c.start_instances(InstanceIds=["ins-1"])
        except tccvm.TransportError:
            failed += 1
    return failed


async def start_failures_async(c: tccvm.AsyncClient, calls: int = CALLS) -> int:
    failed = 0
    for _ in range(calls):
        try:
            await c.start_instances(InstanceIds=["ins-1"])
        except tccvm.TransportError:
            failed += 1
    return failed


def requests_failures(endpoint: str, calls: int = CALLS) -> int:
    """The same POSTs through one ``requests.Session`` (urllib3 looks for a close before
    reusing a pooled connection and resends nothing)."""
    session = requests.Session()
    failed = 0
    for _ in range(calls):
        try:
            session.post(endpoint + "/", data=b"{}", timeout=10)
        except requests.RequestException:
            failed += 1
    return failed


def extra_run_attempts(c, run) -> int:
    """Attempts beyond one per call for CALLS RunInstances (``run`` makes them)."""
    before = c._core.stats()["attempts"]
    run()
    return c._core.stats()["attempts"] - before - CALLS


@pytest.mark.parametrize("server", ["closing", "closing-fin"])
@pytest.mark.parametrize("api", ["sync", "async"])
def test_non_idempotent_calls_fail_no_more_often_than_with_requests(api, server):
    # "closing": the server closes each connection right after answering; on a loaded machine
    # its close may come after the client's next request (the race). "closing-fin": its FIN
    # comes with each answer: a client that looks before reusing a pooled connection never
    # writes to a closed one. Non-idempotent calls fail no more often than with requests,
    # RunInstances needs at most one extra attempt per 20 calls (the client stops reusing
    # connections once it has lost the race three times).
    with Remote(server) as srv:
        if api == "sync":
            c = client(srv.endpoint)
            ours = start_failures(c)
            extra = extra_run_attempts(
                c,
                lambda: [
                    c.run_instances(Placement={"Zone": "ap-guangzhou-2"}, ImageId="i")
                    for _ in range(CALLS)
                ],
            )
        else:
            c = client(srv.endpoint, cls=tccvm.AsyncClient)

            async def runs():
                for _ in range(CALLS):
                    await c.run_instances(
                        Placement={"Zone": "ap-guangzhou-2"}, ImageId="i"
                    )

            ours = asyncio.run(start_failures_async(c))
            extra = extra_run_attempts(c, lambda: asyncio.run(runs()))
        theirs = requests_failures(srv.endpoint)
        print(f"failed: tccvm {ours}/{CALLS}, requests {theirs}/{CALLS}; extra {extra}")
        # Racing, a request written just before the server's FIN arrived fails (it may have
        # been read); such failures stop once the client has stopped reusing connections,
        # after its third lost race: never more than 3, however few requests lost.
        assert ours <= max(theirs, 3), (ours, theirs)
        assert extra <= CALLS // 20, extra


@pytest.mark.parametrize("api", ["sync", "async"])
def test_the_keep_alive_race_lost_is_resent_for_any_action(api):
    # The server closes each connection only once the next request is there, unread (the
    # race lost every time: no look before reuse can see it coming). That request never
    # reached the service: resent on a new connection, for any action. requests fails it.
    # After the third such race the client opens a new connection for each request.
    calls = 50
    with Remote("closing-late") as srv:
        if api == "sync":
            c = client(srv.endpoint)
            ours = start_failures(c, calls)
        else:
            c = client(srv.endpoint, cls=tccvm.AsyncClient)
            ours = asyncio.run(start_failures_async(c, calls))
        served = srv.requests
        # Three races lost, and the client reuses no more connections: no more races.
        assert c._core.stats()["attempts"] == calls + 3
        theirs = requests_failures(srv.endpoint, calls)
    print(f"failed: tccvm {ours}/{calls}, requests {theirs}/{calls}")
    assert ours == 0
    assert served == calls  # each call's request read once: nothing sent twice
    assert theirs > 0  # the race is real (every reused connection of requests' lost it)


class DropsSecondRequest(_Base):
    """Answers the first request on a connection; reads the second and closes without an
    answer (a FIN): the service may have acted on it."""

    def serve(self, conn, f) -> None:
        if read_request(f) is None:
            return
        self.count()
        conn.sendall(answer(200, b'{"Response": {"RequestId": "d"}}'))
        if read_request(f) is not None:
            self.count()


class ResetsFirstRequest(_Base):
    """Reads each connection's first request and resets the connection (SO_LINGER 0)."""

    def serve(self, conn, f) -> None:
        if read_request(f) is None:
            return
        self.count()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.parametrize("server", [DropsSecondRequest, ResetsFirstRequest])
def test_a_request_that_may_have_been_read_is_not_resent(server):
    # Only a reset of a *reused* connection before any answer counts as never sent: a close
    # without an answer (FIN) after the server read the request, or a reset of a connection
    # opened for this very request, may follow a request the service acted on.
    with server() as srv:
        c = client(srv.endpoint)
        if server is DropsSecondRequest:
            c.start_instances(InstanceIds=["ins-1"])
        with pytest.raises(tccvm.TransportError) as e:
            c.start_instances(InstanceIds=["ins-1"])
        assert e.value.attempts == 1, e.value
        assert e.value.kind == "io"
        assert srv.requests == (2 if server is DropsSecondRequest else 1)


class AnnouncingServer(_Base):
    """Says ``Keep-Alive: timeout=2`` and keeps connections open for good (it never closes
    them): the client alone decides when to drop an idle one."""

    def serve(self, conn, f) -> None:
        while read_request(f) is not None:
            self.count()
            body = b'{"Response": {"RequestId": "ka"}}'
            conn.sendall(answer(200, body, "Keep-Alive: timeout=2, max=100\r\n"))


def test_idle_connections_are_dropped_before_the_announced_keep_alive_timeout():
    with AnnouncingServer() as srv:
        c = client(srv.endpoint)
        c.describe_zones()  # the hint is learnt (the pool is rebuilt once for it)
        c.describe_zones()
        first = srv.connections
        c.describe_zones()
        assert srv.connections == first  # reused while fresh
        time.sleep(1.5)  # longer than the client keeps it for a 2 s hint (1 s)
        c.describe_zones()
        assert srv.connections == first + 1


def test_async_pool_honours_the_keep_alive_hint_too():
    with AnnouncingServer() as srv:
        a = tccvm.AsyncClient(
            secret_id="AKIDx",
            secret_key="k",
            region="ap-guangzhou",
            endpoint=srv.endpoint,
        )

        async def main():
            await a.describe_zones()
            await a.describe_zones()
            first = srv.connections
            await a.describe_zones()
            assert srv.connections == first
            await asyncio.sleep(1.5)
            await a.describe_zones()
            return first

        first = asyncio.run(main())
        assert srv.connections == first + 1


def test_the_emulator_announces_its_idle_timeout():
    with Emulator() as emu:
        port = int(emu.endpoint.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            head = s.recv(65536).decode("latin-1").lower()
    line = next(x for x in head.split("\r\n") if x.startswith("keep-alive:"))
    assert line.split(":", 1)[1].strip() == "timeout=30"


def test_a_server_that_closes_idle_connections_early_is_survived():
    # The server closes each idle connection 0.3 s after answering, without saying so: a call
    # made as it closes must not fail a non-idempotent action that never reached it.
    class EarlyCloser(_Base):
        def serve(self, conn, f) -> None:
            conn.settimeout(0.3)
            try:
                while read_request(f) is not None:
                    self.count()
                    conn.sendall(answer(200, b'{"Response": {"RequestId": "e"}}'))
            except OSError:  # the idle timeout
                return

    with EarlyCloser() as srv:
        c = client(srv.endpoint)
        failed = 0
        for i in range(20):
            try:
                c.start_instances(InstanceIds=["ins-1"])
            except tccvm.TransportError:
                failed += 1
            time.sleep(0.35)
        assert failed == 0


def test_slow_server_unaffected():
    with SlowServer(delays=0.05) as srv:
        c = client(srv.endpoint)
        for _ in range(5):
            c.describe_zones()
        assert srv.connections == 1
