"""The vendor's own SDK (tencentcloud-sdk-python-cvm) against the emulator: every sign method
with both HTTP methods, and the documented authentication failures."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("tencentcloud.cvm.v20170312")

from tccvm.emulator import Emulator
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client, models

pytestmark = pytest.mark.timeout(60)

SIGN_METHODS = ["TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"]
HTTP_METHODS = ["POST", "GET"]


def vendor(
    emu,
    sign="TC3-HMAC-SHA256",
    http="POST",
    sid=None,
    skey=None,
    token=None,
    region="ap-guangzhou",
):
    hp = HttpProfile(
        endpoint=emu.endpoint.split("//", 1)[1],
        protocol="http",
        reqMethod=http,
        reqTimeout=10,
    )
    cp = ClientProfile(signMethod=sign, httpProfile=hp)
    cred = credential.Credential(sid or emu.secret_id, skey or emu.secret_key, token)
    return cvm_client.CvmClient(cred, region, cp)


def call(client, action, params=None):
    """The vendor SDK's generic call: the answer's Response object as sent."""
    return client.call_json(action, params or {})["Response"]


def typed(client, action, params=None):
    """The vendor SDK's typed method: the answer must deserialize into its models."""
    req = getattr(models, action + "Request")()
    req.from_json_string(json.dumps(params or {}))
    resp = getattr(client, action)(req)
    return json.loads(resp.to_json_string())


def code_of(fn):
    with pytest.raises(TencentCloudSDKException) as ei:
        fn()
    return ei.value.get_code()


def wait_state(client, iid, state, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = call(client, "DescribeInstances", {"InstanceIds": [iid]})
        states = [i["InstanceState"] for i in out["InstanceSet"]]
        if state is None and not states:
            return
        if states == [state]:
            return
        time.sleep(0.05)
    raise AssertionError(f"{iid} never reached {state}")


@pytest.fixture(scope="module")
def emu():
    with Emulator(transition_seconds=0.2) as e:
        yield e


@pytest.mark.parametrize("http", HTTP_METHODS)
@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_launch_describe_stop_terminate(emu, sign, http):
    c = vendor(emu, sign, http)
    zones = typed(c, "DescribeZones")
    assert zones["TotalCount"] == len(zones["ZoneSet"]) >= 1
    zone = next(z["Zone"] for z in zones["ZoneSet"] if z["ZoneState"] == "AVAILABLE")
    regions = call(c, "DescribeRegions")
    assert "ap-guangzhou" in [r["Region"] for r in regions["RegionSet"]]
    name = f"vendor {sign}/{http} ü&x=1+2%20"
    out = typed(
        c,
        "RunInstances",
        {
            "Placement": {"Zone": zone},
            "ImageId": "img-pmqg1cw7",
            "InstanceName": name,
            "InstanceType": "S1.SMALL2",
            "InternetAccessible": {
                "InternetMaxBandwidthOut": 1,
                "PublicIpAssigned": True,
            },
        },
    )
    (iid,) = out["InstanceIdSet"]
    assert len(out["RequestId"]) == 36
    desc = typed(c, "DescribeInstances", {"InstanceIds": [iid]})
    inst = desc["InstanceSet"][0]
    assert inst["InstanceState"] == "PENDING"
    assert inst["InstanceName"] == name and inst["Placement"]["Zone"] == zone
    assert inst["CPU"] == 1 and inst["Memory"] == 2
    wait_state(c, iid, "RUNNING")
    call(c, "StopInstances", {"InstanceIds": [iid]})
    wait_state(c, iid, "STOPPED")
    call(c, "TerminateInstances", {"InstanceIds": [iid]})
    st = call(c, "DescribeInstancesStatus", {"InstanceIds": [iid]})
    assert st["InstanceStatusSet"] == [
        {"InstanceId": iid, "InstanceState": "TERMINATING"}
    ]
    wait_state(c, iid, None)
    assert code_of(lambda: call(c, "StopInstances", {"InstanceIds": [iid]})) == (
        "InvalidInstanceId.NotFound"
    )


@pytest.mark.parametrize("http", HTTP_METHODS)
@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_wrong_key_id_and_clock(emu, sign, http):
    bad_key = vendor(emu, sign, http, skey="x" * 32)
    assert (
        code_of(lambda: call(bad_key, "DescribeZones"))
        == "AuthFailure.SignatureFailure"
    )
    bad_id = vendor(emu, sign, http, sid="AKID" + "0" * 32)
    assert (
        code_of(lambda: call(bad_id, "DescribeZones")) == "AuthFailure.SecretIdNotFound"
    )
    good = vendor(emu, sign, http)
    emu.set_clock_offset(400)
    try:
        assert (
            code_of(lambda: call(good, "DescribeZones"))
            == "AuthFailure.SignatureExpire"
        )
    finally:
        emu.set_clock_offset(0)
    emu.set_clock_offset(-290)  # within 5 minutes: accepted
    try:
        call(good, "DescribeZones")
    finally:
        emu.set_clock_offset(0)


def test_error_envelope_is_http_200_with_request_id(emu):
    import urllib.request

    with urllib.request.urlopen(
        emu.endpoint + "/?Action=DescribeZones", timeout=5
    ) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "application/json"
        body = json.loads(r.read())
    err = body["Response"]["Error"]
    assert err["Code"] in ("MissingParameter", "AuthFailure.SignatureFailure")
    assert len(body["Response"]["RequestId"]) == 36


@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_temporary_credentials_with_token(emu, sign):
    tmp = emu.issue_credentials(ttl=2)
    c = vendor(emu, sign, "POST", tmp["secret_id"], tmp["secret_key"], tmp["token"])
    assert call(c, "DescribeZones")["TotalCount"] >= 1
    wrong = vendor(
        emu, sign, "POST", tmp["secret_id"], tmp["secret_key"], "not-the-token"
    )
    assert code_of(lambda: call(wrong, "DescribeZones")) == "AuthFailure.TokenFailure"
    none = vendor(emu, sign, "POST", tmp["secret_id"], tmp["secret_key"], None)
    assert code_of(lambda: call(none, "DescribeZones")) == "AuthFailure.TokenFailure"
    time.sleep(2.2)
    assert code_of(lambda: call(c, "DescribeZones")) == "AuthFailure.TokenFailure"


@pytest.mark.parametrize("sign", ["HmacSHA256", "HmacSHA1"])
def test_replayed_nonce_is_refused(emu, sign, monkeypatch):
    import tencentcloud.common.abstract_client as ac

    monkeypatch.setattr(ac.random, "randint", lambda a, b: 424242 + len(sign))
    c = vendor(emu, sign, "GET")
    call(c, "DescribeZones")
    assert code_of(lambda: call(c, "DescribeZones")) == "AuthFailure.SignatureFailure"


def test_signature_check_can_be_switched_off():
    with Emulator(check_signatures=False) as e:
        c = vendor(e, "HmacSHA1", "GET", sid="AKIDanything", skey="wrong")
        assert call(c, "DescribeRegions")["TotalCount"] >= 1
        e.set_signature_check(True)
        assert (
            code_of(lambda: call(c, "DescribeRegions"))
            == "AuthFailure.SecretIdNotFound"
        )
