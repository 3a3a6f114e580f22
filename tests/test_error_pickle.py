"""Pickling a tccvm exception (multiprocessing, concurrent.futures) keeps every public attribute:
the constructor's (``code``, ``message``, ``request_id``, ``action``, ``status``, ``kind``,
``path`` ...) and those set after (``client_token``, a waiter's ``last_state``, notes), and
never a secret. Errors come from real calls against the emulator, sync and async."""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import sys

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(120)

REGION, ZONE, IMAGE = "ap-guangzhou", "ap-guangzhou-2", "img-pmqg1cw7"
BAD_PLACEMENT = {"Placement": {"Zone": "ap-beijing-1"}, "ImageId": IMAGE}

#: What an exception shows of itself, compared before and after pickling.
ATTRS = (
    "args",
    "code",
    "message",
    "request_id",
    "action",
    "status",
    "kind",
    "attempts",
    "path",
    "client_token",
    "last_response",
    "last_state",
    "waiter",
    "reason",
    "polls",
    "__notes__",
)


@pytest.fixture(scope="module")
def emu():
    with Emulator(transition_seconds=0.0) as e:
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


def call(emu, asynchronous, method, **params):
    """The exception a real call raises (sync or async client), with its traceback dropped."""
    try:
        if asynchronous:

            async def main():
                async with tccvm.AsyncClient(**kw(emu, max_attempts=1)) as ac:
                    return await getattr(ac, method)(**params)

            asyncio.run(asyncio.wait_for(main(), 30))
        else:
            with tccvm.Client(**kw(emu, max_attempts=1)) as c:
                getattr(c, method)(**params)
    except tccvm.TccvmError as e:
        return e.with_traceback(None)
    raise AssertionError(f"{method} did not fail")


def shown(e: BaseException) -> dict:
    return {a: getattr(e, a) for a in ATTRS if hasattr(e, a)}


def assert_round_trips(e: BaseException, secret: str) -> None:
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        blob = pickle.dumps(e, protocol=proto)
        assert secret.encode() not in blob
        back = pickle.loads(blob)
        assert type(back) is type(e)
        assert shown(back) == shown(e), proto
        assert (str(back), repr(back)) == (str(e), repr(e))


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_service_error_keeps_its_generated_client_token(emu, asynchronous):
    e = call(emu, asynchronous, "run_instances", **BAD_PLACEMENT)
    assert isinstance(e, tccvm.TencentCloudError)
    assert e.code == "InvalidZone.MismatchRegion" and e.request_id
    assert e.client_token and len(e.client_token) == 36
    assert_round_trips(e, emu.secret_key)
    assert pickle.loads(pickle.dumps(e)).client_token == e.client_token


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_transport_error_keeps_the_callers_client_token(emu, asynchronous):
    emu.inject("drop_after", count=1, actions="RunInstances")
    e = call(
        emu,
        asynchronous,
        "run_instances",
        ClientToken="my-token-1",
        Placement={"Zone": ZONE},
        ImageId=IMAGE,
    )
    assert isinstance(e, tccvm.TransportError)
    assert e.client_token == "my-token-1" and e.attempts == 1 and e.kind
    assert_round_trips(e, emu.secret_key)
    assert pickle.loads(pickle.dumps(e)).client_token == "my-token-1"


def test_validation_error_and_notes(emu):
    e = call(emu, False, "describe_instances", Filterz=[])
    assert isinstance(e, tccvm.ParamValidationError) and e.path == "Filterz"
    if sys.version_info >= (3, 11):
        e.add_note("while listing the fleet")
    e.client_token = "set-by-the-caller"
    assert_round_trips(e, emu.secret_key)


def test_waiter_error_keeps_its_state(emu):
    with tccvm.Client(**kw(emu)) as c:
        ids = c.run_instances(Placement={"Zone": ZONE}, ImageId=IMAGE)["InstanceIdSet"]
        with pytest.raises(tccvm.WaiterError) as ei:
            c.wait("instance_stopped", timeout=0.05, interval=0.01, InstanceIds=ids)
    e = ei.value.with_traceback(None)
    assert e.last_state == "RUNNING" and e.reason == "timeout" and e.polls >= 1
    assert_round_trips(e, emu.secret_key)


def failing_run(options: dict, token: str | None) -> None:
    """In a worker process: a RunInstances the service refuses (its error goes back pickled)."""
    extra = {"ClientToken": token} if token else {}
    with tccvm.Client(**options) as c:
        c.run_instances(**BAD_PLACEMENT, **extra)


@pytest.mark.parametrize("token", [None, "tok-from-the-parent"])
def test_through_a_multiprocessing_pool(emu, token):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        res = pool.apply_async(failing_run, (kw(emu, max_attempts=1), token))
        with pytest.raises(tccvm.TencentCloudError) as ei:
            res.get(timeout=60)
    e = ei.value
    assert e.code == "InvalidZone.MismatchRegion" and e.action == "RunInstances"
    assert e.request_id
    if token:
        assert e.client_token == token
    else:
        assert e.client_token and len(e.client_token) == 36
