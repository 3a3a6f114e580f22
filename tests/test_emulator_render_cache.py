"""The emulator keeps each instance's DescribeInstances JSON cached between changes: every
change of an instance (an action, a timer-driven state transition, a key pair deleted) must show
up in the very next DescribeInstances. Each step describes first (filling the cache), changes,
then describes again."""

from __future__ import annotations

import time

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

ZONE = "ap-guangzhou-2"
IMAGE = "img-pmqg1cw7"
OTHER_IMAGE = "img-0vbqvzfn"
STEP = 0.15  # the emulator's transition time in these tests


@pytest.fixture
def emu():
    with Emulator(transition_seconds=STEP) as e:
        yield e


@pytest.fixture
def c(emu):
    with tccvm.Client(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region="ap-guangzhou",
        endpoint=emu.endpoint,
    ) as client:
        yield client


def one(c, iid):
    out = c.call("DescribeInstances", {"InstanceIds": [iid]})
    assert out["TotalCount"] == len(out["InstanceSet"])
    return out["InstanceSet"][0] if out["InstanceSet"] else None


def listed(c, iid):
    """The instance as the unfiltered list shows it (the same cached fragment)."""
    out = c.call("DescribeInstances", {"Limit": 100})
    return next((i for i in out["InstanceSet"] if i["InstanceId"] == iid), None)


def settle(c, iid, state, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = one(c, iid)
        if (got and got["InstanceState"]) == state:
            return got
        time.sleep(0.02)
    raise AssertionError(f"{iid} never reached {state}")


def test_every_change_shows_up_in_the_next_describe(emu, c):
    (iid,) = c.call(
        "RunInstances",
        {
            "Placement": {"Zone": ZONE},
            "ImageId": IMAGE,
            "InstanceName": "first",
            "DataDisks": [{"DiskType": "CLOUD_PREMIUM", "DiskSize": 50}],
            "InternetAccessible": {"InternetMaxBandwidthOut": 5},
            "TagSpecification": [
                {"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "a"}]}
            ],
        },
    )["InstanceIdSet"]
    first = one(c, iid)
    assert first["InstanceState"] == "PENDING"
    assert first["InstanceName"] == "first"
    assert first["Tags"] == [{"Key": "team", "Value": "a"}]
    assert [d["DiskSize"] for d in first["DataDisks"]] == [50]
    assert (
        first["PublicIpAddresses"] and first["InternetAccessible"]["PublicIpAssigned"]
    )
    assert first["PrivateIpAddresses"] and first["ExpiredTime"] is None
    assert listed(c, iid) == first

    # A transition due by its timer, with no action in between.
    time.sleep(STEP * 2)
    assert one(c, iid)["InstanceState"] == "RUNNING"

    def changed(action, params, check):
        before = one(c, iid)
        assert listed(c, iid) == before
        c.call(action, dict(params, InstanceIds=[iid]))
        after = one(c, iid)
        check(after)
        assert listed(c, iid) == after
        return after

    changed(
        "ModifyInstancesAttribute",
        {"InstanceName": "renamed"},
        lambda i: i["InstanceName"] == "renamed" or pytest.fail(str(i)),
    )
    changed(
        "ModifyInstancesAttribute",
        {"SecurityGroups": ["sg-12345678"]},
        lambda i: i["SecurityGroupIds"] == ["sg-12345678"] or pytest.fail(str(i)),
    )
    changed(
        "ModifyInstancesProject",
        {"ProjectId": 7},
        lambda i: i["Placement"]["ProjectId"] == 7 or pytest.fail(str(i)),
    )
    changed(
        "ResetInstancesInternetMaxBandwidth",
        {"InternetAccessible": {"InternetMaxBandwidthOut": 9}},
        lambda i: (
            i["InternetAccessible"]["InternetMaxBandwidthOut"] == 9
            or pytest.fail(str(i))
        ),
    )
    prepaid = changed(
        "ModifyInstancesChargeType",
        {"InstanceChargeType": "PREPAID", "InstanceChargePrepaid": {"Period": 1}},
        lambda i: (
            (i["InstanceChargeType"] == "PREPAID" and i["ExpiredTime"])
            or pytest.fail(str(i))
        ),
    )
    changed(
        "RenewInstances",
        {"InstanceChargePrepaid": {"Period": 2}},
        lambda i: i["ExpiredTime"] > prepaid["ExpiredTime"] or pytest.fail(str(i)),
    )
    changed(
        "ModifyInstancesRenewFlag",
        {"RenewFlag": "NOTIFY_AND_AUTO_RENEW"},
        lambda i: i["RenewFlag"] == "NOTIFY_AND_AUTO_RENEW" or pytest.fail(str(i)),
    )

    # Stop: STOPPING now, STOPPED by the timer.
    changed(
        "StopInstances",
        {},
        lambda i: i["InstanceState"] == "STOPPING" or pytest.fail(str(i)),
    )
    settle(c, iid, "STOPPED")
    changed(
        "ResetInstancesType",
        {"InstanceType": "S1.MEDIUM4"},
        lambda i: (
            (i["InstanceType"], i["CPU"], i["Memory"]) == ("S1.MEDIUM4", 2, 4)
            or pytest.fail(str(i))
        ),
    )
    before = one(c, iid)
    c.call("ResizeInstanceDisks", {"InstanceId": iid, "DataDisks": [{"DiskSize": 100}]})
    assert [d["DiskSize"] for d in one(c, iid)["DataDisks"]] == [100]
    assert before["DataDisks"][0]["DiskSize"] == 50

    key = c.call("CreateKeyPair", {"KeyName": "cachekey", "ProjectId": 0})["KeyPair"][
        "KeyId"
    ]
    changed(
        "AssociateInstancesKeyPairs",
        {"KeyIds": [key]},
        lambda i: i["LoginSettings"]["KeyIds"] == [key] or pytest.fail(str(i)),
    )
    changed(
        "DisassociateInstancesKeyPairs",
        {"KeyIds": [key]},
        lambda i: i["LoginSettings"]["KeyIds"] == [] or pytest.fail(str(i)),
    )
    c.call("AssociateInstancesKeyPairs", {"InstanceIds": [iid], "KeyIds": [key]})
    assert one(c, iid)["LoginSettings"]["KeyIds"] == [key]
    c.call("DeleteKeyPairs", {"KeyIds": [key]})
    assert one(c, iid)["LoginSettings"]["KeyIds"] == []

    changed(
        "StartInstances",
        {},
        lambda i: i["InstanceState"] == "STARTING" or pytest.fail(str(i)),
    )
    settle(c, iid, "RUNNING")
    before = one(c, iid)
    c.call("ResetInstance", {"InstanceId": iid, "ImageId": OTHER_IMAGE})
    after = one(c, iid)
    assert (before["ImageId"], after["ImageId"]) == (IMAGE, OTHER_IMAGE)
    assert after["InstanceState"] == "REBOOTING" and after["OsName"] != before["OsName"]
    settle(c, iid, "RUNNING")

    changed(
        "TerminateInstances",
        {},
        lambda i: i["InstanceState"] == "TERMINATING" or pytest.fail(str(i)),
    )
    deadline = time.monotonic() + 10
    while one(c, iid) is not None:
        assert time.monotonic() < deadline, "never terminated"
        time.sleep(0.02)
    assert listed(c, iid) is None


def test_launch_failures_and_reset(emu, c):
    emu.fail_next_launches(1)
    (iid,) = c.call("RunInstances", {"Placement": {"Zone": ZONE}, "ImageId": IMAGE})[
        "InstanceIdSet"
    ]
    assert one(c, iid)["InstanceState"] == "PENDING"
    settle(c, iid, "LAUNCH_FAILED")
    emu.reset()
    assert c.call("DescribeInstances", {})["InstanceSet"] == []
