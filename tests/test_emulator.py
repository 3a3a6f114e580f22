"""The emulator's behaviour: lifecycle, state transitions, RunInstances options, idempotency,
faults, rate limits, metadata credentials, control endpoints, the command line."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from tccvm.emulator import FAULT_KINDS, Emulator

pytestmark = pytest.mark.timeout(60)

vendor_sdk = pytest.importorskip("tencentcloud.cvm.v20170312")

from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from test_vendor_sdk import call, code_of, vendor, wait_state

ZONE = "ap-guangzhou-2"
IMAGE = "img-pmqg1cw7"


def raw(
    emu, action, params=None, region="ap-guangzhou", version="2017-03-12", timeout=5
):
    """An unsigned GET (for emulators started with check_signatures=False)."""
    q = {"Action": action, "Version": version, "Region": region}
    q.update(params or {})
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=timeout)
    try:
        conn.request("GET", "/?" + urllib.parse.urlencode(q))
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


def raw_json(emu, action, params=None, **kw):
    status, ctype, body = raw(emu, action, params, **kw)
    assert status == 200 and ctype == "application/json"
    return json.loads(body)["Response"]


def launch(c, **extra):
    params = {"Placement": {"Zone": ZONE}, "ImageId": IMAGE}
    params.update(extra)
    return call(c, "RunInstances", params)["InstanceIdSet"]


@pytest.fixture
def emu():
    with Emulator(transition_seconds=0.15) as e:
        yield e
        assert e.stats()["undocumented_errors"] == {}


@pytest.fixture
def client(emu):
    return vendor(emu)


@pytest.fixture
def open_emu():
    with Emulator(check_signatures=False, transition_seconds=0.15, seed=3) as e:
        yield e
        assert e.stats()["undocumented_errors"] == {}


def test_errors_outside_the_model_are_counted(open_emu):
    r = raw_json(
        open_emu,
        "RunInstances",
        {
            "Placement.Zone": ZONE,
            "ImageId": IMAGE,
            "DisasterRecoverGroupIds.0": "ps-aaaaaaaa",
        },
    )
    assert (
        r["Error"]["Code"] == "InvalidParameterValue"
    )  # the documented code, not a new one
    assert open_emu.stats()["undocumented_errors"] == {}


def test_several_emulators_and_clean_stop():
    a = Emulator()
    b = Emulator()
    try:
        assert a.port != b.port and a.running and b.running
        assert a.secret_id != b.secret_id
        assert call(vendor(a), "DescribeRegions")["TotalCount"] >= 1
        a.close()
        a.close()  # idempotent
        assert not a.running
        with pytest.raises(OSError):
            raw(a, "DescribeRegions", timeout=2)
        assert call(vendor(b), "DescribeRegions")["TotalCount"] >= 1
    finally:
        a.close()
        b.close()
    assert "secret_key" not in repr(b) and b.secret_key not in repr(b)


def open_fds():
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_many_start_stop_cycles_do_not_leak():
    with Emulator() as e:  # warm the runtime up
        raw(e, "DescribeRegions")
    before = open_fds()
    t = time.monotonic()
    for _ in range(30):
        with Emulator() as e:
            raw(e, "DescribeRegions")
            conn = http.client.HTTPConnection(e.host, e.port, timeout=5)
            conn.request("GET", "/?Action=DescribeRegions")
            conn.getresponse().read()
            # closing the emulator with this keep-alive connection still open must not hang
    assert time.monotonic() - t < 20
    assert open_fds() <= before + 2


def test_instance_lifecycle_and_wrong_state(emu, client):
    (iid,) = launch(client)
    wrong = (
        "InvalidInstance.NotSupported",
        "InvalidInstanceState",
        "UnsupportedOperation",
    )
    assert (
        code_of(lambda: call(client, "StopInstances", {"InstanceIds": [iid]})) in wrong
    )
    wait_state(client, iid, "RUNNING")
    assert (
        code_of(lambda: call(client, "StartInstances", {"InstanceIds": [iid]})) in wrong
    )
    call(client, "RebootInstances", {"InstanceIds": [iid]})
    assert (
        call(client, "DescribeInstancesStatus", {"InstanceIds": [iid]})[
            "InstanceStatusSet"
        ][0]["InstanceState"]
        == "REBOOTING"
    )
    wait_state(client, iid, "RUNNING")
    call(client, "StopInstances", {"InstanceIds": [iid], "StopType": "SOFT"})
    wait_state(client, iid, "STOPPED")
    call(client, "StartInstances", {"InstanceIds": [iid]})
    wait_state(client, iid, "RUNNING")
    call(client, "TerminateInstances", {"InstanceIds": [iid]})
    assert (
        code_of(lambda: call(client, "RebootInstances", {"InstanceIds": [iid]}))
        in wrong
    )
    wait_state(client, iid, None)
    assert call(client, "DescribeInstances", {"InstanceIds": [iid]})["TotalCount"] == 0


def test_launch_failures_can_be_injected(emu, client):
    emu.fail_next_launches(1)
    bad, good = launch(client, InstanceCount=2)
    wait_state(client, bad, "LAUNCH_FAILED")
    wait_state(client, good, "RUNNING")
    call(client, "TerminateInstances", {"InstanceIds": [bad]})
    wait_state(client, bad, None)


def test_timers_are_configurable(emu, client):
    emu.set_timers(pending=2.0)
    (iid,) = launch(client)
    time.sleep(0.4)
    st = call(client, "DescribeInstancesStatus", {"InstanceIds": [iid]})
    assert st["InstanceStatusSet"][0]["InstanceState"] == "PENDING"
    emu.set_timers(all=0.05)
    timers = emu.set_timers()
    assert timers["stopping"] == pytest.approx(0.05)
    with pytest.raises(ValueError):
        emu.set_timers(bogus=1)


def test_instance_quota_is_configurable(emu, client):
    assert emu.set_quotas() == {"instances": 1000}
    assert emu.set_quotas(instances=3) == {"instances": 3}
    launch(client, InstanceCount=2)
    code = code_of(lambda: launch(client, InstanceCount=2))
    assert code == "InstancesQuotaLimitExceeded"
    launch(client)
    emu.set_quotas(instances=2500)
    assert len(launch(client, InstanceCount=100)) == 100
    with pytest.raises(ValueError):
        emu.set_quotas(instances=0)
    emu.reset()
    assert emu.set_quotas() == {"instances": 1000}


def test_run_instances_names_placement_charge_tags_and_pages(emu, client):
    ids = launch(client, InstanceCount=3, InstanceName="web-")
    ids2 = launch(client, InstanceCount=2, InstanceName="db{R:7}-x{R:1}")
    tagged = launch(
        client,
        InstanceChargeType="PREPAID",
        InstanceChargePrepaid={"Period": 1, "RenewFlag": "NOTIFY_AND_AUTO_RENEW"},
        TagSpecification=[
            {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "x"}]}
        ],
        Placement={"Zone": "ap-guangzhou-3", "ProjectId": 7},
    )
    out = call(client, "DescribeInstances", {"InstanceIds": ids + ids2})
    names = sorted(i["InstanceName"] for i in out["InstanceSet"])
    assert names == ["db7-x1", "db8-x2", "web-1", "web-2", "web-3"]
    f = call(
        client,
        "DescribeInstances",
        {"Filters": [{"Name": "tag:team", "Values": ["x"]}]},
    )
    assert [i["InstanceId"] for i in f["InstanceSet"]] == tagged
    inst = f["InstanceSet"][0]
    assert inst["InstanceChargeType"] == "PREPAID" and inst["ExpiredTime"]
    assert inst["Placement"] == {
        "Zone": "ap-guangzhou-3",
        "ProjectId": 7,
        "HostIds": [],
        "HostId": "",
    }
    assert inst["RenewFlag"] == "NOTIFY_AND_AUTO_RENEW"
    f = call(
        client,
        "DescribeInstances",
        {
            "Filters": [
                {"Name": "zone", "Values": [ZONE]},
                {"Name": "instance-name", "Values": ["web-2"]},
            ]
        },
    )
    assert f["TotalCount"] == 1
    # Offset / Limit
    seen = []
    for off in range(0, 6, 2):
        page = call(client, "DescribeInstances", {"Offset": off, "Limit": 2})
        assert page["TotalCount"] == 6
        seen += [i["InstanceId"] for i in page["InstanceSet"]]
    assert sorted(seen) == sorted(ids + ids2 + tagged)
    assert call(client, "DescribeInstances", {"Limit": 0})["InstanceSet"] == []
    # documented refusals
    assert code_of(lambda: call(client, "DescribeInstances", {"Limit": 101})) == (
        "InvalidParameterValue"
    )
    assert (
        code_of(
            lambda: call(
                client,
                "DescribeInstances",
                {"Filters": [{"Name": "nope", "Values": ["1"]}]},
            )
        )
        == "InvalidFilter"
    )
    assert code_of(lambda: launch(client, Placement={"Zone": "ap-beijing-1"})) == (
        "InvalidZone.MismatchRegion"
    )
    assert (
        code_of(lambda: launch(client, InstanceChargeType="PREPAID"))
        == "MissingParameter"
    )
    assert (
        code_of(
            lambda: launch(
                client,
                InstanceChargeType="PREPAID",
                InstanceChargePrepaid={"Period": 13},
            )
        )
        == "InvalidPeriod"
    )
    assert (
        code_of(lambda: launch(client, InstanceCount=101))
        == "InvalidParameterValue.Range"
    )
    assert (
        code_of(lambda: launch(client, InstanceName="n" * 61))
        == "InvalidInstanceName.TooLong"
    )
    assert code_of(lambda: launch(client, InstanceType="bad type")) == (
        "InvalidInstanceType.Malformed"
    )
    assert (
        code_of(lambda: launch(client, ClientToken="t" * 65))
        == "InvalidClientToken.TooLong"
    )
    assert (
        code_of(lambda: launch(client, LoginSettings={"Password": "weak"}))
        == "InvalidPassword"
    )
    assert (
        code_of(lambda: call(client, "StopInstances", {"InstanceIds": ["ins-1122"]}))
        == "InvalidInstanceId.Malformed"
    )
    assert (
        code_of(
            lambda: call(client, "StopInstances", {"InstanceIds": ["ins-zzzzzzzz"]})
        )
        == "InvalidInstanceId.NotFound"
    )


def test_regions_are_separate(emu):
    gz, sh = vendor(emu, region="ap-guangzhou"), vendor(emu, region="ap-shanghai")
    launch(gz)
    assert call(sh, "DescribeInstances")["TotalCount"] == 0
    assert call(gz, "DescribeInstances")["TotalCount"] == 1
    zones = call(sh, "DescribeZones")["ZoneSet"]
    assert all(z["Zone"].startswith("ap-shanghai-") for z in zones)


def test_client_token_idempotency(emu, client):
    a = launch(client, InstanceCount=2, ClientToken="tok-1")
    b = launch(client, InstanceCount=2, ClientToken="tok-1")
    assert a == b
    c = launch(client, ClientToken="tok-2")
    assert c != a
    stats = emu.stats()
    assert stats["launches"] == 2
    assert stats["launches_by_token"] == {"tok-1": 1, "tok-2": 1}
    assert call(client, "DescribeInstances")["TotalCount"] == 3


def test_seed_makes_ids_reproducible():
    runs = []
    for _ in range(2):
        with Emulator(seed=42, check_signatures=False) as e:
            runs.append(
                raw_json(
                    e,
                    "RunInstances",
                    {"Placement.Zone": ZONE, "ImageId": IMAGE, "InstanceCount": "3"},
                )["InstanceIdSet"]
            )
    assert runs[0] == runs[1] and len(set(runs[0])) == 3
    with Emulator(check_signatures=False) as e:
        e.seed(42)
        again = raw_json(
            e,
            "RunInstances",
            {"Placement.Zone": ZONE, "ImageId": IMAGE, "InstanceCount": "3"},
        )
        assert again["InstanceIdSet"] == runs[0]
        e.reset()
        assert raw_json(e, "DescribeInstances")["TotalCount"] == 0
        assert (
            raw_json(
                e,
                "RunInstances",
                {"Placement.Zone": ZONE, "ImageId": IMAGE, "InstanceCount": "3"},
            )["InstanceIdSet"]
            == runs[0]
        )


def test_protocol_errors(open_emu):
    assert raw_json(open_emu, "NoSuchThing")["Error"]["Code"] == "InvalidAction"
    assert (
        raw_json(open_emu, "DescribeZones", version="2099-01-01")["Error"]["Code"]
        == "NoSuchVersion"
    )
    assert (
        raw_json(open_emu, "DescribeZones", region="xx-nowhere")["Error"]["Code"]
        == "UnsupportedRegion"
    )
    assert (
        raw_json(open_emu, "DescribeZones", region="")["Error"]["Code"]
        == "MissingParameter"
    )
    assert "Error" not in raw_json(open_emu, "DescribeRegions", region="")
    assert raw_json(open_emu, "StopInstances")["Error"]["Code"] == "MissingParameter"
    r = raw_json(open_emu, "DescribeInstances", {"Limit": "abc"})
    assert r["Error"]["Code"] == "InvalidParameterValue"
    assert "Limit" in r["Error"]["Message"]
    r = raw_json(open_emu, "DescribeInstances", {"Limt": "1"})
    assert r["Error"]["Code"] == "UnknownParameter" and "Limit" in r["Error"]["Message"]
    r = raw_json(open_emu, "RunInstances", {"Placement.Zone": ZONE})
    assert (
        r["Error"]["Code"] == "MissingParameter" and "ImageId" in r["Error"]["Message"]
    )
    r = raw_json(open_emu, "DescribeInstances", {"Filters.0.Values.0": "x"})
    assert r["Error"]["Code"] == "MissingParameter"
    r = raw_json(open_emu, "DescribeInstances", {"Filters.0.Nmae": "zone"})
    assert r["Error"]["Code"] == "UnknownParameter"


def test_validation_through_json(client):
    assert code_of(lambda: call(client, "DescribeInstances", {"Limit": "many"})) == (
        "InvalidParameterValue"
    )
    assert (
        code_of(lambda: call(client, "DescribeInstances", {"Bogus": 1}))
        == "UnknownParameter"
    )
    assert (
        code_of(lambda: call(client, "RunInstances", {"ImageId": IMAGE}))
        == "MissingParameter"
    )


# -- faults ------------------------------------------------------------------------------


def count_instances(e):
    return len(e.instances("ap-guangzhou"))


def run_params(token=None):
    p = {"Placement.Zone": ZONE, "ImageId": IMAGE}
    if token:
        p["ClientToken"] = token
    return p


@pytest.mark.parametrize(
    "kind,code",
    [
        ("internal_error", "InternalError"),
        ("request_limit_exceeded", "RequestLimitExceeded"),
    ],
)
def test_fault_api_errors(open_emu, kind, code):
    open_emu.inject(kind, count=1, actions="RunInstances")
    r = raw_json(open_emu, "RunInstances", run_params())
    assert r["Error"]["Code"] == code
    assert count_instances(open_emu) == 0
    assert "InstanceIdSet" in raw_json(open_emu, "RunInstances", run_params())
    assert open_emu.stats()["faults_injected"] == {kind: 1}


@pytest.mark.parametrize("kind,status", [("http_502", 502), ("http_503", 503)])
def test_fault_http_errors(open_emu, kind, status):
    open_emu.inject(kind, count=1)
    st, ctype, body = raw(open_emu, "RunInstances", run_params())
    assert st == status and ctype == "text/html" and b"<html>" in body
    assert count_instances(open_emu) == 0


def test_fault_malformed_and_truncated(open_emu):
    open_emu.inject("malformed", count=1)
    st, _, body = raw(open_emu, "RunInstances", run_params())
    assert st == 200
    with pytest.raises(ValueError):
        json.loads(body)
    assert count_instances(open_emu) == 0
    open_emu.inject("truncated", count=1)
    st, _, body = raw(open_emu, "RunInstances", run_params())
    with pytest.raises(ValueError):
        json.loads(body)
    assert body.startswith(b'{"Response":')
    assert count_instances(open_emu) == 1  # the action ran


def test_fault_drop_before_and_after(open_emu):
    open_emu.inject("drop_before", count=1)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        raw(open_emu, "RunInstances", run_params("t-before"))
    assert count_instances(open_emu) == 0
    open_emu.inject("drop_after", count=1)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        raw(open_emu, "RunInstances", run_params("t-after"))
    assert count_instances(open_emu) == 1  # took effect before the connection dropped
    first = open_emu.instances("ap-guangzhou")[0]["InstanceId"]
    retry = raw_json(open_emu, "RunInstances", run_params("t-after"))
    assert retry["InstanceIdSet"] == [
        first
    ]  # the retry is de-duplicated by ClientToken
    assert open_emu.stats()["launches_by_token"] == {"t-after": 1}


def test_vendor_sdk_sees_drop_after_and_no_duplicate_on_retry(emu, client):
    emu.inject("drop_after", count=1, actions=["RunInstances"])
    with pytest.raises(TencentCloudSDKException):
        launch(client, ClientToken="vendor-retry")
    again = launch(client, ClientToken="vendor-retry")
    assert call(client, "DescribeInstances")["TotalCount"] == 1
    assert call(client, "DescribeInstances")["InstanceSet"][0]["InstanceId"] == again[0]
    assert emu.stats()["launches"] == 1


def test_fault_rate_is_deterministic_under_seed():
    def pattern(seed):
        with Emulator(check_signatures=False, seed=seed) as e:
            e.inject("internal_error", rate=0.5)
            return ["Error" in raw_json(e, "DescribeRegions") for _ in range(30)]

    a, b = pattern(11), pattern(11)
    assert a == b and 3 < sum(a) < 27


def test_latency(open_emu):
    open_emu.set_latency(0.3, actions=["DescribeZones"])
    t = time.monotonic()
    raw_json(open_emu, "DescribeRegions")
    assert time.monotonic() - t < 0.25
    t = time.monotonic()
    raw_json(open_emu, "DescribeZones")
    assert time.monotonic() - t >= 0.3
    open_emu.clear_faults()
    t = time.monotonic()
    raw_json(open_emu, "DescribeZones")
    assert time.monotonic() - t < 0.25


def test_fault_kinds_validated(open_emu):
    with pytest.raises(ValueError):
        open_emu.inject("explode", count=1)
    with pytest.raises(ValueError):
        open_emu.inject("http_502")
    assert len(FAULT_KINDS) == 8


def test_rate_limits(open_emu):
    for _ in range(5):
        assert "Error" not in raw_json(open_emu, "DescribeZones")  # off by default
    open_emu.enable_rate_limits(DescribeZones=2)
    codes = [
        raw_json(open_emu, "DescribeZones").get("Error", {}).get("Code")
        for _ in range(4)
    ]
    assert codes[:2] == [None, None] and codes[2:] == ["RequestLimitExceeded"] * 2
    time.sleep(1.05)
    assert "Error" not in raw_json(open_emu, "DescribeZones")
    open_emu.disable_rate_limits()
    for _ in range(5):
        assert "Error" not in raw_json(open_emu, "DescribeZones")


def test_rate_limits_from_the_model(open_emu):
    open_emu.enable_rate_limits()
    codes = [
        raw_json(open_emu, "RunInstances", run_params()).get("Error", {}).get("Code")
        for _ in range(12)
    ]
    # RunInstances: "A maximum of 10 requests can be initiated per second".
    assert codes.count("RequestLimitExceeded") >= 1
    assert codes[:10] == [None] * 10 or codes.count(None) >= 10
    assert count_instances(open_emu) == codes.count(None)


# -- metadata ----------------------------------------------------------------------------


def test_metadata_role_credentials(emu):
    base = emu.metadata_endpoint
    with urllib.request.urlopen(base, timeout=5) as r:
        role = r.read().decode()
    assert role == "tccvm-emulator-role"
    emu.set_metadata(role="app-role", ttl=2)
    with urllib.request.urlopen(base, timeout=5) as r:
        assert r.read().decode() == "app-role"
    with urllib.request.urlopen(base + "app-role", timeout=5) as r:
        creds = json.loads(r.read())
    assert creds["Code"] == "Success"
    assert set(creds) >= {
        "TmpSecretId",
        "TmpSecretKey",
        "Token",
        "ExpiredTime",
        "Expiration",
    }
    assert creds["ExpiredTime"] - time.time() <= 3
    c = vendor(
        emu,
        "TC3-HMAC-SHA256",
        "POST",
        creds["TmpSecretId"],
        creds["TmpSecretKey"],
        creds["Token"],
    )
    assert call(c, "DescribeZones")["TotalCount"] >= 1
    time.sleep(2.3)
    assert code_of(lambda: call(c, "DescribeZones")) == "AuthFailure.TokenFailure"
    with urllib.request.urlopen(base + "app-role", timeout=5) as r:
        fresh = json.loads(r.read())
    assert fresh["TmpSecretId"] != creds["TmpSecretId"]
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(base + "other-role", timeout=5)


# -- control over HTTP -------------------------------------------------------------------


def test_http_control(open_emu):
    raw_json(open_emu, "DescribeRegions")
    req = urllib.request.Request(
        open_emu.endpoint + "/_emulator/stats", data=b"{}", method="POST"
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        stats = json.loads(r.read())
    assert stats["requests"] >= 1
    req = urllib.request.Request(
        open_emu.endpoint + "/_emulator/faults",
        data=json.dumps({"rules": [{"kind": "internal_error", "count": 1}]}).encode(),
        method="POST",
    )
    urllib.request.urlopen(req, timeout=5).close()
    assert raw_json(open_emu, "DescribeRegions")["Error"]["Code"] == "InternalError"
    req = urllib.request.Request(
        open_emu.endpoint + "/_emulator/nope", data=b"{}", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(req, timeout=5)
    assert ei.value.code == 400


# -- command line ------------------------------------------------------------------------


def test_command_line_serves_until_interrupted():
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    p = subprocess.Popen(
        [sys.executable, "-m", "tccvm.emulator", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = {}
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(lines) < 4:
            line = p.stdout.readline()
            if not line:
                break
            if ":" in line and line.startswith("endpoint"):
                lines["endpoint"] = line.split(":", 1)[1].strip()
            elif "=" in line:
                k, v = line.strip().split("=", 1)
                lines[k] = v
        endpoint = lines["endpoint"]
        host, port = endpoint.split("//")[1].split(":")

        class E:
            pass

        e = E()
        e.endpoint, e.host, e.port = endpoint, host, int(port)
        e.secret_id = lines["TENCENTCLOUD_SECRET_ID"]
        e.secret_key = lines["TENCENTCLOUD_SECRET_KEY"]
        assert call(vendor(e), "DescribeZones")["TotalCount"] >= 1
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=15) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_concurrent_clients(emu):
    from concurrent.futures import ThreadPoolExecutor

    def work(n):
        c = vendor(
            emu,
            ["TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"][n % 3],
            ["POST", "GET"][n % 2],
        )
        ids = []
        for k in range(10):
            ids += launch(c, ClientToken=f"w{n}-{k}")
            call(c, "DescribeInstances", {"Limit": 5})
        return ids

    with ThreadPoolExecutor(8) as ex:
        all_ids = [i for ids in ex.map(work, range(8)) for i in ids]
    assert len(all_ids) == len(set(all_ids)) == 80
    assert emu.stats()["launches"] == 80
    assert call(vendor(emu), "DescribeInstances", {"Limit": 1})["TotalCount"] == 80
