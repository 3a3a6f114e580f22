"""The current instance surface against the emulator (issue 14): DryRun, launch templates,
launch protection, scheduled action timers, and the realistic current calls through tccvm's
typed methods; the vendor's current SDK parses every answer of the new actions."""

from __future__ import annotations

import datetime
import json
import time

import pytest
import tccvm
from tccvm.emulator import Emulator
from test_emulator_client import code_of

pytestmark = pytest.mark.timeout(120)

ZONE = "ap-guangzhou-6"  # a zone of the current examples
IMAGE = "img-pmqg1cw7"


@pytest.fixture(scope="module")
def emu():
    with Emulator(transition_seconds=0.05, seed=14) as e:
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


def wait_state(c, iid, state, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = c.describe_instances(InstanceIds=[iid])["InstanceSet"]
        if s and s[0]["InstanceState"] == state:
            return
        time.sleep(0.05)
    raise AssertionError(f"{iid} never reached {state}")


def launch(c, **kw):
    (iid,) = c.run_instances(Placement={"Zone": ZONE}, ImageId=IMAGE, **kw)[
        "InstanceIdSet"
    ]
    wait_state(c, iid, "RUNNING")
    return iid


def test_dry_run_changes_nothing(emu, c):
    before_ids = c.describe_instances(Limit=100)["TotalCount"]
    before = emu.stats()
    assert (
        code_of(
            lambda: c.run_instances(
                Placement={"Zone": ZONE}, ImageId=IMAGE, DryRun=True
            )
        )
        == "DryRunOperation"
    )
    assert (
        code_of(
            lambda: c.create_launch_template(
                LaunchTemplateName="dry",
                Placement={"Zone": ZONE},
                ImageId=IMAGE,
                DryRun=True,
            )
        )
        == "DryRunOperation"
    )
    # the real error when the request would fail
    assert (
        code_of(
            lambda: c.run_instances(
                Placement={"Zone": "ap-beijing-1"}, ImageId=IMAGE, DryRun=True
            )
        )
        == "InvalidZone.MismatchRegion"
    )
    after = emu.stats()
    assert c.describe_instances(Limit=100)["TotalCount"] == before_ids
    assert c.describe_launch_templates()["TotalCount"] == 0
    assert after["launches"] == before["launches"]


def test_launch_from_template(c):
    lt = c.create_launch_template(
        LaunchTemplateName="web",
        Placement={"Zone": ZONE},
        ImageId=IMAGE,
        InstanceType="S1.SMALL2",
        DisableApiTermination=True,
    )["LaunchTemplateId"]
    v2 = c.create_launch_template_version(
        LaunchTemplateId=lt,
        Placement={"Zone": ZONE},
        LaunchTemplateVersion=1,
        InstanceType="S1.MEDIUM4",
    )["LaunchTemplateVersionNumber"]
    assert v2 == 2
    (iid,) = c.run_instances(LaunchTemplate={"LaunchTemplateId": lt})["InstanceIdSet"]
    (inst,) = c.describe_instances(InstanceIds=[iid])["InstanceSet"]
    assert (inst["InstanceType"], inst["Placement"]["Zone"], inst["ImageId"]) == (
        "S1.SMALL2",
        ZONE,
        IMAGE,
    )
    (iid2,) = c.run_instances(
        LaunchTemplate={"LaunchTemplateId": lt, "LaunchTemplateVersion": 2},
        InstanceName="override",
    )["InstanceIdSet"]
    (inst2,) = c.describe_instances(InstanceIds=[iid2])["InstanceSet"]
    assert (inst2["InstanceType"], inst2["InstanceName"]) == ("S1.MEDIUM4", "override")
    wait_state(c, iid, "RUNNING")
    # the template's DisableApiTermination protects the instance
    assert (
        code_of(lambda: c.terminate_instances(InstanceIds=[iid]))
        == "UnsupportedOperation.InstancesProtected"
    )
    c.modify_instances_attribute(InstanceIds=[iid], DisableApiTermination=False)
    c.terminate_instances(InstanceIds=[iid])
    c.modify_launch_template_default_version(LaunchTemplateId=lt, DefaultVersion=2)
    c.delete_launch_template_versions(LaunchTemplateId=lt, LaunchTemplateVersions=[1])
    vs = c.describe_launch_template_versions(LaunchTemplateId=lt)[
        "LaunchTemplateVersionSet"
    ]
    assert [(v["LaunchTemplateVersion"], v["IsDefaultVersion"]) for v in vs] == [
        (2, True)
    ]
    c.delete_launch_template(LaunchTemplateId=lt)
    assert code_of(
        lambda: c.run_instances(LaunchTemplate={"LaunchTemplateId": lt})
    ) == ("ResourceNotFound")


def test_protection_on_run_and_modify(c):
    iid = launch(c, DisableApiTermination=True)
    assert (
        code_of(lambda: c.terminate_instances(InstanceIds=[iid]))
        == "UnsupportedOperation.InstancesProtected"
    )
    c.modify_instances_attribute(InstanceIds=[iid], DisableApiTermination=False)
    c.terminate_instances(InstanceIds=[iid])


def test_action_timer_fires(emu, c):
    iid = launch(c)
    now = int(time.time())
    at = datetime.datetime.fromtimestamp(now + 2, datetime.timezone.utc)
    (tid,) = c.import_instances_action_timer(
        InstanceIds=[iid],
        ActionTimer={
            "TimerAction": "StopInstances",
            "ActionTime": at.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )["ActionTimerIds"]
    assert (
        c.describe_instances(InstanceIds=[iid])["InstanceSet"][0]["InstanceState"]
        == "RUNNING"
    )
    time.sleep(3.1)
    wait_state(c, iid, "STOPPED")
    (t,) = c.describe_instances_action_timer(ActionTimerIds=[tid])["ActionTimers"]
    assert t["Status"] == "DONE"


def test_account_quota_counts_what_runs(c):
    def used():
        q = c.describe_account_quota(Filters=[{"Name": "zone", "Values": [ZONE]}])
        (post,) = q["AccountQuotaOverview"]["AccountQuota"]["PostPaidQuotaSet"]
        return post["UsedQuota"]

    n = used()
    launch(c)
    assert used() == n + 1


def test_describe_shows_the_current_members(c):
    """DescribeInstances shows what the instance was launched with, and every member the
    Instance type always returns."""
    hpc = c.create_hpc_cluster(Zone=ZONE, Name="h")["HpcClusterSet"][0]["HpcClusterId"]
    iid = launch(
        c,
        DisableApiTermination=True,
        CamRoleName="cvm-role",
        HpcClusterId=hpc,
        HostName="web-1",
        DedicatedClusterId="cluster-abcdefgh",
        DataDisks=[{"DiskSize": 50, "Encrypt": True, "DeleteWithInstance": False}],
    )
    (i,) = c.describe_instances(InstanceIds=[iid])["InstanceSet"]
    assert i["DisableApiTermination"] is True and i["CamRoleName"] == "cvm-role"
    assert (i["HpcClusterId"], i["HostName"]) == (hpc, "web-1")
    assert i["DedicatedClusterId"] == "cluster-abcdefgh" and len(i["Uuid"]) == 36
    assert i["DataDisks"][0]["Encrypt"] is True
    assert i["DataDisks"][0]["DeleteWithInstance"] is False
    assert i["StopChargingMode"] == "NOT_APPLICABLE" and i["DefaultLoginUser"] == "root"
    required = [
        m["name"]
        for m in tccvm._methods.MODEL["shapes"]["Instance"]["members"]
        if m["output_required"]
    ]
    assert not [k for k in required if k not in i]
    got = c.describe_hpc_clusters(HpcClusterIds=[hpc])["HpcClusterSet"][0]
    assert iid in got["InstanceIds"]
    c.modify_instances_attribute(InstanceIds=[iid], DisableApiTermination=False)
    (i,) = c.describe_instances(InstanceIds=[iid])["InstanceSet"]
    assert i["DisableApiTermination"] is False


def test_hpc_cluster_is_checked_on_launch(c):
    hpc = c.create_hpc_cluster(Zone=ZONE, Name="z")["HpcClusterSet"][0]["HpcClusterId"]
    run = {"ImageId": IMAGE, "HpcClusterId": hpc}
    assert (
        code_of(lambda: c.run_instances(Placement={"Zone": "ap-guangzhou-7"}, **run))
        == "InvalidParameterValue.HpcClusterIdZoneIdNotMatch"
    )
    gone = dict(run, HpcClusterId="hpc-zzzzzzzz")
    assert (
        code_of(lambda: c.run_instances(Placement={"Zone": ZONE}, **gone))
        == "ResourceNotFound.HpcCluster"
    )


def test_realistic_current_calls(c):
    iid = launch(c)
    hpc = c.create_hpc_cluster(Zone=ZONE, Name="r")["HpcClusterSet"][0]["HpcClusterId"]
    calls = [
        lambda: c.run_instances(
            Placement={"Zone": ZONE}, ImageId=IMAGE, DisableApiTermination=True
        ),
        lambda: c.run_instances(
            Placement={"Zone": ZONE}, ImageId=IMAGE, CamRoleName="cvm-role"
        ),
        lambda: c.run_instances(
            Placement={"Zone": ZONE}, ImageId=IMAGE, HpcClusterId=hpc
        ),
        lambda: c.run_instances(
            Placement={"Zone": ZONE},
            ImageId=IMAGE,
            DataDisks=[
                {
                    "DiskSize": 50,
                    "DiskType": "CLOUD_PREMIUM",
                    "Encrypt": True,
                    "DeleteWithInstance": True,
                }
            ],
        ),
        lambda: c.modify_instances_attribute(
            InstanceIds=[iid], DisableApiTermination=True
        ),
        lambda: c.modify_instances_attribute(
            InstanceIds=[iid], DisableApiTermination=False
        ),
        lambda: c.terminate_instances(InstanceIds=[iid], ReleaseAddress=True),
        lambda: c.create_key_pair(
            KeyName="tagged",
            ProjectId=0,
            TagSpecification=[
                {"ResourceType": "keypair", "Tags": [{"Key": "team", "Value": "a"}]}
            ],
        ),
    ]
    for fn in calls:
        assert fn()["RequestId"]


NEW_ACTIONS = [
    "CreateLaunchTemplate",
    "CreateLaunchTemplateVersion",
    "DeleteLaunchTemplate",
    "DeleteLaunchTemplateVersions",
    "DescribeLaunchTemplates",
    "DescribeLaunchTemplateVersions",
    "ModifyLaunchTemplateDefaultVersion",
    "DescribeInstancesAttributes",
    "AssociateSecurityGroups",
    "DisassociateSecurityGroups",
    "ImportInstancesActionTimer",
    "DescribeInstancesActionTimer",
    "DeleteInstancesActionTimer",
    "EnterRescueMode",
    "ExitRescueMode",
    "ModifyInstanceDiskType",
    "ModifyInstancesVpcAttribute",
    "ConvertOperatingSystems",
    "DescribeInstancesModification",
    "DescribeInstancesOperationLimit",
    "ModifyInstancesDisasterRecoverGroup",
    "DeleteInstancesDisasterRecoverGroups",
    "DescribeAccountQuota",
    "InquiryPriceTerminateInstances",
]


def test_vendor_sdk_drives_and_parses_the_new_actions(emu):
    """The scenarios of test_emulator_actions, through the vendor's current SDK; every answer
    deserializes into its current response model."""
    pytest.importorskip("tencentcloud.cvm.v20170312")
    import test_emulator_actions as t
    from tencentcloud.cvm.v20170312 import models

    w = t.World(emu, t.vendor(emu))
    for a in NEW_ACTIONS:
        t.SCENARIOS[t.snake(a)](w)
        resp = getattr(models, a + "Response")()
        resp._deserialize(json.loads(json.dumps(t.RESPONSES[a])))
        assert resp.RequestId


def test_every_error_answered_is_documented(emu):
    """Runs last in this module: the errors above were all documented or common codes."""
    assert emu.stats()["undocumented_errors"] == {}
