"""Bounded answers and bounded connections, against hostile local servers.

- ``max_response_bytes``: an endless chunked body, a 1 GiB body (announced or not) end their
  attempt at the limit with ``TransportError(kind="too_large")``, with memory near the limit,
  and are not retried (not even with a short timeout, which once meant three downloads).
- ``max_connections``: calls beyond it queue (threads and AsyncClient alike); 3,000 concurrent
  AsyncClient calls under ``ulimit -n 1024`` all succeed; running out of file descriptors
  fails the attempt without spending the retry budget.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import tccvm
from hostile import SlowServer, StreamingServer
from tccvm._client import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RESPONSE_BYTES
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(180)

MiB = 1 << 20


def client(endpoint: str, cls=tccvm.Client, **kw):
    kw.setdefault("timeout", 30)
    return cls(
        secret_id="AKIDx",
        secret_key="k",
        region="ap-guangzhou",
        endpoint=endpoint,
        **kw,
    )


# -- answer size -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "server",
    [
        pytest.param(lambda: StreamingServer(None), id="endless-chunked"),
        pytest.param(lambda: StreamingServer(1 << 30), id="1GiB-content-length"),
        pytest.param(
            lambda: StreamingServer(1 << 30, content_length=False), id="1GiB-eof"
        ),
    ],
)
def test_an_answer_over_the_limit_ends_the_attempt_and_is_not_retried(server):
    with server() as srv:
        c = client(srv.endpoint, max_response_bytes=4 * MiB, timeout=3)
        with pytest.raises(tccvm.TransportError) as e:
            c.describe_zones()
        assert e.value.kind == "too_large"
        assert e.value.attempts == 1
        assert e.value.status == 200
        assert "max_response_bytes" in str(e.value)
        assert srv.requests == 1
        # Reading stopped at the limit (plus what sat in the socket buffers), not 1 GiB.
        assert srv.sent < 4 * MiB + 32 * MiB
        # The client works for the next call (the oversized answer's connection is gone).
        assert c._core.stats()["retries"] == 0


def test_memory_stays_near_the_limit():
    # In a fresh interpreter: its peak RSS after reading a 1 GiB answer with a 16 MiB limit.
    with StreamingServer(1 << 30, content_length=False) as srv:
        script = textwrap.dedent(f"""
            import resource, tccvm
            c = tccvm.Client(secret_id="AKIDx", secret_key="k", region="ap-guangzhou",
                             endpoint={srv.endpoint!r}, max_response_bytes={16 * MiB})
            c.describe_zones.__doc__
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            try:
                c.describe_zones()
            except tccvm.TransportError as e:
                assert e.kind == "too_large", e
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print((after - before) * 1024)
        """)
        out = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        grew = int(out.stdout.strip())
        assert grew < 16 * MiB + 24 * MiB, grew


def test_an_answer_at_the_limit_is_accepted(recording_server):
    body = json.dumps({"Response": {"RequestId": "r", "Pad": "x" * 1000}}).encode()
    recording_server.push(body=body)
    c = client(recording_server.endpoint, max_response_bytes=len(body))
    assert c.call("DescribeZones")["RequestId"] == "r"
    recording_server.push(body=body)
    c = client(recording_server.endpoint, max_response_bytes=len(body) - 1)
    with pytest.raises(tccvm.TransportError) as e:
        c.call("DescribeZones")
    assert e.value.kind == "too_large"


def test_the_default_limit_has_a_wide_margin_over_the_largest_answers():
    # 100 fully populated instances (long names, 5 data disks, 10 long tags each).
    with Emulator(transition_seconds=0.0) as emu:
        c = tccvm.Client(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region="ap-guangzhou",
            endpoint=emu.endpoint,
        )
        tags = [{"Key": f"k{i}", "Value": "v" * 100} for i in range(10)]
        c.run_instances(
            Placement={"Zone": "ap-guangzhou-2"},
            ImageId="img-pmqg1cw7",
            InstanceCount=100,
            InstanceName="x" * 60,
            TagSpecification=[{"ResourceType": "instance", "Tags": tags}],
            DataDisks=[
                {"DiskSize": 100, "DiskType": "CLOUD_PREMIUM"} for _ in range(5)
            ],
        )
        r = c.describe_instances(Limit=100)
        assert len(r["InstanceSet"]) == 100
        size = len(json.dumps({"Response": r}))
    assert DEFAULT_MAX_RESPONSE_BYTES >= 100 * size, size
    assert DEFAULT_MAX_RESPONSE_BYTES == 64 * MiB


# -- connections -------------------------------------------------------------------------------


def test_threads_beyond_max_connections_queue():
    with SlowServer(delays=0.2) as srv:
        c = client(srv.endpoint, max_connections=3)
        with ThreadPoolExecutor(12) as pool:
            ids = list(pool.map(lambda _: c.describe_zones()["RequestId"], range(12)))
        assert len(set(ids)) == 12
        assert srv.in_flight_max == 3
        # Three lanes (one connection each); threads beyond them share the async pool.
        assert srv.connections <= 2 * 3


def test_async_calls_beyond_max_connections_queue():
    with SlowServer(delays=0.2) as srv:
        c = client(srv.endpoint, cls=tccvm.AsyncClient, max_connections=4)

        async def main():
            return await asyncio.gather(*(c.describe_zones() for _ in range(16)))

        assert len(asyncio.run(main())) == 16
        assert srv.in_flight_max == 4
        assert srv.connections <= 4


def test_the_cap_is_per_client_across_sync_and_async():
    with SlowServer(delays=0.3) as srv:
        c = client(srv.endpoint, max_connections=2)
        a = client(srv.endpoint, cls=tccvm.AsyncClient, max_connections=2)
        assert DEFAULT_MAX_CONNECTIONS == 100
        threads = [threading.Thread(target=c.describe_zones) for _ in range(4)]
        for t in threads:
            t.start()

        async def main():
            await asyncio.gather(*(a.describe_zones() for _ in range(4)))

        asyncio.run(main())
        for t in threads:
            t.join()
        # Two clients, two each.
        assert srv.in_flight_max <= 4


CONCURRENT = """
import asyncio, resource, tccvm
from tccvm.emulator import Emulator
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
with Emulator() as emu:
    c = tccvm.AsyncClient(secret_id=emu.secret_id, secret_key=emu.secret_key,
                          region="ap-guangzhou", endpoint=emu.endpoint)
    async def main():
        return await asyncio.gather(*(c.describe_zones() for _ in range(3000)),
                                    return_exceptions=True)
    results = asyncio.run(main())
    errors = [r for r in results if isinstance(r, BaseException)]
    print(len(results) - len(errors), len(errors), repr(errors[:1]))
"""


def test_3000_concurrent_async_calls_under_ulimit_1024():
    out = subprocess.run(
        [sys.executable, "-c", CONCURRENT],
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    ok, failed, first = out.stdout.split(" ", 2)
    assert (int(ok), int(failed)) == (3000, 0), first


OUT_OF_FDS = """
import asyncio, resource, socket, sys, time
sys.path.insert(0, {tests!r})
import tccvm
from hostile import ClosingServer

# On the process runtime (AsyncClient) the connection tasks run all the time: the connection
# the server closed after the first answer is dropped (its fd freed) before the descriptors
# are used up, so the second call must open a new connection and cannot.
async def main():
    with ClosingServer() as srv:
        c = tccvm.AsyncClient(secret_id="AKIDx", secret_key="k", region="ap-guangzhou",
                              endpoint=srv.endpoint)
        await c.describe_zones()
        await asyncio.sleep(0.3)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        hog = []
        try:
            while True:
                hog.append(socket.socket())
        except OSError:
            pass
        budget = c._core.stats()["retry_budget"]
        try:
            await c.describe_zones()
            print("returned")
        except tccvm.TransportError as e:
            print(e.kind, e.attempts, c._core.stats()["retry_budget"] == budget, str(e))

asyncio.run(main())
"""


def test_running_out_of_file_descriptors_is_not_retried():
    out = subprocess.run(
        [sys.executable, "-c", OUT_OF_FDS.format(tests=os.path.dirname(__file__))],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    kind, attempts, budget_kept, text = out.stdout.strip().split(" ", 3)
    assert (kind, attempts, budget_kept) == ("fd_limit", "1", "True"), out.stdout
    assert "too many open files" in text
