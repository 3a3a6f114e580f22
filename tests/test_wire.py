"""What goes on the wire, for all six sign-method x HTTP-method pairs, checked against an
independent re-implementation of the signing rules (plain hashlib/hmac), and the decoding of
answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import tccvm
from conftest import TEST_ID, TEST_KEY
from tccvm import _core

pytestmark = pytest.mark.timeout(30)

PAIRS = [
    (s, h)
    for s in ("TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1")
    for h in ("POST", "GET")
]

TRICKY = "a b+c&d=e/f%g~中文"
PARAMS = {
    "InstanceIds": ["ins-1", "ins-2"],
    "Filters": [{"Name": "zone", "Values": [TRICKY, "x"]}],
    "Placement": {"Zone": "ap-guangzhou-3", "ProjectId": 0},
    "Limit": 20,
    "Ratio": 1.5,
    "DryRun": True,
    "Other": False,
    "Skip": None,
    "Empty": [],
}
FLAT = {
    "InstanceIds.0": "ins-1",
    "InstanceIds.1": "ins-2",
    "Filters.0.Name": "zone",
    "Filters.0.Values.0": TRICKY,
    "Filters.0.Values.1": "x",
    "Placement.Zone": "ap-guangzhou-3",
    "Placement.ProjectId": "0",
    "Limit": "20",
    "Ratio": "1.5",
    "DryRun": "true",
    "Other": "false",
}


def v1_expected(method: str, host: str, pairs: list[tuple[str, str]], algo: str) -> str:
    unsigned = sorted((k, v) for k, v in pairs if k != "Signature")
    s = f"{method}{host}/?" + "&".join(f"{k}={v}" for k, v in unsigned)
    digest = hashlib.sha1 if algo == "HmacSHA1" else hashlib.sha256
    return base64.b64encode(
        hmac.new(TEST_KEY.encode(), s.encode(), digest).digest()
    ).decode()


def tc3_expected(method: str, query: str, headers: dict, body: bytes, ts: int) -> str:
    canonical = "\n".join(
        [
            method,
            "/",
            query,
            f"content-type:{headers['content-type']}\nhost:{headers['host']}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    date = time.strftime("%Y-%m-%d", time.gmtime(ts))
    scope = f"{date}/cvm/tc3_request"
    sts = (
        f"TC3-HMAC-SHA256\n{ts}\n{scope}\n"
        + hashlib.sha256(canonical.encode()).hexdigest()
    )

    def h(k: bytes, m: str) -> bytes:
        return hmac.new(k, m.encode(), hashlib.sha256).digest()

    k = h(h(h(("TC3" + TEST_KEY).encode(), date), "cvm"), "tc3_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={TEST_ID}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={sig}"
    )


@pytest.mark.parametrize("sign_method,http_method", PAIRS)
def test_on_the_wire(recording_server, client_factory, sign_method, http_method):
    srv = recording_server
    c = client_factory(
        sign_method=sign_method, http_method=http_method, language="en-US"
    )
    before = int(time.time())
    out = c.call("DescribeInstances", PARAMS)
    after = int(time.time())
    assert out == {"RequestId": "req-1"}
    assert len(srv.requests) == 1
    r = srv.requests[0]
    assert r.method == http_method
    assert r.path == "/"
    assert r.headers["host"] == srv.host
    raw = r.query if http_method == "GET" else r.body.decode(errors="replace")

    if sign_method == "TC3-HMAC-SHA256":
        assert r.headers["x-tc-action"] == "DescribeInstances"
        assert r.headers["x-tc-version"] == "2017-03-12"
        assert r.headers["x-tc-region"] == "ap-guangzhou"
        assert r.headers["x-tc-language"] == "en-US"
        assert "x-tc-token" not in r.headers
        ts = int(r.headers["x-tc-timestamp"])
        assert before <= ts <= after
        if http_method == "POST":
            assert r.headers["content-type"] == "application/json"
            assert r.query == ""
            sent = r.json()
            expect = {k: v for k, v in PARAMS.items() if v is not None}
            assert sent == expect
            assert list(sent) == list(expect)  # key order kept
            assert "中文" in r.body.decode()  # UTF-8, not \u escapes
        else:
            assert r.headers["content-type"] == "application/x-www-form-urlencoded"
            assert r.body == b""
            assert dict(r.query_pairs) == FLAT
            assert [k for k, _ in r.query_pairs] == list(FLAT)
        assert r.headers["authorization"] == tc3_expected(
            http_method, r.query, r.headers, r.body, ts
        )
    else:
        pairs = r.query_pairs if http_method == "GET" else r.form_pairs
        if http_method == "POST":
            assert r.headers["content-type"] == "application/x-www-form-urlencoded"
            assert r.query == ""
        else:
            assert r.body == b""
        d = dict(pairs)
        assert len(d) == len(pairs), "no parameter twice"
        for k, v in FLAT.items():
            assert d[k] == v
        assert "Skip" not in d and not any(k.startswith("Empty") for k in d)
        assert d["Action"] == "DescribeInstances"
        assert d["Version"] == "2017-03-12"
        assert d["Region"] == "ap-guangzhou"
        assert d["SecretId"] == TEST_ID
        assert d["SignatureMethod"] == sign_method
        assert d["Language"] == "en-US"
        assert "Token" not in d
        assert before <= int(d["Timestamp"]) <= after
        assert 1 <= int(d["Nonce"]) <= 2**31 - 1
        assert d["Signature"] == v1_expected(http_method, srv.host, pairs, sign_method)
        assert "authorization" not in r.headers
    # Percent-encoding of the reserved characters and UTF-8 on the wire.
    if not (sign_method == "TC3-HMAC-SHA256" and http_method == "POST"):
        enc = "a%20b%2Bc%26d%3De%2Ff%25g~%E4%B8%AD%E6%96%87"
        assert f"Filters.0.Values.0={enc}" in raw


@pytest.mark.parametrize("sign_method", ["TC3-HMAC-SHA256", "HmacSHA1"])
def test_token_is_sent(recording_server, client_factory, sign_method):
    c = client_factory(sign_method=sign_method, token="TOKEN-abc")
    c.call("DescribeRegions")
    r = recording_server.requests[0]
    if sign_method == "TC3-HMAC-SHA256":
        assert r.headers["x-tc-token"] == "TOKEN-abc"
    else:
        assert dict(r.form_pairs)["Token"] == "TOKEN-abc"


def test_fresh_nonce_and_timestamp_per_request(recording_server, client_factory):
    c = client_factory(sign_method="HmacSHA256")
    for _ in range(5):
        c.call("DescribeRegions")
    nonces = {dict(r.form_pairs)["Nonce"] for r in recording_server.requests}
    assert len(nonces) == 5


def test_flatten_params_helper():
    assert dict(_core.flatten_params(PARAMS)) == FLAT
    with pytest.raises(tccvm.ParamValidationError):
        _core.flatten_params([1, 2])


def test_response_decoding_keeps_everything(recording_server, client_factory):
    doc = {
        "Response": {
            "TotalCount": 2,
            "Big": 2**63 + 5,
            "Neg": -(2**62),
            "Float": 0.1,
            "Exp": 1e300,
            "Text": '中文 "quoted" \\ \u0001',
            "Null": None,
            "Bool": False,
            "Nested": [{"A": [1, {"B": None}], "Z": {}}, []],
            "UnknownNewField": {"x": 1},
            "RequestId": "r-1",
        },
        "Extra": "ignored",
    }
    recording_server.push_json(doc)
    out = client_factory().call("DescribeInstances")
    assert out == doc["Response"]
    assert list(out) == list(doc["Response"])
    assert type(out["Float"]) is float and out["Float"] == 0.1
    assert out["Big"] == 2**63 + 5


def test_loads_matches_json():
    data = json.dumps(
        {"a": [1, 2.5, "x", None, True, {"b": {}}], "c": -1.25e-7, "d": "é\ud83d\ude00"}
    ).encode()
    assert _core.loads(data) == json.loads(data)
    with pytest.raises(ValueError):
        _core.loads(b'{"a": ')
