"""``client.with_options(timeout=, connect_timeout=, max_attempts=, region=)``: a client that shares
the original's credentials and connection pools and differs only in those settings; values
refused as the constructor refuses them. Sync and async, against the emulator, with connections
counted by a loopback TCP forwarder in front of it."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

REGION = "ap-guangzhou"


class Forwarder:
    """Accepts on 127.0.0.1 and pipes each connection to the emulator, counting connections."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            up = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((conn, up), (up, conn)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


@pytest.fixture
def fwd(emu):
    f = Forwarder(emu.port)
    yield f
    f.close()


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.clear_faults()
    yield
    emu.clear_faults()


def kw(emu, endpoint=None, **extra):
    return {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": endpoint or emu.endpoint,
        **extra,
    }


def warm(call) -> None:
    """Two calls: the first answer's keep-alive hint rebuilds the pool once (one more
    connection, see transfer.rs); from then on the count only grows with new pools."""
    call()
    call()


def zones(resp) -> set[str]:
    return {z["Zone"] for z in resp["ZoneSet"]}


def test_sync_shares_the_pool_and_changes_only_what_was_asked(emu, fwd):
    c = tccvm.Client(**kw(emu, fwd.endpoint))
    warm(c.describe_zones)
    base = fwd.connections
    for opts in (
        {"timeout": 5.0},
        {"max_attempts": 1},
        {"region": "ap-shanghai"},
        {"timeout": 7, "max_attempts": 2, "region": "ap-guangzhou"},
    ):
        d = c.with_options(**opts)
        assert type(d) is tccvm.Client and d is not c
        d.describe_zones()
        c.describe_zones()
    # No new connection: the derived clients used the original's pool.
    assert fwd.connections == base
    d = c.with_options(timeout=5.0, max_attempts=1, region="ap-shanghai")
    assert (d._core.timeout, d._core.max_attempts, d.region) == (5.0, 1, "ap-shanghai")
    assert (c._core.timeout, c._core.max_attempts, c.region) == (60.0, 3, REGION)
    assert d._config["timeout"] == 5.0 and c._config["timeout"] == 60.0
    assert zones(d.describe_zones()) != zones(c.describe_zones())
    assert all(z.startswith("ap-shanghai") for z in zones(d.describe_zones()))
    # Nothing given: the same settings, still the same pool.
    same = c.with_options()
    assert same._config == c._config
    same.describe_zones()
    assert fwd.connections == base


def test_a_new_connect_timeout_gets_its_own_pool(emu, fwd):
    c = tccvm.Client(**kw(emu, fwd.endpoint))
    warm(c.describe_zones)
    base = fwd.connections
    d = c.with_options(connect_timeout=3.0)
    assert d._core.connect_timeout == 3.0 and c._core.connect_timeout == 10.0
    d.describe_zones()
    assert fwd.connections == base + 1
    c.describe_zones()
    d.describe_zones()
    assert fwd.connections == base + 1


def test_the_settings_really_differ(emu):
    c = tccvm.Client(**kw(emu))
    # timeout: a slow answer fails the derived client only.
    emu.set_latency(0.6)
    with pytest.raises(tccvm.TransportError) as e:
        c.with_options(timeout=0.2, max_attempts=1).describe_zones()
    assert e.value.kind == "timeout"
    c.describe_zones()
    emu.clear_faults()
    # max_attempts: one failure is retried by the original only.
    emu.inject("http_503", count=1)
    with pytest.raises(tccvm.TransportError) as e:
        c.with_options(max_attempts=1).describe_zones()
    assert e.value.attempts == 1
    emu.inject("http_503", count=1)
    c.describe_zones()


def test_credentials_are_shared(emu):
    c = tccvm.Client(**kw(emu))
    d = c.with_options(timeout=9.0)
    d.describe_zones()
    # Replacing the original's credentials (as a refresh does) is seen by the derived client.
    c._core.set_credentials(emu.secret_id, emu.secret_key + "-wrong")
    with pytest.raises(tccvm.TencentCloudError) as e:
        d.describe_zones()
    assert e.value.code.startswith("AuthFailure")
    c._core.set_credentials(emu.secret_id, emu.secret_key)
    d.describe_zones()


@pytest.mark.parametrize(
    ("opts", "exc"),
    [
        ({"timeout": 0}, ValueError),
        ({"timeout": -1.0}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"timeout": "5"}, TypeError),
        ({"timeout": True}, TypeError),
        ({"connect_timeout": 0.0}, ValueError),
        ({"max_attempts": 0}, ValueError),
        ({"max_attempts": 101}, ValueError),
        ({"max_attempts": 2.0}, TypeError),
        ({"region": ""}, ValueError),
        ({"region": 5}, TypeError),
        ({"region": "bad region!"}, ValueError),
    ],
)
def test_bad_values_are_refused_as_the_constructor_refuses_them(emu, opts, exc):
    c = tccvm.Client(**kw(emu))
    with pytest.raises(exc):
        c.with_options(**opts)
    with pytest.raises(exc):
        tccvm.Client(**kw(emu, **opts))
    with pytest.raises(TypeError):
        c.with_options(5.0)  # keyword only
    with pytest.raises(TypeError):
        c.with_options(proxy="http://x")


def test_region_none_means_the_environment_as_in_the_constructor(emu, monkeypatch):
    c = tccvm.Client(**kw(emu))
    monkeypatch.setenv("TENCENTCLOUD_REGION", "ap-beijing")
    d = c.with_options(region=None)
    assert d.region == "ap-beijing" and d._core.region == "ap-beijing"
    monkeypatch.delenv("TENCENTCLOUD_REGION")
    assert c.with_options(region=None).region is None


def test_a_derived_client_pickles_with_its_own_settings(emu):
    import pickle

    c = tccvm.Client(**kw(emu), pickle_credentials=True)
    d = pickle.loads(pickle.dumps(c.with_options(timeout=4.0, region="ap-shanghai")))
    assert d._core.timeout == 4.0 and d.region == "ap-shanghai"
    assert all(z.startswith("ap-shanghai") for z in zones(d.describe_zones()))


def test_async_shares_the_pool_and_changes_only_what_was_asked(emu, fwd):
    async def main():
        async with tccvm.AsyncClient(**kw(emu, fwd.endpoint)) as c:
            await c.describe_zones()
            await c.describe_zones()
            base = fwd.connections
            d = c.with_options(timeout=5.0, max_attempts=1, region="ap-shanghai")
            assert type(d) is tccvm.AsyncClient
            sh = await d.describe_zones()
            gz = await c.describe_zones()
            assert all(z.startswith("ap-shanghai") for z in zones(sh))
            assert all(z.startswith("ap-guangzhou") for z in zones(gz))
            assert (d._core.timeout, d._core.max_attempts) == (5.0, 1)
            assert (c._core.timeout, c._core.max_attempts) == (60.0, 3)
            # Calls one after the other: the derived client used the original's connection.
            assert fwd.connections == base
            emu.set_latency(0.6)
            with pytest.raises(tccvm.TransportError):
                await c.with_options(timeout=0.2, max_attempts=1).describe_zones()
            emu.clear_faults()
            emu.inject("http_503", count=1)
            with pytest.raises(tccvm.TransportError) as e:
                await d.describe_zones()
            assert e.value.attempts == 1

    asyncio.run(main())
