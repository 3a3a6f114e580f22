"""Fidelity of the emulator to the reference, through tccvm's own client (and the vendor's
SDK where it helps): addresses of batch launches, Finance-region domains, instance states."""

from __future__ import annotations

import ipaddress

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

ZONE = "ap-guangzhou-2"
IMAGE = "img-pmqg1cw7"


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
        "max_attempts": 1,
    }
    args.update(kw)
    return tccvm.Client(**args)


def code_of(fn):
    with pytest.raises(tccvm.TencentCloudError) as ei:
        fn()
    return ei.value.code, ei.value.message


# -- RunInstances: every instance of a batch has its own private address -----------------


def private_ips(c, ids):
    out = c.describe_instances(InstanceIds=ids, Limit=100)["InstanceSet"]
    assert sorted(i["InstanceId"] for i in out) == sorted(ids)
    return {i["InstanceId"]: i["PrivateIpAddresses"] for i in out}


def test_batch_launch_gives_each_instance_its_own_private_ip(emu):
    with client(emu) as c:
        first = c.run_instances(
            Placement={"Zone": ZONE},
            ImageId=IMAGE,
            InstanceCount=5,
            InternetAccessible={"InternetMaxBandwidthOut": 5},
        )["InstanceIdSet"]
        second = c.run_instances(
            Placement={"Zone": ZONE}, ImageId=IMAGE, InstanceCount=3
        )["InstanceIdSet"]
        with client(emu, region="ap-shanghai") as other:
            third = other.run_instances(
                Placement={"Zone": "ap-shanghai-2"}, ImageId=IMAGE, InstanceCount=2
            )["InstanceIdSet"]
            ips = private_ips(other, third)
        ips.update(private_ips(c, first + second))
        assert all(len(v) == 1 for v in ips.values()), ips
        flat = [v[0] for v in ips.values()]
        # unique across the emulator's instances, every region included
        assert len(set(flat)) == len(flat) == 10, ips
        for ip in flat:
            addr = ipaddress.ip_address(ip)
            assert addr.is_private and ip.rsplit(".", 1)[1] not in ("0", "1", "255")
        # each address finds exactly its own instance
        for iid in first:
            (ip,) = ips[iid]
            got = c.describe_instances(
                Filters=[{"Name": "private-ip-address", "Values": [ip]}]
            )["InstanceSet"]
            assert [i["InstanceId"] for i in got] == [iid]
        # and the public addresses differ too
        public = c.describe_instances(InstanceIds=first)["InstanceSet"]
        assert len({i["PublicIpAddresses"][0] for i in public}) == 5


def test_generated_addresses_skip_ones_given_explicitly(emu):
    vpc = {"VpcId": "vpc-12345678", "SubnetId": "subnet-12345678"}
    with client(emu) as c:
        # take the addresses the sequence would hand out next
        (mine,) = c.run_instances(
            Placement={"Zone": ZONE},
            ImageId=IMAGE,
            VirtualPrivateCloud={**vpc, "PrivateIpAddresses": ["10.0.0.3"]},
        )["InstanceIdSet"]
        batch = c.run_instances(
            Placement={"Zone": ZONE},
            ImageId=IMAGE,
            InstanceCount=3,
            VirtualPrivateCloud=vpc,
        )["InstanceIdSet"]
        ips = private_ips(c, [mine, *batch])
        flat = [v[0] for v in ips.values()]
        assert ips[mine] == ["10.0.0.3"]
        assert len(set(flat)) == 4, ips
        # the VPC view lists the same address
        for i in c.describe_instances(InstanceIds=batch)["InstanceSet"]:
            assert (
                i["VirtualPrivateCloud"]["PrivateIpAddresses"]
                == i["PrivateIpAddresses"]
            )
        # one address asked for twice in a batch is refused, nothing is launched
        before = c.describe_instances()["TotalCount"]
        code, _ = code_of(
            lambda: c.run_instances(
                Placement={"Zone": ZONE},
                ImageId=IMAGE,
                InstanceCount=2,
                VirtualPrivateCloud={
                    **vpc,
                    "PrivateIpAddresses": ["10.1.2.3", "10.1.2.3"],
                },
            )
        )
        assert code == "VpcIpsUsed"
        assert c.describe_instances()["TotalCount"] == before
