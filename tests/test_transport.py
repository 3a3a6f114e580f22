"""Transport: errors, answers that are not the API's JSON, network failures (never a hang),
retries (policy, idempotency, ClientToken, no sleep after the last attempt), clock skew, the
GIL, asyncio concurrency, fork, proxies, TLS, panics at the boundary and secrets."""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import pickle
import threading
import time

import pytest
import tccvm
from conftest import TEST_KEY, closed_port
from tccvm import _core

pytestmark = pytest.mark.timeout(60)


# -- Response.Error --------------------------------------------------------------------------


def test_api_error_attributes(recording_server, client_factory):
    recording_server.push_error(
        "InvalidInstanceId.NotFound", "no such instance", "rid-7"
    )
    c = client_factory()
    with pytest.raises(tccvm.TencentCloudError) as ei:
        c.call("DescribeInstances", {"InstanceIds": ["ins-x"]})
    e = ei.value
    assert (e.code, e.message, e.request_id, e.action) == (
        "InvalidInstanceId.NotFound",
        "no such instance",
        "rid-7",
        "DescribeInstances",
    )
    s = str(e)
    assert (
        "InvalidInstanceId.NotFound" in s and "no such instance" in s and "rid-7" in s
    )
    assert isinstance(e, tccvm.TccvmError)
    assert len(recording_server.requests) == 1  # *.NotFound is never retried
    e2 = pickle.loads(pickle.dumps(e))
    assert (e2.code, e2.request_id) == (e.code, e.request_id)


@pytest.mark.parametrize(
    "code",
    [
        "AuthFailure.SignatureFailure",
        "AuthFailure",
        "InvalidParameter",
        "InvalidParameterValue.Range",
        "MissingParameter",
        "UnknownParameter",
        "ResourceNotFound",
    ],
)
def test_never_retried(recording_server, client_factory, code):
    for _ in range(3):
        recording_server.push_error(code)
    with pytest.raises(tccvm.TencentCloudError) as ei:
        client_factory().call("DescribeInstances")
    assert ei.value.code == code
    assert len(recording_server.requests) == 1


# -- answers that are not the API's JSON ----------------------------------------------------


@pytest.mark.parametrize(
    "status,body",
    [
        (502, b"<html><body>502 Bad Gateway</body></html>"),
        (200, b""),
        (200, b'{"Response": {"RequestId": "r", "TotalCount": '),
        (200, b'{"NotResponse": {}}'),
        (200, b"[1, 2]"),
        (404, b"not found"),
    ],
)
def test_not_api_answers(recording_server, client_factory, status, body):
    recording_server.push(
        status=status, body=body, headers={"Content-Type": "text/html"}
    )
    c = client_factory(max_attempts=1)
    with pytest.raises(tccvm.TransportError) as ei:
        c.call("DescribeInstances")
    e = ei.value
    assert e.status == status
    assert e.kind == "not_api"
    assert e.attempts == 1
    assert str(status) in str(e)


def test_not_api_answer_retried_for_idempotent_only(recording_server, client_factory):
    srv = recording_server
    for _ in range(3):
        srv.push(status=502, body=b"<html>bad gateway</html>")
    with pytest.raises(tccvm.TransportError) as ei:
        client_factory().call("DescribeInstances")
    assert ei.value.attempts == 3 and ei.value.status == 502
    assert len(srv.requests) == 3
    srv.clear()
    srv.push(status=502, body=b"<html>bad gateway</html>")
    with pytest.raises(tccvm.TransportError):
        client_factory().call("StartInstances", {"InstanceIds": ["ins-1"]})
    assert len(srv.requests) == 1  # may have reached the service, no ClientToken


# -- network failures -----------------------------------------------------------------------


def test_connection_refused(client_factory):
    c = client_factory(endpoint=f"http://127.0.0.1:{closed_port()}", max_attempts=3)
    t = time.monotonic()
    with pytest.raises(tccvm.TransportError) as ei:
        c.call("StartInstances", {"InstanceIds": ["ins-1"]})
    assert ei.value.kind == "connect"
    assert ei.value.status is None
    assert ei.value.attempts == 3  # never reached the server: always safe to retry
    assert time.monotonic() - t < 5


def test_timeout(recording_server, client_factory):
    recording_server.push(delay=3.0, body=b"{}")
    c = client_factory(timeout=0.5, max_attempts=1)
    t = time.monotonic()
    with pytest.raises(tccvm.TransportError) as ei:
        c.call("DescribeInstances")
    assert ei.value.kind == "timeout"
    assert time.monotonic() - t < 2.5


def test_timeout_not_retried_without_idempotency(recording_server, client_factory):
    for _ in range(3):
        recording_server.push(delay=1.5, body=b"{}")
    c = client_factory(timeout=0.4)
    with pytest.raises(tccvm.TransportError) as ei:
        c.call("StopInstances", {"InstanceIds": ["ins-1"]})
    assert ei.value.kind == "timeout" and ei.value.attempts == 1
    assert len(recording_server.requests) == 1


def test_dropped_connection(recording_server, client_factory):
    recording_server.push(drop=True)
    c = client_factory(max_attempts=1)
    with pytest.raises(tccvm.TransportError) as ei:
        c.call("DescribeInstances")
    assert ei.value.kind in ("io", "connect")


def test_tls_to_a_plain_http_server(recording_server, client_factory):
    c = client_factory(endpoint=f"https://{recording_server.host}", max_attempts=1)
    with pytest.raises(tccvm.TransportError):
        c.call("DescribeInstances")


# -- retries ---------------------------------------------------------------------------------


def test_throttling_retried_then_success(recording_server, client_factory):
    srv = recording_server
    srv.push_error("RequestLimitExceeded")
    srv.push_error("RequestLimitExceeded.UinLimitExceeded")
    out = client_factory(sign_method="HmacSHA256").call(
        "StartInstances", {"InstanceIds": ["a"]}
    )
    assert out == {"RequestId": "req-3"}
    assert len(srv.requests) == 3
    # Every attempt is signed afresh: a new Nonce and a new Signature.
    forms = [dict(r.form_pairs) for r in srv.requests]
    assert len({f["Nonce"] for f in forms}) == 3
    assert len({f["Signature"] for f in forms}) == 3


def test_internal_error_retried_only_when_idempotent(recording_server, client_factory):
    srv = recording_server
    srv.push_error("InternalError")
    assert client_factory().call("DescribeImages")["RequestId"] == "req-2"
    srv.clear()
    srv.push_error("InternalError")
    with pytest.raises(tccvm.TencentCloudError):
        client_factory().call("StartInstances", {"InstanceIds": ["a"]})
    assert len(srv.requests) == 1


def test_client_token_generated_and_kept_across_retries(
    recording_server, client_factory
):
    srv = recording_server
    srv.push(drop=True)
    srv.push(status=503, body=b"busy")
    srv.push_json({"Response": {"InstanceIdSet": ["ins-1"], "RequestId": "r"}})
    out = client_factory().call("RunInstances", {"ImageId": "img-1"})
    assert out["InstanceIdSet"] == ["ins-1"]
    assert len(srv.requests) == 3
    tokens = {r.json()["ClientToken"] for r in srv.requests}
    assert len(tokens) == 1 and len(tokens.pop()) == 36


def test_user_client_token_kept(recording_server, client_factory):
    recording_server.push_error("InternalError")
    client_factory().call("RunInstances", {"ImageId": "img-1", "ClientToken": "mine"})
    assert [r.json()["ClientToken"] for r in recording_server.requests] == [
        "mine",
        "mine",
    ]


def test_max_attempts_one_means_no_retry(recording_server, client_factory):
    recording_server.push_error("RequestLimitExceeded")
    with pytest.raises(tccvm.TencentCloudError):
        client_factory(max_attempts=1).call("DescribeInstances")
    assert len(recording_server.requests) == 1


def test_no_sleep_after_the_last_attempt(recording_server, client_factory):
    for _ in range(2):
        recording_server.push_error("RequestLimitExceeded")
    slow = {"backoff_base": 0.5, "throttle_base": 0.5, "backoff_cap": 0.5}
    c = client_factory(max_attempts=2, core_options=slow)
    t = time.monotonic()
    with pytest.raises(tccvm.TencentCloudError):
        c.call("DescribeInstances")
    # One backoff (at most 0.5 s) between the two attempts, none after the second.
    assert time.monotonic() - t < 0.5 + 0.4
    assert len(recording_server.requests) == 2


def test_retry_budget_stops_hammering(client_factory):
    c = client_factory(
        endpoint=f"http://127.0.0.1:{closed_port()}",
        max_attempts=10,
        core_options={"backoff_base": 0.0, "retry_budget": 10},
    )
    with pytest.raises(tccvm.TransportError) as ei:
        c.call("DescribeInstances")
    assert ei.value.attempts == 3  # two retries of cost 5 exhaust a budget of 10
    with pytest.raises(tccvm.TransportError) as ei:
        c.call("DescribeInstances")
    assert ei.value.attempts == 1


def test_clock_skew_corrected_once(recording_server, client_factory):
    srv = recording_server
    ahead = time.time() + 3600
    date = email.utils.formatdate(ahead, usegmt=True)
    srv.push_error("AuthFailure.SignatureExpire", headers={"Date": date})
    c = client_factory(max_attempts=1)
    assert c.call("DescribeInstances")["RequestId"] == "req-2"
    ts = [int(r.headers["x-tc-timestamp"]) for r in srv.requests]
    assert abs(ts[1] - ts[0] - 3600) <= 2
    assert abs(c._core.clock_offset - 3600) <= 2
    # Only once per call: a second SignatureExpire is an error.
    srv.clear()
    for _ in range(3):
        srv.push_error("AuthFailure.SignatureExpire", headers={"Date": date})
    with pytest.raises(tccvm.TencentCloudError) as ei:
        c.call("DescribeInstances")
    assert ei.value.code == "AuthFailure.SignatureExpire"
    assert len(srv.requests) == 2


# -- GIL, asyncio, threads, fork ------------------------------------------------------------


def test_gil_released_during_network_wait(recording_server, client_factory):
    recording_server.push_json({"Response": {"RequestId": "slow"}}, delay=1.0)
    c = client_factory()
    ticks = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    try:
        c.call("DescribeInstances")
    finally:
        stop.set()
        t.join()
    assert ticks > 200


def test_500_concurrent_async_calls(recording_server, client_factory):
    recording_server.handler = lambda rec: __import__("conftest").Scripted(
        body=json.dumps({"Response": {"RequestId": "x"}}).encode(),
        headers={"Content-Type": "application/json"},
        delay=0.5,
    )
    # All 500 in flight at once (the default max_connections, 100, would queue them in 5 waves).
    c = client_factory(cls=tccvm.AsyncClient, timeout=20, max_connections=500)

    async def main() -> float:
        t = time.monotonic()
        out = await asyncio.gather(*[c.call("DescribeZones") for _ in range(500)])
        assert all(o == {"RequestId": "x"} for o in out)
        return time.monotonic() - t

    elapsed = asyncio.run(main())
    assert len(recording_server.requests) == 500
    # Each answer takes 0.5 s; sequentially that would be 250 s.
    assert elapsed < 5, elapsed


def test_async_errors_and_event_loop_not_blocked(recording_server, client_factory):
    recording_server.push_json({"Response": {"RequestId": "slow"}}, delay=0.5)
    recording_server.push_error("InvalidParameter", "bad")
    c = client_factory(cls=tccvm.AsyncClient)

    async def main() -> int:
        ticks = 0

        async def spin() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.ensure_future(spin())
        await c.call("DescribeInstances")
        task.cancel()
        with pytest.raises(tccvm.TencentCloudError):
            await c.call("DescribeInstances")
        return ticks

    assert asyncio.run(main()) > 30


def test_sync_call_inside_running_event_loop(recording_server, client_factory):
    c = client_factory()

    async def main() -> dict:
        return c.call("DescribeRegions")  # like a Jupyter cell

    assert asyncio.run(main()) == {"RequestId": "req-1"}


def test_shared_by_threads(recording_server, client_factory):
    c = client_factory()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                c.call("DescribeZones")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(recording_server.requests) == 160


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_usable_after_fork(recording_server, client_factory):
    c = client_factory()
    c.call("DescribeRegions")  # the parent's runtime and pool exist
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            code = 0 if c.call("DescribeZones") else 3
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
    assert c.call("DescribeRegions")  # the parent still works
    assert len(recording_server.requests) == 3


# -- configuration ---------------------------------------------------------------------------


def test_endpoints_and_regions(monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_REGION", "ap-shanghai-fsi")
    c = tccvm.Client(secret_id="id", secret_key="k")
    assert c.region == "ap-shanghai-fsi"
    assert c.endpoint == "https://cvm.ap-shanghai-fsi.tencentcloudapi.com/"
    c = tccvm.Client(secret_id="id", secret_key="k", region="ap-guangzhou")
    assert c.endpoint == "https://cvm.tencentcloudapi.com/"
    c = tccvm.Client(secret_id="id", secret_key="k", region="ap-shenzhen-fsi")
    assert c.endpoint == "https://cvm.ap-shenzhen-fsi.tencentcloudapi.com/"
    c = tccvm.Client(secret_id="id", secret_key="k", endpoint="cvm.example.com")
    assert c.endpoint == "https://cvm.example.com/"
    for bad in (
        {"sign_method": "MD5"},
        {"http_method": "PUT"},
        {"endpoint": "ftp://x"},
        {"max_attempts": 0},
        {"timeout": -1},
        {"verify": "/nonexistent/ca.pem"},
    ):
        with pytest.raises(ValueError):
            tccvm.Client(secret_id="id", secret_key="k", **bad)


def test_proxy_argument(recording_server, client_factory):
    c = client_factory(
        endpoint="http://cvm.example.invalid", proxy=recording_server.endpoint
    )
    c.call("DescribeRegions")
    r = recording_server.requests[0]
    assert r.path.startswith("http://cvm.example.invalid/")
    assert r.headers["host"] == "cvm.example.invalid"


def test_context_managers_and_close(recording_server, client_factory):
    with client_factory() as c:
        c.call("DescribeRegions")
    c.call("DescribeRegions")  # a closed client reopens its pool

    async def main() -> None:
        async with client_factory(cls=tccvm.AsyncClient) as ac:
            await ac.call("DescribeRegions")

    asyncio.run(main())
    assert len(recording_server.requests) == 3


def test_params_must_be_a_dict(client_factory):
    c = client_factory()
    with pytest.raises(tccvm.ParamValidationError):
        c.call("DescribeInstances", [1, 2])
    with pytest.raises(tccvm.ParamValidationError):
        c.call("Describe Instances")
    with pytest.raises(tccvm.ParamValidationError):
        c.call("DescribeInstances", {"Bad": object()})


@pytest.mark.parametrize("in_runtime", [False, True])
def test_panics_become_tccvm_errors(in_runtime):
    with pytest.raises(tccvm.TccvmError) as ei:
        _core._check_panic_boundary(in_runtime)
    assert "deliberate test panic" in str(ei.value)


# -- secrets ---------------------------------------------------------------------------------


def test_no_secret_in_repr_errors_or_pickle(
    recording_server, client_factory, monkeypatch
):
    c = client_factory(
        token="TOKEN-SECRET-xyz", sign_method="HmacSHA1", http_method="GET"
    )
    texts = [repr(c), repr(c._core), str(c.__getstate__())]
    recording_server.push_error("AuthFailure.SignatureFailure", "bad signature")
    recording_server.push(status=502, body=b"<html/>")
    for _ in range(2):
        try:
            c.call("StartInstances", {"InstanceIds": ["i"]})
        except tccvm.TccvmError as e:
            texts += [str(e), repr(e)]
    c2 = client_factory(
        endpoint=f"http://127.0.0.1:{closed_port()}",
        http_method="GET",
        sign_method="HmacSHA1",
        max_attempts=1,
    )
    try:
        c2.call("DescribeInstances")
    except tccvm.TransportError as e:
        texts += [str(e), repr(e)]
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "env-id")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "env-key-SECRET")
    blob = pickle.dumps(
        tccvm.Client(secret_id="id", secret_key=TEST_KEY, region="ap-guangzhou")
    )
    assert TEST_KEY.encode() not in blob
    texts.append(repr(blob))
    joined = "\n".join(texts)
    for secret in (TEST_KEY, "TOKEN-SECRET-xyz", "Signature="):
        assert secret not in joined
    sent = recording_server.requests[0]
    assert dict(sent.query_pairs)["Signature"] not in joined
    restored = pickle.loads(blob)  # credentials resolved again, from the environment
    assert restored._core.secret_id == "env-id"


def test_unsendable_token_is_a_clear_error(client_factory):
    # Refused at construction (it could never be sent), naming the argument, not its value.
    with pytest.raises(ValueError) as ei:
        client_factory(token="bad\ntoken", max_attempts=1)
    assert "token" in str(ei.value)
    assert "bad" not in str(ei.value)


# -- sync and async judge answers alike ------------------------------------------------------
# Sync calls build the answer while checking it (one pass, on the calling thread); async calls
# check it on the runtime, then build it. Both must come to the same outcome on every answer,
# including the odd ones (a key twice, a RequestId that is not a string, a number CPython
# refuses to build).

ODD_ANSWERS = [
    b'{"Response": {"RequestId": "a", "N": 1}}',
    b'{"Response": {"RequestId": "a"}, "Response": {"RequestId": "b"}}',
    b'{"Response": {"RequestId": "a", "RequestId": "b"}}',
    b'{"Response": {"RequestId": "a", "Error": null, "Error": null}}',
    b'{"Response": {"N": 1, "N": 2, "RequestId": "r"}}',
    b'{"Response": {"RequestId": 5}}',
    b'{"Response": {"RequestId": null, "N": [1, {"a": 2}]}}',
    b'{"Response": {}}',
    b'{"Response": null}',
    b'{"Response": [1]}',
    b'{"Response": {"Error": null, "RequestId": "r", "X": 1}}',
    b'{"Response": {"Error": {"Code": "InvalidParameter", "Message": "m"}, "RequestId": "r"}}',
    b'{"Response": {"Error": {"Code": null}, "RequestId": "r"}}',
    b'{"Response": {"Error": 3, "RequestId": "r"}}',
    b'{"Response": {"RequestId": "\\ud800x"}}',
    b'{"Response": {"RequestId": "r", "Big": 1' + b"0" * 5000 + b"}}",
    b'{"Response": {"RequestId": "r"}, "Other": [1, 2, {"k": null}]}',
    b'{"Response": {"RequestId": "r"}} x',
    b'{"Response": {"RequestId": "r", "S": "\x01"}}',
    b"\xef\xbb\xbf" + b'{"Response": {"RequestId": "r"}}',
]


def _outcome(fn):
    try:
        return ("ok", fn())
    except tccvm.TransportError as e:
        return ("transport", e.kind, e.status, e.attempts)
    except tccvm.TencentCloudError as e:
        return ("api", e.code, e.message, e.request_id)


@pytest.mark.parametrize("body", ODD_ANSWERS, ids=range(len(ODD_ANSWERS)))
def test_sync_and_async_judge_answers_alike(recording_server, client_factory, body):
    sync = client_factory(max_attempts=1)
    asy = client_factory(tccvm.AsyncClient, max_attempts=1)
    recording_server.push(status=200, body=body)
    got_sync = _outcome(lambda: sync.call("DescribeInstances"))
    recording_server.push(status=200, body=body)
    got_async = _outcome(lambda: asyncio.run(asy.call("DescribeInstances")))
    assert got_sync == got_async
    if body.startswith(b'{"Response": {"RequestId": "a", "N": 1}}'):
        assert got_sync == ("ok", {"RequestId": "a", "N": 1})
    if b'"RequestId": "a"}, "Response"' in body or b'"RequestId": 5' in body:
        assert got_sync[:2] == ("transport", "not_api")
    if b'"N": 1, "N": 2' in body:
        assert got_sync == ("ok", {"N": 2, "RequestId": "r"})
    if b"InvalidParameter" in body:
        assert got_sync == ("api", "InvalidParameter", "m", "r")


@pytest.mark.parametrize(
    "status,retried",
    [(404, False), (403, False), (407, False), (408, True), (200, True)],
)
def test_not_api_4xx_pages_are_not_retried(
    recording_server, client_factory, status, retried
):
    """A 4xx page that is not the API's JSON comes from something in the way (a proxy, a wrong
    path) and would come again: one attempt, even for an idempotent call. 408 and broken 2xx
    answers are retried."""
    for _ in range(3):
        recording_server.push(status=status, body=b"<html>no</html>")
    with pytest.raises(tccvm.TransportError) as ei:
        client_factory(max_attempts=3).call("DescribeInstances")
    assert ei.value.kind == "not_api" and ei.value.status == status
    assert len(recording_server.requests) == (3 if retried else 1)
    assert ei.value.attempts == (3 if retried else 1)
