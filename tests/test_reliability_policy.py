"""The retry policy, proven against the emulator and a recording server: which errors are never
retried, no sleep after the last attempt, the retry budget, fresh Timestamp/Nonce per attempt,
clock-skew correction."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest
import tccvm
from conftest import closed_port
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-2"
IMAGE = "img-pmqg1cw7"


class Fast(tccvm.Client):
    _core_options: ClassVar[dict] = {
        "backoff_base": 0.001,
        "throttle_base": 0.001,
        "backoff_cap": 0.005,
    }


def knobs(**options: Any) -> type:
    return type("Tuned", (tccvm.Client,), {"_core_options": options})


@pytest.fixture(scope="module")
def emu():
    with Emulator(seed=3, transition_seconds=0.0) as e:
        yield e


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.clear_faults()
    emu.set_clock_offset(0)
    yield
    emu.clear_faults()
    emu.set_clock_offset(0)


def make(emu, cls=Fast, **kw):
    args = {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": emu.endpoint,
        "max_attempts": 5,
        "timeout": 10.0,
    }
    args.update(kw)
    return cls(**args)


def requests_of(emu, action: str) -> int:
    return int(emu.stats()["requests_by_action"].get(action, 0))


# -- never retried -----------------------------------------------------------------------------

NEVER = [
    # (description, client overrides, action, params, expected code family)
    ("AuthFailure", {"secret_key": "k" * 32}, "DescribeZones", {}, "AuthFailure"),
    (
        "AuthFailure",
        {"secret_id": "AKID" + "9" * 32},
        "DescribeZones",
        {},
        "AuthFailure",
    ),
    (
        "UnknownParameter",
        {},
        "DescribeInstances",
        {"NoSuchThing": 1},
        "UnknownParameter",
    ),
    ("MissingParameter", {}, "DescribeInstanceVncUrl", None, "MissingParameter"),
    (
        "InvalidParameter",
        {},
        "DescribeInstances",
        {"Limit": 100000},
        "InvalidParameter",
    ),
    ("NotFound", {}, "StartInstances", {"InstanceIds": ["ins-00000000"]}, None),
]


@pytest.mark.parametrize("sign", ["TC3-HMAC-SHA256", "HmacSHA256"])
@pytest.mark.parametrize(
    "case", NEVER, ids=[f"{c[0]}-{i}" for i, c in enumerate(NEVER)]
)
def test_non_retryable_errors_are_sent_once(emu, case, sign):
    _, overrides, action, params, family = case
    with make(emu, sign_method=sign, **overrides) as c:
        before = requests_of(emu, action)
        with pytest.raises(tccvm.TencentCloudError) as ei:
            c.call(action, params)
        after = requests_of(emu, action)
        stats = c._core.stats()
    code = ei.value.code
    if family:
        assert code.startswith(family), code
    assert not code.startswith(("RequestLimitExceeded", "InternalError")), code
    if case[0] == "NotFound":
        assert code.endswith(".NotFound") or code == "InvalidInstanceId.NotFound", code
    if case[0] == "MissingParameter":
        assert code.startswith(("MissingParameter", "InvalidParameter")), code
    assert after - before == 1, f"{code} was sent {after - before} times"
    assert stats["retries"] == 0 and stats["attempts"] == 1


def test_non_retryable_codes_from_a_scripted_server(client_factory, recording_server):
    """Every family named by the issue, as the real service would answer it."""
    codes = [
        "AuthFailure.SignatureFailure",
        "AuthFailure.UnauthorizedOperation",
        "InvalidParameter",
        "InvalidParameterValue.Range",
        "MissingParameter",
        "UnknownParameter",
        "InvalidInstanceId.NotFound",
        "ResourceNotFound",
        "UnsupportedOperation",
        "LimitExceeded.InstanceQuotaExceeded",
    ]
    c = client_factory(max_attempts=5)
    for code in codes:
        recording_server.clear()
        recording_server.push_error(code)
        with pytest.raises(tccvm.TencentCloudError) as ei:
            c.call("DescribeInstances")
        assert ei.value.code == code
        assert len(recording_server.requests) == 1, code


def test_transient_errors_are_retried(emu):
    for kind in (
        "internal_error",
        "request_limit_exceeded",
        "http_502",
        "http_503",
        "malformed",
        "truncated",
        "drop_before",
        "drop_after",
    ):
        emu.clear_faults()
        emu.inject(kind, count=2, actions="DescribeZones")
        with make(emu, max_attempts=3) as c:
            before = requests_of(emu, "DescribeZones")
            out = c.call("DescribeZones")
            assert out["ZoneSet"], kind
            assert requests_of(emu, "DescribeZones") - before == 3, kind
            assert c._core.stats()["retries"] == 2


def test_connection_refused_is_retried_then_transport_error():
    c = Fast(
        secret_id="id",
        secret_key="key",
        region=REGION,
        endpoint=f"http://127.0.0.1:{closed_port()}",
        max_attempts=4,
    )
    with pytest.raises(tccvm.TransportError) as ei:
        c.call("DescribeZones")
    assert ei.value.kind == "connect"
    assert ei.value.attempts == 4
    assert c._core.stats()["attempts"] == 4


def test_maybe_sent_non_idempotent_is_not_resent(emu):
    """StartInstances has no ClientToken: a dropped connection after the action ran is not
    retried (it could run twice); the error says so."""
    with make(emu) as c:
        iid = c.call("RunInstances", {"Placement": {"Zone": ZONE}, "ImageId": IMAGE})[
            "InstanceIdSet"
        ][0]
        emu.inject("drop_after", count=1, actions="StopInstances")
        before = requests_of(emu, "StopInstances")
        with pytest.raises(tccvm.TransportError) as ei:
            c.call("StopInstances", {"InstanceIds": [iid]})
        assert requests_of(emu, "StopInstances") - before == 1
        assert ei.value.attempts == 1


# -- no sleep after the last attempt -------------------------------------------------------------


@pytest.mark.parametrize("max_attempts", [1, 2])
def test_no_sleep_after_the_last_attempt(emu, max_attempts):
    """Throttling backoff of up to 4 s: a sleep after the last attempt would show."""
    cls = knobs(backoff_base=4.0, throttle_base=4.0, backoff_cap=4.0)
    emu.inject("request_limit_exceeded", rate=1.0, actions="DescribeRegions")
    with make(emu, cls=cls, max_attempts=max_attempts) as c:
        c.call("DescribeZones")  # warm the connection
        took = []
        for _ in range(3):
            s = time.monotonic()
            with pytest.raises(tccvm.TencentCloudError) as ei:
                c.call("DescribeRegions")
            took.append(time.monotonic() - s)
            assert ei.value.code == "RequestLimitExceeded"
        stats = c._core.stats()
    if max_attempts == 1:
        # No retry at all, hence no sleep: each call is one round trip.
        assert max(took) < 0.5, took
        assert stats["retries"] == 0
    else:
        # One sleep in [0, 4] s per call between the attempts, none after: three calls total
        # at most 3 x 4 s; had each also slept after its last attempt, the expected total
        # would be 12 s against 6 s.
        assert stats["retries"] == 3
        assert sum(took) < 11.0, took


def test_no_sleep_when_not_retryable(emu):
    cls = knobs(backoff_base=5.0, throttle_base=5.0, backoff_cap=5.0)
    with make(emu, cls=cls, secret_key="x" * 32) as c:
        s = time.monotonic()
        for _ in range(3):
            with pytest.raises(tccvm.TencentCloudError):
                c.call("DescribeZones")
        assert time.monotonic() - s < 1.0


# -- retry budget --------------------------------------------------------------------------------


def test_retry_budget_stops_hammering_a_dead_endpoint(emu):
    emu.inject("http_503", rate=1.0, actions="DescribeZones")
    calls = 100
    with make(emu, max_attempts=5) as c:  # default budget: 500 tokens, 5 per retry
        before = requests_of(emu, "DescribeZones")
        for _ in range(calls):
            with pytest.raises(tccvm.TransportError) as ei:
                c.call("DescribeZones")
            assert ei.value.status == 503
        sent = requests_of(emu, "DescribeZones") - before
        stats = c._core.stats()
    # Without a budget: 100 x 5 = 500 requests. With it: 100 retries at most, then none.
    assert stats["retries"] == 100, stats
    assert sent == calls + 100, sent
    assert stats["retry_budget"] < 5
    # Once the endpoint heals, successes refill the budget.
    emu.clear_faults()
    with make(emu) as c2:
        c2.call("DescribeZones")


def test_retry_budget_is_per_client(emu):
    emu.inject("http_503", rate=1.0, actions="DescribeZones")
    cls = knobs(
        backoff_base=0.001, throttle_base=0.001, backoff_cap=0.002, retry_budget=10
    )
    with make(emu, cls=cls, max_attempts=5) as c:
        with pytest.raises(tccvm.TransportError) as ei:
            c.call("DescribeZones")
        assert ei.value.attempts == 3  # two retries took the 10 tokens
        with pytest.raises(tccvm.TransportError) as ei:
            c.call("DescribeZones")
        assert ei.value.attempts == 1


# -- fresh Timestamp and Nonce per attempt ---------------------------------------------------------


@pytest.mark.parametrize("sign", ["HmacSHA1", "HmacSHA256"])
def test_fresh_nonce_per_attempt_emulator_replay_protection(emu, sign):
    """drop_after and truncated let the request through authentication (the emulator records
    its Nonce) before failing: a retry reusing the Nonce would be refused as a replay."""
    with make(emu, sign_method=sign, max_attempts=3) as c:
        for kind in ("drop_after", "truncated"):
            emu.clear_faults()
            emu.inject(kind, count=2, actions="DescribeInstances")
            out = c.call("DescribeInstances")
            assert "InstanceSet" in out


def test_fresh_timestamp_and_nonce_per_attempt(client_factory, recording_server):
    srv = recording_server
    srv.push(status=503, body="<html>busy</html>", delay=1.3)
    srv.push(status=502, body="<html>bad</html>")
    c = client_factory(sign_method="HmacSHA256", http_method="GET", max_attempts=3)
    c.call("DescribeZones")
    assert len(srv.requests) == 3
    pairs = [dict(r.query_pairs) for r in srv.requests]
    nonces = [p["Nonce"] for p in pairs]
    stamps = [int(p["Timestamp"]) for p in pairs]
    sigs = [p["Signature"] for p in pairs]
    assert len(set(nonces)) == 3
    assert len(set(sigs)) == 3
    assert stamps[1] >= stamps[0] + 1, stamps  # signed again after the 1.3 s answer
    # TC3: the X-TC-Timestamp header and the Authorization are recomputed as well.
    srv.clear()
    srv.push(status=503, body="<html>busy</html>", delay=1.3)
    c = client_factory(max_attempts=2)
    c.call("DescribeZones")
    ts = [int(r.headers["x-tc-timestamp"]) for r in srv.requests]
    auth = [r.headers["authorization"] for r in srv.requests]
    assert ts[1] >= ts[0] + 1 and auth[0] != auth[1]


# -- clock skew ----------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [-900, 3600])
@pytest.mark.parametrize("sign", ["TC3-HMAC-SHA256", "HmacSHA1"])
def test_clock_skew_recovered_once_from_the_date_header(emu, offset, sign):
    emu.set_clock_offset(offset)
    with make(emu, sign_method=sign, max_attempts=3) as c:
        before = requests_of(emu, "DescribeZones")
        c.call("DescribeZones")
        assert requests_of(emu, "DescribeZones") - before == 2
        assert abs(c._core.clock_offset - offset) <= 2
        for _ in range(5):
            c.call("DescribeZones")
        stats = c._core.stats()
        assert stats["clock_corrections"] == 1
        assert requests_of(emu, "DescribeZones") - before == 7


def test_clock_skew_corrected_only_once(client_factory, recording_server):
    """A server that keeps answering SignatureExpire is not chased forever."""
    srv = recording_server
    for _ in range(10):
        srv.push_error(
            "AuthFailure.SignatureExpire",
            headers={"Date": "Sun, 06 Nov 1994 08:49:37 GMT"},
        )
    c = client_factory(max_attempts=3)
    with pytest.raises(tccvm.TencentCloudError) as ei:
        c.call("DescribeZones")
    assert ei.value.code == "AuthFailure.SignatureExpire"
    assert len(srv.requests) == 2


@pytest.mark.parametrize("client_cls", ["sync", "async"])
def test_failed_run_reports_its_client_token(emu, client_cls):
    """Every attempt dropped after the launch took effect: the error carries the ClientToken
    tccvm generated; retrying with it returns the same instance, launched once."""
    import asyncio

    emu.inject("drop_after", count=3, actions="RunInstances")
    before = emu.stats()["launches"]
    params = {"Placement": {"Zone": ZONE}, "ImageId": IMAGE}
    with make(emu, max_attempts=3) as c:
        if client_cls == "sync":
            with pytest.raises(tccvm.TransportError) as ei:
                c.run_instances(**params)
        else:
            ac = tccvm.AsyncClient(
                secret_id=emu.secret_id,
                secret_key=emu.secret_key,
                region=REGION,
                endpoint=emu.endpoint,
                max_attempts=3,
            )
            with pytest.raises(tccvm.TransportError) as ei:
                asyncio.run(ac.run_instances(**params))
        token = ei.value.client_token
        assert token and len(token) == 36
        assert emu.stats()["launches"] - before == 1  # it did take effect, once
        out = c.run_instances(ClientToken=token, **params)
        assert emu.stats()["launches"] - before == 1
        assert [
            i["InstanceId"] for i in emu.instances(REGION) if i["ClientToken"] == token
        ] == out["InstanceIdSet"]
        # Actions without a ClientToken report none.
        with pytest.raises(tccvm.TencentCloudError) as ei:
            c.start_instances(InstanceIds=["ins-00000000"])
        assert ei.value.client_token is None
