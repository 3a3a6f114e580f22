"""Event hooks (``event_hooks={"request": [f], "response": [g]}``, as httpx names them): called for
each attempt with the action, region, attempt number and, for responses, the status, request id,
latency and outcome; coroutine hooks on AsyncClient; no secret in what they receive; whatever a
hook raises reaches the caller. Sync and async, against the emulator with injected faults."""

from __future__ import annotations

import asyncio
import threading

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

REGION = "ap-guangzhou"
FAST = {"backoff_base": 0.001, "throttle_base": 0.001, "backoff_cap": 0.005}


class Fast(tccvm.Client):
    _core_options = FAST


class AFast(tccvm.AsyncClient):
    _core_options = FAST


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.clear_faults()
    yield
    emu.clear_faults()


def kw(emu, **extra):
    return {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": emu.endpoint,
        **extra,
    }


class Boom(Exception):
    pass


def check_events(events, emu, attempts):
    """Request and response events alternate, one pair per attempt; the last one succeeded."""
    assert [k for k, _ in events] == ["request", "response"] * attempts
    for i in range(attempts):
        (_, req), (_, resp) = events[2 * i], events[2 * i + 1]
        assert req == {
            "action": "DescribeZones",
            "region": REGION,
            "endpoint": emu.endpoint + "/",
            "attempt": i + 1,
            "max_attempts": 3,
        }
        assert {k: resp[k] for k in req} == req
        assert resp["latency_ms"] > 0
        last = i + 1 == attempts
        assert resp["outcome"] == ("ok" if last else "InternalError")
        assert resp["status"] == 200
        assert isinstance(resp["request_id"], str) and resp["request_id"]
        assert (resp["retry_in"] is None) == last
    blob = repr(events)
    assert emu.secret_key not in blob


def test_sync_hooks_see_every_attempt(emu):
    events = []
    threads = set()

    def on_request(e):
        threads.add(threading.get_ident())
        events.append(("request", e))

    c = Fast(
        **kw(emu),
        event_hooks={
            "request": [on_request],
            "response": [lambda e: events.append(("response", e))],
        },
    )
    emu.inject("internal_error", count=1, actions="DescribeZones")
    r = c.describe_zones()
    check_events(events, emu, attempts=2)
    assert events[-1][1]["request_id"] == r["RequestId"]
    assert threads == {threading.get_ident()}  # on the calling thread
    # call() and a derived client carry them too.
    events.clear()
    c.with_options(timeout=5).call("DescribeZones")
    check_events(events, emu, attempts=1)


def test_hooks_run_in_order_and_an_empty_list_is_no_hook(emu):
    order = []
    c = tccvm.Client(
        **kw(emu),
        event_hooks={
            "request": [lambda e: order.append(1), lambda e: order.append(2)],
            "response": [],
        },
    )
    c.describe_zones()
    assert order == [1, 2]
    assert c._hooks._response == ()


@pytest.mark.parametrize("kind", ["request", "response"])
def test_an_exception_in_a_sync_hook_reaches_the_caller(emu, kind):
    def hook(e):
        raise Boom(f"from the {kind} hook, attempt {e['attempt']}")

    before = emu.stats()["requests"]
    c = tccvm.Client(**kw(emu), event_hooks={kind: [hook]})
    with pytest.raises(Boom, match=f"from the {kind} hook, attempt 1"):
        c.describe_zones()
    sent = emu.stats()["requests"] - before
    # A request hook stops the call before anything is sent; a response hook after the one.
    assert sent == (0 if kind == "request" else 1)


def test_a_base_exception_in_a_hook_is_not_swallowed_either(emu):
    def hook(e):
        raise KeyboardInterrupt

    c = tccvm.Client(**kw(emu), event_hooks={"response": [hook]})
    with pytest.raises(KeyboardInterrupt):
        c.describe_zones()


@pytest.mark.parametrize(
    ("hooks", "exc", "match"),
    [
        ([], TypeError, "must be a dict"),
        ({"requests": []}, ValueError, "unknown event 'requests'"),
        ({"request": print}, TypeError, "must be a list"),
        ({"request": [1]}, TypeError, "not a callable"),
    ],
)
def test_bad_hooks_are_refused_at_construction(emu, hooks, exc, match):
    for cls in (tccvm.Client, tccvm.AsyncClient):
        with pytest.raises(exc, match=match):
            cls(**kw(emu), event_hooks=hooks)


def test_a_coroutine_hook_needs_the_async_client(emu):
    async def hook(e):
        pass

    with pytest.raises(TypeError, match="AsyncClient"):
        tccvm.Client(**kw(emu), event_hooks={"request": [hook]})
    tccvm.AsyncClient(**kw(emu), event_hooks={"request": [hook]})


def test_async_hooks_run_on_the_event_loop_and_are_awaited(emu):
    events = []

    async def main():
        loop_thread = threading.get_ident()
        seen_threads = set()

        async def on_request(e):
            seen_threads.add(threading.get_ident())
            await asyncio.sleep(0.01)  # the call waits for it
            events.append(("request", e))

        def on_response(e):  # a plain function is fine too (called on the loop)
            seen_threads.add(threading.get_ident())
            events.append(("response", e))

        async with AFast(
            **kw(emu),
            event_hooks={"request": [on_request], "response": [on_response]},
        ) as c:
            emu.inject("internal_error", count=1, actions="DescribeZones")
            r = await c.describe_zones()
            assert events[-1][1]["request_id"] == r["RequestId"]
            check_events(events, emu, attempts=2)
            events.clear()
            # Many calls at once: every hook still paired with its call.
            await asyncio.gather(*(c.describe_zones() for _ in range(20)))
            assert len(events) == 40
        assert seen_threads == {loop_thread}

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["request", "response"])
def test_an_exception_in_an_async_hook_reaches_the_caller(emu, kind):
    async def hook(e):
        await asyncio.sleep(0)
        raise Boom(f"async {kind}")

    async def main():
        async with tccvm.AsyncClient(**kw(emu), event_hooks={kind: [hook]}) as c:
            before = emu.stats()["requests"]
            with pytest.raises(Boom, match=f"async {kind}"):
                await c.describe_zones()
            assert emu.stats()["requests"] - before == (0 if kind == "request" else 1)
            # The client is still usable, the hook still called.
            with pytest.raises(Boom):
                await c.call("DescribeZones")

    asyncio.run(main())


def test_no_hooks_no_hook_object(emu):
    assert tccvm.Client(**kw(emu))._hooks is None
    assert tccvm.Client(**kw(emu), event_hooks={})._hooks is None
