"""The vendor's current SDK (typed request and response models of CvmClient) drives the
families of the current description end to end against the emulator: HPC clusters, CHC
hosts, resource pool packs, repair tasks."""

from __future__ import annotations

import pytest

pytest.importorskip("tencentcloud.cvm.v20170312")

from tccvm.emulator import Emulator
from test_vendor_sdk import code_of, typed, vendor

pytestmark = pytest.mark.timeout(60)

ZONE = "ap-guangzhou-2"


@pytest.fixture
def c():
    with Emulator(transition_seconds=0.05, seed=3) as emu:
        yield vendor(emu)


def test_hpc_cluster_lifecycle(c):
    (cl,) = typed(c, "CreateHpcCluster", {"Zone": ZONE, "Name": "hpc-1"})[
        "HpcClusterSet"
    ]
    hid = cl["HpcClusterId"]
    typed(c, "ModifyHpcClusterAttribute", {"HpcClusterId": hid, "Name": "hpc-2"})
    got = typed(c, "DescribeHpcClusters", {"Zone": ZONE})
    assert got["TotalCount"] == 1 and got["HpcClusterSet"][0]["Name"] == "hpc-2"
    typed(c, "DeleteHpcClusters", {"HpcClusterIds": [hid]})
    assert typed(c, "DescribeHpcClusters", {})["TotalCount"] == 0
    gone = {"HpcClusterId": hid, "Name": "x"}
    assert code_of(lambda: typed(c, "ModifyHpcClusterAttribute", gone)) == (
        "ResourceNotFound"
    )


def test_chc_host_moves_through_its_states(c):
    hosts = typed(c, "DescribeChcHosts", {})["ChcHostSet"]
    cid = hosts[0]["ChcId"]
    assert hosts[0]["InstanceState"] == "INIT"
    vpc = {"VpcId": "vpc-b9y7wgix", "SubnetId": "subnet-hmpeps7u"}
    typed(c, "ConfigureChcAssistVpc", {"ChcIds": [cid], "BmcVirtualPrivateCloud": vpc})
    typed(
        c, "ConfigureChcDeployVpc", {"ChcIds": [cid], "DeployVirtualPrivateCloud": vpc}
    )
    flt = {"Filters": [{"Name": "instance-state", "Values": ["PREPARED"]}]}
    assert [h["ChcId"] for h in typed(c, "DescribeChcHosts", flt)["ChcHostSet"]] == [
        cid
    ]
    denied = typed(c, "DescribeChcDeniedActions", {"ChcIds": [cid]})
    assert "ConfigureChcAssistVpc" in denied["ChcHostDeniedActionSet"][0]["DenyActions"]
    typed(c, "RemoveChcDeployVpc", {"ChcIds": [cid]})
    typed(c, "RemoveChcAssistVpc", {"ChcIds": [cid]})
    got = typed(c, "DescribeChcHosts", {"ChcIds": [cid]})["ChcHostSet"][0]
    assert got["InstanceState"] == "INIT"


def test_resource_pool_pack_lifecycle(c):
    order = {
        "Zone": ZONE,
        "InstanceType": "SA5.LARGE8",
        "InstanceCount": 3,
        "Period": 1,
    }
    price = typed(c, "InquirePricePurchaseResourcePoolPacks", order)["Price"]
    assert price["UnitPrice"] > 0
    (pid,) = typed(c, "PurchaseResourcePoolPacks", order)["DedicatedResourcePackIdSet"]
    (pk,) = typed(c, "DescribeResourcePoolPacks", {})["DedicatedResourcePackSet"]
    assert pk["DedicatedResourcePackId"] == pid and pk["TotalCapacity"]["Cpu"] == 12
    inst = typed(
        c, "DescribeResourcePoolPackInstances", {"DedicatedResourcePackIds": [pid]}
    )
    assert inst["DedicatedResourcePackInstanceSet"][0]["InstanceType"] == "SA5.LARGE8"
    typed(c, "TerminateResourcePoolPacks", {"DedicatedResourcePackIds": [pid]})
    assert typed(c, "DescribeResourcePoolPacks", {})["DedicatedResourcePackSet"] == []


def test_repair_task_authorized(c):
    from test_vendor_sdk import call

    (iid,) = call(
        c, "RunInstances", {"Placement": {"Zone": ZONE}, "ImageId": "img-pmqg1cw7"}
    )["InstanceIdSet"]
    (t,) = typed(c, "DescribeTaskInfo", {"Offset": 0, "Limit": 10})["RepairTaskInfoSet"]
    assert t["InstanceId"] == iid and t["TaskStatus"] == 1
    typed(
        c,
        "RepairTaskControl",
        {
            "Product": "CVM",
            "InstanceIds": [iid],
            "TaskId": t["TaskId"],
            "Operate": "AuthorizeRepair",
        },
    )
    (t2,) = typed(c, "DescribeTaskInfo", {"Offset": 0, "Limit": 10, "TaskStatus": [2]})[
        "RepairTaskInfoSet"
    ]
    assert t2["TaskId"] == t["TaskId"]
