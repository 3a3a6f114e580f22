"""Logging (logger "tccvm"): one DEBUG record per attempt with action, region, endpoint, attempt,
HTTP status, latency and request id; one WARNING per retry; nothing when disabled; never a
secret; silent in an unconfigured script. Against the emulator with injected faults."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import textwrap

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

REGION = "ap-guangzhou"


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


@pytest.fixture(autouse=True)
def _reset(emu):
    emu.clear_faults()
    yield
    emu.clear_faults()


def client(emu, **kw):
    kw.setdefault("secret_id", emu.secret_id)
    kw.setdefault("secret_key", emu.secret_key)
    return tccvm.Client(region=REGION, endpoint=emu.endpoint, **kw)


def records(caplog, level=None):
    return [
        r
        for r in caplog.records
        if r.name == "tccvm" and (level is None or r.levelno == level)
    ]


def test_one_debug_record_per_attempt(emu, caplog):
    caplog.set_level(logging.DEBUG, logger="tccvm")
    with client(emu) as c:
        caplog.clear()
        r = c.describe_zones()
    recs = records(caplog)
    assert len(recs) == 1
    rec = recs[0]
    assert rec.levelno == logging.DEBUG
    assert rec.action == "DescribeZones" and rec.region == REGION
    assert rec.endpoint.startswith(emu.endpoint)
    assert rec.attempt == 1 and rec.max_attempts == 3 and rec.status == 200
    assert rec.request_id == r["RequestId"] and rec.outcome == "ok"
    assert 0 < rec.latency_ms < 5000 and rec.retry_in is None
    msg = rec.getMessage()
    for part in ("DescribeZones", "attempt 1/3", REGION, "status=200", r["RequestId"]):
        assert part in msg, msg


def test_retries_warn_and_every_attempt_is_logged(emu, caplog):
    caplog.set_level(logging.DEBUG, logger="tccvm")
    emu.inject("internal_error", count=2, actions="DescribeZones")
    with client(emu) as c:
        caplog.clear()
        c.describe_zones()
    debug = records(caplog, logging.DEBUG)
    warn = records(caplog, logging.WARNING)
    assert [d.attempt for d in debug] == [1, 2, 3]
    assert [d.outcome for d in debug] == ["InternalError", "InternalError", "ok"]
    assert [w.attempt for w in warn] == [1, 2]
    assert all(w.retry_in is not None and w.retry_in >= 0 for w in warn)
    assert all(d.request_id for d in debug)  # the error answers carry one too
    assert "retrying in" in warn[0].getMessage()
    assert "InternalError" in warn[0].getMessage()


def test_only_warnings_when_debug_is_off(emu, caplog):
    caplog.set_level(logging.WARNING, logger="tccvm")
    emu.inject("http_503", count=1, actions="DescribeRegions")
    with client(emu) as c:
        caplog.clear()
        c.describe_regions()
        c.describe_zones()
    recs = records(caplog)
    assert [r.levelno for r in recs] == [logging.WARNING]
    assert recs[0].status == 503 and recs[0].outcome == "not_api"


def test_nothing_when_disabled(emu, caplog):
    caplog.set_level(logging.ERROR, logger="tccvm")
    emu.inject("internal_error", count=1, actions="DescribeZones")
    with client(emu) as c:
        caplog.clear()
        c.describe_zones()
    assert records(caplog) == []


def test_transport_failures_are_logged(caplog):
    caplog.set_level(logging.DEBUG, logger="tccvm")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    c = tccvm.Client(
        secret_id="AKIDx",
        secret_key="never-shown-key",
        region=REGION,
        endpoint=f"http://127.0.0.1:{port}",
        max_attempts=2,
        connect_timeout=1,
    )
    caplog.clear()
    with pytest.raises(tccvm.TransportError):
        c.describe_zones()
    debug = records(caplog, logging.DEBUG)
    assert [d.outcome for d in debug] == ["connect", "connect"]
    assert all(d.status is None for d in debug)
    assert len(records(caplog, logging.WARNING)) == 1  # no retry after the last attempt


@pytest.mark.parametrize(
    "sign,http", [("TC3-HMAC-SHA256", "POST"), ("HmacSHA256", "GET")]
)
def test_never_a_secret(emu, caplog, sign, http):
    creds = emu.issue_credentials(ttl=600)
    caplog.set_level(logging.DEBUG, logger="tccvm")
    emu.inject("internal_error", count=1, actions="DescribeZones")
    with client(
        emu,
        secret_id=creds["secret_id"],
        secret_key=creds["secret_key"],
        token=creds["token"],
        sign_method=sign,
        http_method=http,
    ) as c:
        caplog.clear()
        c.describe_zones()
    recs = records(caplog)
    assert len(recs) >= 3
    for r in recs:
        text = r.getMessage() + repr(vars(r))
        assert creds["secret_key"] not in text and creds["token"] not in text
        assert "Signature" not in text and "Authorization" not in text


def test_async_client_logs_too(emu, caplog):
    caplog.set_level(logging.DEBUG, logger="tccvm")
    emu.inject("request_limit_exceeded", count=1, actions="DescribeZones")

    async def main():
        async with tccvm.AsyncClient(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region=REGION,
            endpoint=emu.endpoint,
        ) as ac:
            caplog.clear()
            return await ac.describe_zones()

    r = asyncio.run(asyncio.wait_for(main(), 30))
    debug = records(caplog, logging.DEBUG)
    assert [d.outcome for d in debug] == ["RequestLimitExceeded", "ok"]
    assert debug[-1].request_id == r["RequestId"]
    assert len(records(caplog, logging.WARNING)) == 1


def test_unconfigured_script_prints_nothing(emu):
    """No logging configuration: retries are not printed by Python's last-resort handler."""
    emu.inject("internal_error", count=2, actions="DescribeZones")
    code = textwrap.dedent(
        f"""
        import tccvm
        c = tccvm.Client(secret_id={emu.secret_id!r}, secret_key={emu.secret_key!r},
                         region="ap-guangzhou", endpoint={emu.endpoint!r})
        c.describe_zones()
        print("ok")
        """
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "ok" and p.stderr == ""
