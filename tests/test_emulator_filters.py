"""Every filter name the model lists for an action is accepted by the emulator and filters:
a value that matches a resource keeps it, one that does not drops it. The list of actions and
of their filter names comes from the model, so a filter added to the model fails here until
the emulator (and the table below) knows it. Unknown names are refused with `InvalidFilter`.

`tag-key`, `tag-value` and `tag:<key>` (the model's `tag:tag-key`) are checked on the resource
each action's setup creates with TAGS; `sort-keys` orders instead of selecting."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(120)

ZONE, OTHER_ZONE, IMAGE = "ap-guangzhou-6", "ap-guangzhou-7", "img-pmqg1cw7"
TAGS = [{"Key": "team", "Value": "blue"}]
SPEC = [{"ResourceType": "instance", "Tags": TAGS}]
TAG_FILTERS = {"tag-key", "tag-value", "tag:tag-key"}
VPC = {"VpcId": "vpc-abcdefgh", "SubnetId": "subnet-abcdefgh", "Ipv6AddressCount": 1}
CDC = "cluster-abcdefgh"
MODEL = json.loads(
    (
        Path(__file__).resolve().parents[1]
        / "crates/core/src/model/cvm-2017-03-12.json"
    ).read_text(encoding="utf-8")
)
MISS = "no-such-value"


def same(v):
    """A filter whose match is the item's own value, and whose miss is MISS."""
    return lambda item: (v(item), MISS)


def zone_of(v):
    """A zone filter: the item's zone, or another zone of the region (a zone outside it is
    an error, not a miss)."""

    def f(item):
        z = v(item)
        return z, OTHER_ZONE if z != OTHER_ZONE else ZONE

    return f


def dig(*path):
    def get(item):
        for p in path:
            item = item[p]
        return item

    return get


def first(*path):
    return lambda item: dig(*path)(item)[0]


def ts(secs):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(secs))


class Case:
    """How to list one action's resources and what each filter is matched against.

    params: the request without filters (plus `Filters` an action requires); items: the list
    in the answer; key: a resource's identity; subject: the key of the resource made for the
    test (with TAGS), else the first listed; values: filter name -> item -> (match, miss)."""

    def __init__(self, items, key, values, params=None, subject=None):
        self.items, self.key, self.values = items, key, values
        self.params, self.subject = params or {}, subject


def quota_items(r):
    """The per-zone quota rows, each with the name of its set (the `quota-type`)."""
    quota = r["AccountQuotaOverview"]["AccountQuota"]
    return [
        dict(v, QuotaType=k)
        for k, vs in sorted(quota.items())
        for v in vs
        if "Zone" in v
    ]


def other(v, a, b):
    """`a`, or `b` where the item's value is `a`: a miss for a filter of known values."""
    return lambda item: (v(item), b if v(item) == a else a)


@pytest.fixture(scope="module")
def env():
    with Emulator(transition_seconds=0.05) as emu:
        c = tccvm.Client(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region="ap-guangzhou",
            endpoint=emu.endpoint,
        )
        w = {}
        w["host"] = c.call(
            "AllocateHosts",
            {
                "Placement": {"Zone": ZONE},
                "HostChargePrepaid": {"Period": 1},
                "HostType": "HC20",
                "TagSpecification": SPEC,
            },
        )["HostIdSet"][0]
        hpc = c.call(
            "CreateHpcCluster", {"Zone": ZONE, "Name": "f", "TagSpecification": SPEC}
        )
        w["hpc"] = hpc["HpcClusterSet"][0]["HpcClusterId"]
        w["ins"] = c.call(
            "RunInstances",
            {
                "Placement": {"Zone": ZONE, "HostIds": [w["host"]]},
                "ImageId": IMAGE,
                "VirtualPrivateCloud": VPC,
                "SecurityGroupIds": ["sg-abcdefgh"],
                "InternetAccessible": {"InternetMaxBandwidthOut": 1},
                "TagSpecification": SPEC,
                "DedicatedClusterId": CDC,
                "HpcClusterId": w["hpc"],
            },
        )["InstanceIdSet"][0]
        c.call("RunInstances", {"Placement": {"Zone": OTHER_ZONE}, "ImageId": IMAGE})
        c.wait("instance_running", interval=0.05, InstanceIds=[w["ins"]])
        w["img"] = c.call(
            "CreateImage",
            {
                "InstanceId": w["ins"],
                "ImageName": "filtered-image",
                "ForcePoweroff": "TRUE",
                "TagSpecification": SPEC,
            },
        )["ImageId"]
        c.wait("image_normal", interval=0.05, ImageIds=[w["img"]])
        w["key"] = c.call(
            "CreateKeyPair",
            {"KeyName": "fkey", "ProjectId": 0, "TagSpecification": SPEC},
        )["KeyPair"]["KeyId"]
        c.call("CreateKeyPair", {"KeyName": "other", "ProjectId": 0})
        w["group"] = c.call(
            "CreateDisasterRecoverGroup",
            {"Name": "f", "Type": "HOST", "TagSpecification": SPEC},
        )["DisasterRecoverGroupId"]
        c.call("CreateDisasterRecoverGroup", {"Name": "g", "Type": "RACK"})
        w["lt"] = c.call(
            "CreateLaunchTemplate",
            {
                "LaunchTemplateName": "flt",
                "Placement": {"Zone": ZONE},
                "ImageId": IMAGE,
                "LaunchTemplateTagSpecification": SPEC,
            },
        )["LaunchTemplateId"]
        chc = c.call("DescribeChcHosts", {"Limit": 100})["ChcHostSet"]
        w["chc"] = chc[0]["ChcId"]
        bmc = {"VpcId": "vpc-b9y7wgix", "SubnetId": "subnet-hmpeps7u"}
        c.call(
            "ConfigureChcAssistVpc",
            {"ChcIds": [w["chc"]], "BmcVirtualPrivateCloud": bmc},
        )
        pool = {
            "Zone": ZONE,
            "InstanceType": "S9.8XLARGE64",
            "InstanceCount": 1,
            "Period": 1,
        }
        w["pack"] = c.call("PurchaseResourcePoolPacks", pool)[
            "DedicatedResourcePackIdSet"
        ][0]
        c.call("PurchaseResourcePoolPacks", dict(pool, Zone=OTHER_ZONE))
        yield c, w
        c.close()


def cases(w):
    now = time.time()
    return {
        "DescribeInstances": Case(
            lambda r: r["InstanceSet"],
            dig("InstanceId"),
            {
                "zone": zone_of(dig("Placement", "Zone")),
                "project-id": lambda i: (str(i["Placement"]["ProjectId"]), "999"),
                "host-id": lambda i: (
                    i["Placement"]["HostId"] or None,
                    "host-zzzzzzzz",
                ),
                "dedicated-cluster-id": same(dig("DedicatedClusterId")),
                "vpc-id": same(dig("VirtualPrivateCloud", "VpcId")),
                "subnet-id": same(dig("VirtualPrivateCloud", "SubnetId")),
                "instance-id": same(dig("InstanceId")),
                "uuid": same(dig("Uuid")),
                "security-group-id": same(first("SecurityGroupIds")),
                "instance-name": same(dig("InstanceName")),
                "instance-charge-type": lambda i: (i["InstanceChargeType"], "PREPAID"),
                "instance-state": other(dig("InstanceState"), "STOPPED", "RUNNING"),
                "private-ip-address": same(first("PrivateIpAddresses")),
                "public-ip-address": same(first("PublicIpAddresses")),
                "ipv6-address": same(first("IPv6Addresses")),
                "creation-start-time": lambda i: (ts(now - 3600), ts(now + 3600)),
                "creation-end-time": lambda i: (ts(now + 3600), ts(now - 3600)),
            },
            subject=w["ins"],
        ),
        "DescribeImages": Case(
            lambda r: r["ImageSet"],
            dig("ImageId"),
            {
                "image-id": same(dig("ImageId")),
                "image-type": lambda i: (i["ImageType"], "SHARED_IMAGE"),
                # fuzzy: a part of the name, of the platform in another case
                "image-name": lambda i: (i["ImageName"][2:-2], MISS),
                "platform": lambda i: (i["Platform"].upper()[:3], MISS),
                "dedicated-cluster-id": lambda i: (CDC, "cluster-zzzzzzzz"),
                "cdc-cache-status": lambda i: (i["CdcCacheStatus"], "CACHING"),
            },
            params={"Limit": 100},
            subject=w["img"],
        ),
        "DescribeKeyPairs": Case(
            lambda r: r["KeyPairSet"],
            dig("KeyId"),
            {
                "project-id": lambda k: (str(k["ProjectId"]), "999"),
                "key-name": same(dig("KeyName")),
            },
            subject=w["key"],
        ),
        "DescribeHosts": Case(
            lambda r: r["HostSet"],
            dig("HostId"),
            {
                "zone": zone_of(dig("Placement", "Zone")),
                "project-id": lambda h: (str(h["Placement"]["ProjectId"]), "999"),
                "host-id": lambda h: (h["HostId"], "host-zzzzzzzz"),
                "host-name": same(dig("HostName")),
                "host-state": lambda h: (h["HostState"], "EXPIRED"),
                "host-type": lambda h: (h["HostType"], "HS10"),
            },
            subject=w["host"],
        ),
        "DescribeDisasterRecoverGroups": Case(
            lambda r: r["DisasterRecoverGroupSet"],
            dig("DisasterRecoverGroupId"),
            {},
            subject=w["group"],
        ),
        "DescribeHpcClusters": Case(
            lambda r: r["HpcClusterSet"], dig("HpcClusterId"), {}, subject=w["hpc"]
        ),
        "DescribeLaunchTemplates": Case(
            lambda r: r["LaunchTemplateSet"],
            dig("LaunchTemplateId"),
            {"LaunchTemplateName": same(dig("LaunchTemplateName"))},
            subject=w["lt"],
        ),
        "DescribeInstanceTypeConfigs": Case(
            lambda r: r["InstanceTypeConfigSet"],
            lambda t: (t["Zone"], t["InstanceType"]),
            {
                "zone": zone_of(dig("Zone")),
                "instance-family": lambda t: (t["InstanceFamily"], "ZZ9"),
                "instance-type": lambda t: (t["InstanceType"], "ZZ9.SMALL1"),
            },
        ),
        "DescribeZoneInstanceConfigInfos": Case(
            lambda r: r["InstanceTypeQuotaSet"],
            lambda t: (t["Zone"], t["InstanceType"], t["InstanceChargeType"]),
            {
                "zone": zone_of(dig("Zone")),
                "instance-family": lambda t: (t["InstanceFamily"], "ZZ9"),
                "instance-type": other(dig("InstanceType"), "S5.MEDIUM4", "S1.SMALL1"),
                "instance-charge-type": lambda t: (t["InstanceChargeType"], "SPOTPAID"),
                "sort-keys": "sorts",
            },
        ),
        "DescribeAccountQuota": Case(
            quota_items,
            lambda q: (q["QuotaType"], q.get("Zone")),
            {
                "zone": zone_of(dig("Zone")),
                "quota-type": lambda q: (q["QuotaType"], "NoSuchQuotaSet"),
            },
        ),
        "DescribeInstancesModification": Case(
            lambda r: r["InstanceTypeConfigStatusSet"],
            lambda s: s["InstanceTypeConfig"]["InstanceType"],
            {"status": lambda s: (s["Status"], "SOLD_OUT")},
            params={"InstanceIds": [w["ins"]]},
        ),
        "DescribeChcHosts": Case(
            lambda r: r["ChcHostSet"],
            dig("ChcId"),
            {
                "zone": zone_of(dig("Placement", "Zone")),
                "instance-name": same(dig("InstanceName")),
                "instance-state": lambda h: (h["InstanceState"], "PREPARED"),
                "device-type": same(dig("DeviceType")),
                "vpc-id": same(dig("BmcVirtualPrivateCloud", "VpcId")),
                "subnet-id": same(dig("BmcVirtualPrivateCloud", "SubnetId")),
                "sn": same(dig("SerialNumber")),
            },
            params={"Limit": 100},
            subject=w["chc"],
        ),
        "DescribeResourcePoolPackTypeConfigs": Case(
            lambda r: r["InstanceTypeConfigSet"],
            lambda t: (t["Zone"], t["InstanceType"]),
            {
                "zone": zone_of(dig("Zone")),
                "instance-family": lambda t: (t["InstanceFamily"], "ZZ9"),
                "instance-type": lambda t: (t["InstanceType"], "ZZ9.SMALL1"),
            },
            params={"Filters": []},
        ),
        "DescribeResourcePoolPacks": Case(
            lambda r: r["DedicatedResourcePackSet"],
            dig("DedicatedResourcePackId"),
            {
                "dedicated-resource-pack-id": same(dig("DedicatedResourcePackId")),
                "zone": zone_of(dig("Zone")),
                "instance-family": lambda p: (p["InstanceFamily"], "ZZ9"),
                "instance-type": lambda p: (p["InstanceType"], "ZZ9.SMALL1"),
                "status": lambda p: (p["Status"], "EXPIRED"),
            },
            params={"MaxResults": 100},
            subject=w["pack"],
        ),
    }


FILTERED = sorted(
    (a, n)
    for a, spec in MODEL["actions"].items()
    for names in spec.get("filters", {}).values()
    for n in names
)


def test_the_table_covers_every_filter_of_the_model(env):
    """A filter the model adds fails here until the emulator and the table know it."""
    table = cases(env[1])
    model = {a for a, _ in FILTERED}
    assert model == set(table), model ^ set(table)
    for action, case in table.items():
        names = set(MODEL["actions"][action]["filters"]["Filters"])
        assert names - TAG_FILTERS == set(case.values), action
        if names & TAG_FILTERS:
            assert case.subject, f"{action}: no tagged resource to match tag filters"
    assert len(FILTERED) >= 79  # the current description: 14 actions, 79 names


def listing(c, action, case, extra=None):
    params = json.loads(json.dumps(case.params))
    if extra is not None:
        params["Filters"] = params.get("Filters", []) + [extra]
    return [case.key(i) for i in case.items(c.call(action, params))]


@pytest.mark.parametrize(
    ("action", "name"), FILTERED, ids=[f"{a}:{n}" for a, n in FILTERED]
)
def test_filter_keeps_and_drops(env, action, name):
    c, w = env
    case = cases(w)[action]
    base = case.items(c.call(action, json.loads(json.dumps(case.params))))
    assert base, f"{action} lists nothing to filter"
    if name == "sort-keys":
        for order in ("cpu:desc", "mem:asc"):
            got = case.items(
                c.call(action, {"Filters": [{"Name": "sort-keys", "Values": [order]}]})
            )
            field = "Cpu" if order.startswith("cpu") else "Memory"
            values = [i[field] for i in got]
            assert values == sorted(values, reverse=order.endswith("desc")), order
            assert len(got) == len(base)
        with pytest.raises(tccvm.TencentCloudError) as ei:
            c.call(action, {"Filters": [{"Name": "sort-keys", "Values": ["cpu:up"]}]})
        assert ei.value.code == "InvalidParameterValue"
        return
    if name in TAG_FILTERS:
        subject = case.subject
        tag = TAGS[0]
        n = {"tag:tag-key": f"tag:{tag['Key']}"}.get(name, name)
        hit = {"tag-key": tag["Key"]}.get(name, tag["Value"])
        match, miss, fname = hit, MISS, n
    else:
        item = next(
            (i for i in base if case.subject in (None, case.key(i))),
            None,
        )
        assert item is not None, f"{action}: the test's resource is not listed"
        subject = case.key(item)
        match, miss = case.values[name](item)
        assert match is not None, f"{action}:{name}: the resource has no value"
        fname = name
    kept = listing(c, action, case, {"Name": fname, "Values": [match]})
    assert subject in kept, (action, fname, match)
    dropped = listing(c, action, case, {"Name": fname, "Values": [miss]})
    assert subject not in dropped, (action, fname, miss)


@pytest.mark.parametrize("action", sorted({a for a, _ in FILTERED}))
def test_unknown_filter_is_refused(env, action):
    c, w = env
    case = cases(w)[action]
    params = json.loads(json.dumps(case.params))
    params["Filters"] = params.get("Filters", []) + [
        {"Name": "no-such-filter", "Values": ["x"]}
    ]
    with pytest.raises(tccvm.TencentCloudError) as ei:
        c.call(action, params)
    assert ei.value.code == "InvalidFilter"
