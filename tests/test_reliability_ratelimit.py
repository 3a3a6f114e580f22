"""Client-side rate limiting (``rate_limit=True``): per action at the model's documented
requests per second, shared by every thread and task using the client. Proven against the
emulator's rate-limit mode, which answers RequestLimitExceeded past the documented limit: with
the limiter on and no retries, no call sees it."""

from __future__ import annotations

import asyncio
import json
import pickle
import threading
import time

import pytest
import tccvm
from tccvm import _core
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

REGION = "ap-guangzhou"
LIMITS = {
    n: a["rate_limit"]
    for n, a in json.loads(_core.service_model_json())["actions"].items()
}


@pytest.fixture
def emu():
    with Emulator(seed=2, transition_seconds=0.0) as e:
        e.enable_rate_limits()
        yield e


def kw(emu, **extra):
    d = {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": emu.endpoint,
        "max_attempts": 1,  # any RequestLimitExceeded would surface
        "timeout": 10.0,
    }
    d.update(extra)
    return d


def hammer_threads(c, action: str, n_threads: int, per_thread: int) -> list:
    errors: list = []
    barrier = threading.Barrier(n_threads, timeout=10)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            try:
                c.call(action)
            except tccvm.TccvmError as e:
                errors.append(e)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert not any(t.is_alive() for t in threads)
    return errors


def test_threads_share_the_limit(emu):
    action = "DescribeImages"
    limit = LIMITS[action]
    assert limit == 10
    calls = 3 * limit
    c = tccvm.Client(**kw(emu, rate_limit=True))
    t0 = time.monotonic()
    errors = hammer_threads(c, action, 8, calls // 8 + 1)
    took = time.monotonic() - t0
    assert not errors, [str(e) for e in errors[:3]]
    made = (calls // 8 + 1) * 8
    # `limit` at once, then `limit` per window: at least (made / limit - 1) windows.
    assert took >= (made // limit - 1) * 1.0, took
    assert took < made / limit + 3, took
    assert c._core.stats()["rate_limited"] > 0
    # Other actions are not held back by this one's queue.
    s = time.monotonic()
    c.call("DescribeZones")
    assert time.monotonic() - s < 0.5


def test_async_tasks_share_the_limit(emu):
    action = "DescribeKeyPairs"
    limit = LIMITS[action]
    ac = tccvm.AsyncClient(**kw(emu, rate_limit=True))
    n = 3 * limit + 5

    async def main():
        return await asyncio.wait_for(
            asyncio.gather(
                *(ac.call(action) for _ in range(n)), return_exceptions=True
            ),
            30,
        )

    out = asyncio.run(main())
    errors = [o for o in out if isinstance(o, BaseException)]
    assert not errors, [str(e) for e in errors[:3]]


def test_sync_and_async_in_one_loop_and_threads(emu):
    """Threads and tasks on the same AsyncClient's limiter (sync calls go through threads)."""
    action = "DescribeHosts"
    ac = tccvm.AsyncClient(**kw(emu, rate_limit=True))
    c = tccvm.Client(**kw(emu, rate_limit=True))

    async def main():
        # Two clients with separate limiters would overrun the shared emulator window, so the
        # sync client here uses another action.
        other = asyncio.gather(
            *(asyncio.to_thread(c.call, "DescribeImages") for _ in range(15))
        )
        mine = asyncio.gather(*(ac.call(action) for _ in range(25)))
        return await asyncio.wait_for(
            asyncio.gather(mine, other, return_exceptions=True), 30
        )

    for group in asyncio.run(main()):
        assert not isinstance(group, BaseException), group


def test_without_the_limiter_the_emulator_throttles(emu):
    """The control: the same load without rate_limit gets RequestLimitExceeded."""
    c = tccvm.Client(**kw(emu))
    errors = hammer_threads(c, "DescribeImages", 8, 4)
    assert errors
    assert all(getattr(e, "code", "") == "RequestLimitExceeded" for e in errors)


def test_off_by_default_and_pickled(emu, monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", emu.secret_id)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", emu.secret_key)
    c = tccvm.Client(**kw(emu))
    assert c._config["rate_limit"] is False
    r = pickle.loads(pickle.dumps(tccvm.Client(**kw(emu, rate_limit=True))))
    assert r._config["rate_limit"] is True
    errors = hammer_threads(r, "DescribeImages", 4, 6)
    assert not errors


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork")
def test_fork_while_permits_are_out(emu):
    """Permits given back by the parent's runtime would never come back in a forked child:
    the child starts with its own."""
    import os
    import signal

    c = tccvm.Client(**kw(emu, rate_limit=True))
    for _ in range(LIMITS["DescribeImages"]):
        c.call("DescribeImages")  # every permit now comes back only a window from now
    emu.disable_rate_limits()  # the child's calls are the parent's window's 11th+
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            c.call("DescribeImages")
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child waited for the parent's permits")
        time.sleep(0.02)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
