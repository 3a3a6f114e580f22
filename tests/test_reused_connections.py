"""Reused connections that the server closed: a server that closes every connection right after
answering (without ``Connection: close``) must cost no more failures of non-idempotent calls
than ``requests`` suffers in the same run, and RunInstances (retried safely with its
ClientToken) no more than one extra attempt per 20 calls. Idle connections are dropped before
the server's announced keep-alive limit; the emulator announces its own.
"""

from __future__ import annotations

import socket
import time

import pytest
import requests
import tccvm
from hostile import Remote, SlowServer, _Base, answer, read_request
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(180)

CALLS = 200


def client(endpoint: str, **kw) -> tccvm.Client:
    return tccvm.Client(
        secret_id="AKIDx",
        secret_key="k",
        region="ap-guangzhou",
        endpoint=endpoint,
        **kw,
    )


@pytest.mark.xfail(
    reason="not reliably met yet (issue 15 stays open): a clean-clone CI run saw 19 tccvm "
    "failures against 1 of requests, where the development runs saw 4-9 against 24-42",
    strict=False,
)
def test_non_idempotent_calls_fail_no_more_often_than_with_requests():
    with Remote("closing") as srv:
        c = client(srv.endpoint)
        ours = 0
        for _ in range(CALLS):
            try:
                c.start_instances(InstanceIds=["ins-1"])  # no ClientToken: never resent
            except tccvm.TransportError:
                ours += 1
        session = requests.Session()
        theirs = 0
        for _ in range(CALLS):
            try:
                session.post(srv.endpoint + "/", data=b"{}", timeout=10)
            except requests.RequestException:
                theirs += 1
        print(f"failed: tccvm {ours}/{CALLS}, requests {theirs}/{CALLS}")
        assert ours <= theirs, (ours, theirs)

        # RunInstances carries a ClientToken: a failed attempt is resent, but rarely.
        before = c._core.stats()["attempts"]
        for _ in range(CALLS):
            c.run_instances(Placement={"Zone": "ap-guangzhou-2"}, ImageId="img-1")
        extra = c._core.stats()["attempts"] - before - CALLS
        assert extra <= CALLS // 20, extra


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
    import asyncio

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
