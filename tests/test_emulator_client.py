"""tccvm's own client against the emulator: every sign method with both HTTP methods, the
documented authentication errors, retries that never duplicate work, the CVM role chain."""

from __future__ import annotations

import time

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

ZONE = "ap-guangzhou-2"
IMAGE = "img-pmqg1cw7"
SIGN_METHODS = ["TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"]
HTTP_METHODS = ["POST", "GET"]


@pytest.fixture
def emu():
    with Emulator(transition_seconds=0.1) as e:
        yield e


def client(emu, **kw):
    args = {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": "ap-guangzhou",
        "endpoint": emu.endpoint,
    }
    args.update(kw)
    return tccvm.Client(**args)


def code_of(fn):
    with pytest.raises(tccvm.TencentCloudError) as ei:
        fn()
    return ei.value.code


def wait_state(c, iid, state, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = c.call("DescribeInstances", {"InstanceIds": [iid]})
        states = [i["InstanceState"] for i in out["InstanceSet"]]
        if (state is None and not states) or states == [state]:
            return
        time.sleep(0.05)
    raise AssertionError(f"{iid} never reached {state}")


@pytest.mark.parametrize("http", HTTP_METHODS)
@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_scenario(emu, sign, http):
    with client(emu, sign_method=sign, http_method=http) as c:
        zones = c.call("DescribeZones")
        assert zones["TotalCount"] == 7 and len(zones["RequestId"]) == 36
        out = c.call(
            "RunInstances",
            {
                "Placement": {"Zone": ZONE},
                "ImageId": IMAGE,
                "InstanceCount": 2,
                "InstanceName": "t{R:1}",
                "TagSpecification": [
                    {
                        "ResourceType": "instance",
                        "Tags": [{"Key": "k", "Value": "v w&x=y"}],
                    }
                ],
            },
        )
        a, b = out["InstanceIdSet"]
        got = c.call(
            "DescribeInstances", {"Filters": [{"Name": "tag:k", "Values": ["v w&x=y"]}]}
        )
        assert sorted(i["InstanceName"] for i in got["InstanceSet"]) == ["t1", "t2"]
        wait_state(c, a, "RUNNING")
        wait_state(c, b, "RUNNING")
        c.call("StopInstances", {"InstanceIds": [a, b], "ForceStop": True})
        wait_state(c, a, "STOPPED")
        c.call("TerminateInstances", {"InstanceIds": [a]})
        wait_state(c, a, None)
        assert code_of(lambda: c.call("StartInstances", {"InstanceIds": [a]})) == (
            "InvalidInstanceId.NotFound"
        )


@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_auth_errors(emu, sign):
    with client(emu, sign_method=sign, secret_key="k" * 32, max_attempts=1) as c:
        assert (
            code_of(lambda: c.call("DescribeZones")) == "AuthFailure.SignatureFailure"
        )
    with client(
        emu, sign_method=sign, secret_id="AKID" + "1" * 32, max_attempts=1
    ) as c:
        assert (
            code_of(lambda: c.call("DescribeZones")) == "AuthFailure.SecretIdNotFound"
        )
    emu.set_clock_offset(-900)
    with client(emu, sign_method=sign, max_attempts=1) as c:
        # AuthFailure.SignatureExpire: the client corrects its clock once from the server's
        # Date header (which carries the emulator's shifted clock) and succeeds.
        c.call("DescribeZones")
        assert abs(c._core.clock_offset + 900) <= 2
        assert c._core.stats()["clock_corrections"] == 1
    emu.set_clock_offset(0)


def test_retry_after_drop_does_not_launch_twice(emu):
    emu.inject("drop_after", count=1, actions="RunInstances")
    with client(emu, max_attempts=3) as c:
        out = c.call("RunInstances", {"Placement": {"Zone": ZONE}, "ImageId": IMAGE})
    assert len(out["InstanceIdSet"]) == 1
    stats = emu.stats()
    assert stats["requests_by_action"]["RunInstances"] == 2
    assert stats["launches"] == 1
    assert [i["InstanceId"] for i in emu.instances("ap-guangzhou")] == out[
        "InstanceIdSet"
    ]


@pytest.mark.parametrize(
    "kind", ["http_502", "http_503", "internal_error", "drop_before"]
)
def test_transient_faults_are_retried(emu, kind):
    emu.inject(kind, count=2, actions="DescribeRegions")
    with client(emu, max_attempts=3) as c:
        assert c.call("DescribeRegions")["TotalCount"] == 10
    assert emu.stats()["requests_by_action"]["DescribeRegions"] == 3


@pytest.mark.parametrize("kind", ["malformed", "truncated", "http_503", "drop_before"])
def test_faults_surface_as_transport_errors(emu, kind):
    emu.inject(kind, count=1)
    errors = (tccvm.TransportError, tccvm.TencentCloudError)
    with client(emu, max_attempts=1) as c, pytest.raises(errors) as ei:
        c.call("DescribeRegions")
    assert emu.secret_key not in str(ei.value)


def test_cvm_role_credentials_from_the_metadata_endpoint(emu, monkeypatch, tmp_path):
    for k in (
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_TOKEN",
    ):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv("TENCENTCLOUD_CREDENTIALS_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("TENCENTCLOUD_METADATA_ENDPOINT", emu.metadata_endpoint)
    emu.set_metadata(ttl=3)
    emu.set_metadata(ttl=3)
    with tccvm.Client(region="ap-guangzhou", endpoint=emu.endpoint) as c:
        assert c.call("DescribeZones")["TotalCount"] == 7
        # the role's credentials expire after 3 s: the client must refresh them and go on
        time.sleep(3.5)
        assert c.call("DescribeZones")["TotalCount"] == 7
        first = emu.stats()
        # the role's credentials expire after 3 s: the client must refresh them and go on
        time.sleep(3.5)
        assert c.call("DescribeZones")["TotalCount"] == 7
    assert first["requests"] >= 1


def test_generated_methods_and_async_client(emu):
    import asyncio

    with client(emu) as c:
        ids = c.run_instances(
            Placement={"Zone": ZONE},
            ImageId=IMAGE,
            InstanceCount=3,
            ClientToken="gen-1",
        )["InstanceIdSet"]
        again = c.run_instances(
            Placement={"Zone": ZONE},
            ImageId=IMAGE,
            InstanceCount=3,
            ClientToken="gen-1",
        )["InstanceIdSet"]
        assert ids == again
        page = c.describe_instances(Offset=1, Limit=1)
        assert page["TotalCount"] == 3 and len(page["InstanceSet"]) == 1
        with pytest.raises(tccvm.ParamValidationError):
            c.describe_instances(Limt=1)
        assert emu.stats()["requests_by_action"].get("DescribeInstances") == 1

    async def run():
        async with tccvm.AsyncClient(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region="ap-guangzhou",
            endpoint=emu.endpoint,
        ) as ac:
            outs = await asyncio.gather(
                *(ac.describe_instances(InstanceIds=[i]) for i in ids)
            )
            return [o["InstanceSet"][0]["InstanceId"] for o in outs]

    assert asyncio.run(run()) == ids
    with client(emu) as c:
        got = [i["InstanceId"] for i in c.paginate("DescribeInstances", Limit=2)]
    assert sorted(got) == sorted(ids)
    with client(emu) as c:
        c.wait("instance_running", timeout=10, interval=0.05, InstanceIds=ids)
        states = {
            i["InstanceState"]
            for i in c.describe_instances(InstanceIds=ids)["InstanceSet"]
        }
        assert states == {"RUNNING"}
        emu.fail_next_launches(1)
        (bad,) = c.run_instances(Placement={"Zone": ZONE}, ImageId=IMAGE)[
            "InstanceIdSet"
        ]
        with pytest.raises(tccvm.WaiterError):
            c.wait("instance_running", timeout=10, interval=0.05, InstanceIds=[bad])
