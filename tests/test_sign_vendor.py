"""Differential signing tests against the vendor's Python SDK (a test-only peer).

Both directions, for all six sign-method x HTTP-method pairs:
* the vendor client (fixed Timestamp and Nonce) sends to the recording server; our signing
  functions, given the same inputs, must produce the identical signature;
* our client sends to the recording server; the vendor's signing code, given what we sent,
  must produce the identical signature.
"""

from __future__ import annotations

import time

import pytest
import tccvm
from conftest import TEST_ID, TEST_KEY
from tccvm import _core

pytest.importorskip("tencentcloud.common")
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.cvm.v20170312 import cvm_client

pytestmark = pytest.mark.timeout(60)

PAIRS = [
    (s, h)
    for s in ("TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1")
    for h in ("POST", "GET")
]
FIXED_TS = 1700000000
FIXED_NONCE = 424242
PARAMS = {
    "Filters": [{"Name": "instance-name", "Values": ["web 1+2&x=y/z%", "未命名"]}],
    "InstanceIds": ["ins-1"],
    "Offset": 0,
    "Limit": 20,
}


def vendor_client(srv, sign_method: str, http_method: str) -> cvm_client.CvmClient:
    hp = HttpProfile(
        endpoint=srv.host, protocol="http", reqMethod=http_method, reqTimeout=10
    )
    cp = ClientProfile(signMethod=sign_method, httpProfile=hp)
    return cvm_client.CvmClient(
        credential.Credential(TEST_ID, TEST_KEY), "ap-guangzhou", cp
    )


@pytest.mark.parametrize("sign_method,http_method", PAIRS)
def test_vendor_request_resigned_by_us(
    recording_server, monkeypatch, sign_method, http_method
):
    monkeypatch.setattr(abstract_client.time, "time", lambda: FIXED_TS + 0.25)
    monkeypatch.setattr(abstract_client.random, "randint", lambda a, b: FIXED_NONCE)
    srv = recording_server
    srv.push_json({"Response": {"TotalCount": 0, "InstanceSet": [], "RequestId": "r"}})
    vendor_client(srv, sign_method, http_method).call_json("DescribeInstances", PARAMS)
    r = srv.requests[0]
    assert r.method == http_method
    if sign_method == "TC3-HMAC-SHA256":
        ours = _core.sign_tc3(
            TEST_ID,
            TEST_KEY,
            http_method,
            "/",
            r.query if http_method == "GET" else "",
            [("content-type", r.headers["content-type"]), ("host", r.headers["host"])],
            r.body if http_method == "POST" else b"",
            FIXED_TS,
        )
        assert int(r.headers["x-tc-timestamp"]) == FIXED_TS
        assert ours == r.headers["authorization"]
    else:
        pairs = r.query_pairs if http_method == "GET" else r.form_pairs
        d = dict(pairs)
        assert d["Nonce"] == str(FIXED_NONCE) and d["Timestamp"] == str(FIXED_TS)
        unsigned = [(k, v) for k, v in pairs if k != "Signature"]
        ours = _core.sign_v1(
            sign_method, TEST_KEY, http_method, r.headers["host"], "/", unsigned
        )
        assert ours == d["Signature"]


@pytest.mark.parametrize("sign_method,http_method", PAIRS)
def test_our_request_resigned_by_vendor(
    recording_server, client_factory, sign_method, http_method
):
    srv = recording_server
    c = client_factory(sign_method=sign_method, http_method=http_method)
    c.call("DescribeInstances", PARAMS)
    r = srv.requests[0]
    vc = vendor_client(srv, sign_method, http_method)
    if sign_method == "TC3-HMAC-SHA256":
        ts = r.headers["x-tc-timestamp"]
        req = RequestInternal(
            host=r.headers["host"],
            method=http_method,
            uri="/",
            header={
                "Content-Type": r.headers["content-type"],
                "Host": r.headers["host"],
                "X-TC-Timestamp": ts,
            },
            data=r.query if http_method == "GET" else r.body.decode(),
        )
        date = time.strftime("%Y-%m-%d", time.gmtime(int(ts)))
        theirs = vc._get_tc3_signature(None, req, date, "cvm", TEST_KEY)
        sent = r.headers["authorization"].rsplit("Signature=", 1)[1]
        assert theirs == sent
        assert r.headers["authorization"] == (
            f"TC3-HMAC-SHA256 Credential={TEST_ID}/{date}/cvm/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={theirs}"
        )
    else:
        pairs = r.query_pairs if http_method == "GET" else r.form_pairs
        params = {k: v for k, v in pairs if k != "Signature"}
        theirs = Sign.sign(TEST_KEY, vc._format_sign_string(params), sign_method)
        assert theirs == dict(pairs)["Signature"]


def test_seed_example_through_the_helper():
    params = [
        ("Action", "DescribeInstances"),
        ("InstanceIds.0", "ins-09dx96dg"),
        ("Limit", "20"),
        ("Nonce", "11886"),
        ("Offset", "0"),
        ("Region", "ap-guangzhou"),
        ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"),
        ("Timestamp", "1465185768"),
        ("Version", "2017-03-12"),
    ]
    sig = _core.sign_v1(
        "HmacSHA1",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        "GET",
        "cvm.tencentcloudapi.com",
        "/",
        params,
    )
    assert sig == "EliP9YW3pW28FpsEdkXt/+WcGeI="
    assert tccvm.__version__
