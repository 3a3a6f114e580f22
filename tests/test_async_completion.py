"""How async results reach the event loop (crates/py/src/completer.rs): batched per loop, set on
the loop thread, cancellation stops the call, a panic becomes TccvmError, no leak across loops."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time

import pytest
import tccvm
from tccvm import _core

pytestmark = pytest.mark.timeout(60)


def _runtime_threads() -> int:
    """OS threads of tccvm's runtime (workers and blocking pool are all named tccvm-rt)."""
    n = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                n += f.read().strip() == "tccvm-rt"
        except OSError:
            pass
    return n


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_panic_in_an_async_call_becomes_tccvm_error():
    async def main() -> None:
        await _core._check_panic_boundary_async()

    with pytest.raises(tccvm.TccvmError) as ei:
        asyncio.run(main())
    assert "deliberate test panic in an async call" in str(ei.value)


def test_cancelling_stops_the_call_and_its_retries(recording_server, client_factory):
    # Throttled answers are retried; each arrives after 0.5 s. Cancelled at 0.2 s, the call
    # must make no further attempt (a still-running task would retry at ~0.5 s).
    for _ in range(3):
        recording_server.push_error("RequestLimitExceeded", "slow down", delay=0.5)
    c = client_factory(cls=tccvm.AsyncClient, max_attempts=3)

    async def main() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(c.call("DescribeZones"), 0.2)
        await asyncio.sleep(1.5)

    asyncio.run(main())
    assert len(recording_server.requests) == 1


def test_cancelled_calls_do_not_disturb_the_others(recording_server, client_factory):
    recording_server.handler = lambda rec: None  # default answers
    for _ in range(40):
        recording_server.push_json({"Response": {"RequestId": "slow"}}, delay=0.3)
    c = client_factory(cls=tccvm.AsyncClient)
    unraisable: list[object] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(u)
    try:

        async def main() -> list[object]:
            tasks = [asyncio.ensure_future(c.call("DescribeZones")) for _ in range(40)]
            await asyncio.sleep(0.1)
            for t in tasks[::2]:
                t.cancel()
            return await asyncio.gather(*tasks, return_exceptions=True)

        out = asyncio.run(main())
    finally:
        sys.unraisablehook = old_hook
    cancelled = [o for o in out[::2] if isinstance(o, asyncio.CancelledError)]
    answered = [o for o in out[1::2] if isinstance(o, dict) and "RequestId" in o]
    assert len(cancelled) == 20
    assert len(answered) == 20
    assert unraisable == []


def test_one_client_across_many_event_loops_without_leaking(
    recording_server, client_factory
):
    c = client_factory(cls=tccvm.AsyncClient)

    async def one() -> dict:
        return await c.call("DescribeZones")

    assert "RequestId" in asyncio.run(
        one()
    )  # pool, runtime and first completer exist now
    gc.collect()
    before = _open_fds()
    for _ in range(30):
        assert "RequestId" in asyncio.run(one())
        gc.collect()
    # Each loop's wake-up socket pair is closed once a later loop finds the old loop gone.
    assert _open_fds() - before <= 4


def test_results_of_many_calls_arrive_in_batches(recording_server, client_factory):
    recording_server.handler = lambda rec: None
    c = client_factory(cls=tccvm.AsyncClient)

    async def main(n: int) -> list[dict]:
        return await asyncio.gather(*(c.call("DescribeZones") for _ in range(n)))

    asyncio.run(main(1))  # the runtime's worker threads exist from here on
    threads_before = _runtime_threads()
    out = asyncio.run(main(300))
    threads_after = _runtime_threads()
    assert len(out) == 300
    assert all("RequestId" in o for o in out)
    # No OS thread per result (the bridge this replaced handed each answer to a thread of the
    # runtime's blocking pool, which grew to dozens of threads here).
    assert threads_after <= threads_before, (threads_before, threads_after)
    assert len({o["RequestId"] for o in out}) == 300


def test_an_async_client_in_a_thread_with_its_own_loop(
    recording_server, client_factory
):
    c = client_factory(cls=tccvm.AsyncClient)
    results: list[object] = []

    def worker() -> None:
        async def main() -> list[dict]:
            return await asyncio.gather(*(c.call("DescribeZones") for _ in range(20)))

        results.append(asyncio.run(main()))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert time.monotonic() - t0 < 30
    assert len(results) == 4
    assert all(len(r) == 20 for r in results)  # type: ignore[arg-type]


_LOOPS_IN_THREADS = """
import asyncio, sys, threading
sys.path.insert(0, sys.argv[1])
from conftest import RecordingServer  # in this process: its threads contend for the GIL too
import tccvm
sys.setswitchinterval(1e-6)  # hand the GIL over as often as possible
srv = RecordingServer()
c = tccvm.AsyncClient(secret_id="AKIDtest", secret_key="k" * 32, region="ap-guangzhou",
                      endpoint=srv.endpoint)
def worker():
    for _ in range(40):
        async def main():
            return await asyncio.gather(*(c.call("DescribeZones") for _ in range(3)))
        assert len(asyncio.run(main())) == 3
ts = [threading.Thread(target=worker) for _ in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
assert len(srv.requests) == 8 * 40 * 3
print("done")
"""


def test_event_loops_in_many_threads_do_not_deadlock():
    """8 threads each starting 40 event loops, GIL switched every instruction: registering a
    loop's completer must never wait for a lock while holding the GIL (this hung the process
    before). Run in a child so that a deadlock fails the test instead of hanging the suite."""
    import subprocess

    r = subprocess.run(
        [sys.executable, "-c", _LOOPS_IN_THREADS, os.path.dirname(__file__)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "done"
