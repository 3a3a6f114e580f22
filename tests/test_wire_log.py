"""The wire log, logger ``tccvm.wire`` at DEBUG: each attempt's method, URL, headers and body, each
answer's status, headers and body, cut at ``WIRE_BODY_LIMIT``, with the secrets redacted; off
(and free) unless that logger itself is set to DEBUG. Sync and async, every signing method,
against the emulator."""

from __future__ import annotations

import asyncio
import logging

import pytest
import tccvm
from tccvm import _logging
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

REGION = "ap-guangzhou"


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


@pytest.fixture
def wire(caplog):
    caplog.set_level(logging.DEBUG, logger="tccvm.wire")
    yield lambda: [r for r in caplog.records if r.name == "tccvm.wire"]
    logging.getLogger("tccvm.wire").setLevel(logging.NOTSET)


def kw(emu, **extra):
    return {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": emu.endpoint,
        **extra,
    }


def split(records):
    """(request records, answer records): they alternate, request first."""
    assert len(records) % 2 == 0
    return records[0::2], records[1::2]


def check_secrets(text, emu, token=None):
    assert emu.secret_key not in text
    assert emu.secret_id not in text
    if token:
        assert token not in text


@pytest.mark.parametrize(
    ("sign", "http"),
    [
        ("TC3-HMAC-SHA256", "POST"),
        ("TC3-HMAC-SHA256", "GET"),
        ("HmacSHA256", "POST"),
        ("HmacSHA1", "GET"),
    ],
)
def test_each_attempt_and_answer_is_logged_redacted(emu, wire, sign, http):
    temp = emu.issue_credentials(ttl=3600)
    c = tccvm.Client(
        secret_id=temp["secret_id"],
        secret_key=temp["secret_key"],
        token=temp["token"],
        region=REGION,
        endpoint=emu.endpoint,
        sign_method=sign,
        http_method=http,
    )
    r = c.describe_zones()
    reqs, answers = split(wire())
    assert len(reqs) == 1
    req, ans = reqs[0], answers[0]
    assert req.levelno == logging.DEBUG and req.action == "DescribeZones"
    w = req.wire
    assert w["method"] == http and w["url"].startswith(emu.endpoint)
    headers = dict(w["headers"])
    assert headers["host"] == emu.endpoint.split("//")[1]
    text = req.getMessage()
    assert text.startswith(f"DescribeZones attempt 1/3 -> {http} {emu.endpoint}")
    if sign.startswith("TC3"):
        assert headers["x-tc-action"] == "DescribeZones"
        assert headers["x-tc-token"] == "<redacted>"
        auth = headers["authorization"]
        assert auth.startswith("TC3-HMAC-SHA256 Credential=AKID****/")
        assert "SignedHeaders=content-type;host, Signature=<redacted>" in auth
    else:
        params = w["body"] if http == "POST" else w["url"].split("?", 1)[1]
        assert "Action=DescribeZones" in params
        assert "Signature=<redacted>" in params and "Token=<redacted>" in params
        assert "SecretId=AKID****" in params
    assert ans.wire["body"].startswith('{"Response"')
    assert r["RequestId"] in ans.wire["body"]
    assert ans.getMessage().startswith("DescribeZones attempt 1/3 <- 200\n")
    assert ("content-type", "application/json") in [
        (k.lower(), v.split(";")[0]) for k, v in ans.wire["headers"]
    ]
    check_secrets(repr([vars(x) for x in wire()]), emu, temp["token"])
    assert temp["secret_key"] not in repr([vars(x) for x in wire()])
    assert temp["secret_id"] not in repr([vars(x) for x in wire()])


def test_passwords_in_parameters_are_redacted(emu, wire):
    for sign in ("TC3-HMAC-SHA256", "HmacSHA256"):
        c = tccvm.Client(**kw(emu, sign_method=sign))
        with pytest.raises(tccvm.TencentCloudError):
            c.call(
                "ResetInstancesPassword",
                {"InstanceIds": ["ins-nope0000"], "Password": "Hunter2-Secret!"},
            )
    text = "\n".join(r.getMessage() for r in wire())
    assert "Hunter2" not in text
    assert '"Password":"<redacted>"' in text and "Password=<redacted>" in text


def test_bodies_are_cut_at_the_documented_size(emu, wire):
    c = tccvm.Client(**kw(emu))
    r = c.describe_instance_type_configs()
    assert len(repr(r)) > _logging.WIRE_BODY_LIMIT
    _, answers = split(wire())
    body = answers[0].wire["body"]
    assert body.endswith(" more bytes)")
    assert len(body.encode()) <= _logging.WIRE_BODY_LIMIT + 30


def test_retries_log_every_attempt(emu, wire):
    emu.inject("http_503", count=1)
    try:
        tccvm.Client(**kw(emu)).describe_zones()
    finally:
        emu.clear_faults()
    reqs, answers = split(wire())
    assert [r.attempt for r in reqs] == [1, 2]
    assert answers[0].getMessage().startswith("DescribeZones attempt 1/3 <- 503")


def test_off_unless_the_wire_logger_itself_is_at_debug(emu, caplog):
    caplog.set_level(logging.DEBUG, logger="tccvm")
    c = tccvm.Client(**kw(emu))
    c.describe_zones()
    assert not [r for r in caplog.records if r.name == "tccvm.wire"]
    assert [r for r in caplog.records if r.name == "tccvm"]
    assert not _logging.call_log_level() & _logging.LOG_WIRE
    logging.getLogger("tccvm.wire").setLevel(logging.INFO)
    try:
        c.describe_zones()
        assert not _logging.call_log_level() & _logging.LOG_WIRE
        assert not [r for r in caplog.records if r.name == "tccvm.wire"]
    finally:
        logging.getLogger("tccvm.wire").setLevel(logging.NOTSET)


def test_async_calls_are_logged_too(emu, wire):
    async def main():
        async with tccvm.AsyncClient(**kw(emu)) as c:
            return await asyncio.gather(c.describe_zones(), c.describe_regions())

    zones, regions = asyncio.run(main())
    reqs = [r for r in wire() if hasattr(r, "wire") and "method" in r.wire]
    answers = [r for r in wire() if "method" not in r.wire]
    assert sorted(r.action for r in reqs) == ["DescribeRegions", "DescribeZones"]
    bodies = " ".join(a.wire["body"] for a in answers)
    assert zones["RequestId"] in bodies and regions["RequestId"] in bodies
    check_secrets(repr([vars(x) for x in wire()]), emu)
