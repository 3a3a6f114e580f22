"""Fidelity of the emulator to the reference, through tccvm's own client (and the vendor's
SDK where it helps): addresses of batch launches, Finance-region domains, instance states."""

from __future__ import annotations

import http.client
import ipaddress
import json
import time

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


def code_of(fn, *args, **kw):
    with pytest.raises(tccvm.TencentCloudError) as ei:
        fn(*args, **kw)
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


# -- Finance regions: served only by their own domain, which the request is signed for -----

SIGN_METHODS = ["TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"]
FSI = "ap-shanghai-fsi"
FSI_DOMAIN = f"cvm.{FSI}.tencentcloudapi.com"


def via(emu, host, region, **kw):
    """A client that signs for ``host`` and reaches the emulator through it as a proxy (the
    request carries ``Host: host``, as it would at the service)."""
    return client(
        emu, region=region, endpoint=f"http://{host}", proxy=emu.endpoint, **kw
    )


@pytest.mark.parametrize("http", ["POST", "GET"])
@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_finance_region_at_its_own_domain(emu, sign, http):
    with via(emu, FSI_DOMAIN, FSI, sign_method=sign, http_method=http) as c:
        zones = c.describe_zones()["ZoneSet"]
        assert zones and all(z["Zone"].startswith(FSI + "-") for z in zones)
        (iid,) = c.run_instances(Placement={"Zone": zones[0]["Zone"]}, ImageId=IMAGE)[
            "InstanceIdSet"
        ]
    assert [i["InstanceId"] for i in emu.instances(FSI)] == [iid]
    # the emulator's own address still serves every region, Finance ones included
    with client(emu, region=FSI, sign_method=sign, http_method=http) as c:
        assert c.describe_instances(InstanceIds=[iid])["TotalCount"] == 1


@pytest.mark.parametrize("sign", SIGN_METHODS)
@pytest.mark.parametrize(
    "host,region,names",
    [
        ("cvm.tencentcloudapi.com", FSI, FSI_DOMAIN),
        ("cvm.ap-shanghai.tencentcloudapi.com", FSI, FSI_DOMAIN),
        ("cvm.ap-shenzhen-fsi.tencentcloudapi.com", FSI, FSI_DOMAIN),
        (FSI_DOMAIN, "ap-guangzhou", "cvm.tencentcloudapi.com"),
    ],
)
def test_request_signed_for_a_domain_that_does_not_serve_its_region(
    emu, sign, host, region, names
):
    with via(emu, host, region, sign_method=sign) as c:
        code, message = code_of(lambda: c.describe_zones())
    assert code == "AuthFailure.SignatureFailure"
    assert host in message and names in message and region in message
    assert emu.secret_key not in message
    assert emu.instances(region) == []


def test_other_regions_at_the_general_and_regional_domains(emu):
    for host in ("cvm.tencentcloudapi.com", "cvm.ap-beijing.tencentcloudapi.com"):
        with via(emu, host, "ap-guangzhou") as c:
            assert c.describe_zones()["TotalCount"] == 7
    # DescribeRegions takes no Region: every domain answers it
    with via(emu, FSI_DOMAIN, None) as c:
        assert c.describe_regions()["TotalCount"] > 0


def test_signature_over_another_host_than_the_one_targeted(emu):
    """A TC3 request signed for the Finance domain but sent to the general one (and the
    reverse) fails: the host the signature covers is the one the request was sent to."""
    body = json.dumps({}).encode()
    ts = int(time.time())

    def send(signed_for, sent_to):
        auth = tccvm._core.sign_tc3(
            emu.secret_id,
            emu.secret_key,
            "POST",
            "/",
            "",
            [("content-type", "application/json"), ("host", signed_for)],
            body,
            ts,
        )
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
        try:
            conn.request(
                "POST",
                f"http://{sent_to}/",
                body,
                {
                    "Host": sent_to,
                    "Content-Type": "application/json",
                    "Authorization": auth,
                    "X-TC-Action": "DescribeZones",
                    "X-TC-Version": "2017-03-12",
                    "X-TC-Region": FSI,
                    "X-TC-Timestamp": str(ts),
                },
            )
            return json.loads(conn.getresponse().read())["Response"]
        finally:
            conn.close()

    assert send(FSI_DOMAIN, FSI_DOMAIN)["TotalCount"] == 2
    for signed_for, sent_to in [
        (FSI_DOMAIN, "cvm.tencentcloudapi.com"),
        ("cvm.tencentcloudapi.com", FSI_DOMAIN),
        (FSI_DOMAIN, f"127.0.0.1:{emu.port}"),
    ]:
        err = send(signed_for, sent_to)["Error"]
        assert err["Code"] == "AuthFailure.SignatureFailure", (signed_for, sent_to)


@pytest.mark.parametrize("sign", SIGN_METHODS)
def test_vendor_sdk_finance_domain(emu, sign):
    pytest.importorskip("tencentcloud.cvm")
    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
        TencentCloudSDKException,
    )
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client

    def vendor(host):
        hp = HttpProfile(
            endpoint=host, protocol="http", reqTimeout=10, proxy=emu.endpoint
        )
        cp = ClientProfile(signMethod=sign, httpProfile=hp)
        cred = credential.Credential(emu.secret_id, emu.secret_key)
        return cvm_client.CvmClient(cred, FSI, cp)

    out = vendor(FSI_DOMAIN).call_json("DescribeZones", {})
    assert out["Response"]["TotalCount"] == 2
    with pytest.raises(TencentCloudSDKException) as ei:
        vendor("cvm.tencentcloudapi.com").call_json("DescribeZones", {})
    assert ei.value.get_code() == "AuthFailure.SignatureFailure"
    assert FSI_DOMAIN in ei.value.get_message()


# -- Instance states: only the reference's, along every flow the emulator has ---------------


def documented_states():
    """The values of `Instance.InstanceState`, as the model (from the reference) lists them."""
    shapes = json.loads(tccvm._core.service_model_json())["shapes"]
    (member,) = [
        m for m in shapes["Instance"]["members"] if m["name"] == "InstanceState"
    ]
    return {
        line[2:].split(":", 1)[0].strip()
        for line in member["description"].splitlines()
        if line.startswith("- ")
    }


def test_every_state_shown_is_documented(emu):
    """The reference lists PENDING, LAUNCH_FAILED, RUNNING, STOPPED, STARTING, STOPPING,
    REBOOTING, SHUTDOWN and TERMINATING (no RESETTING: a reinstall shows REBOOTING, the
    reference's "Restarting", then RUNNING). Every flow of the emulator shows only those; SHUTDOWN
    ("to be terminated") is the one no documented flow leads to, so it is never shown."""
    documented = documented_states()
    assert documented == {
        "PENDING",
        "LAUNCH_FAILED",
        "RUNNING",
        "STOPPED",
        "STARTING",
        "STOPPING",
        "REBOOTING",
        "SHUTDOWN",
        "TERMINATING",
    }
    seen: list[tuple[str, str]] = []
    # long enough that a state is still shown by the call right after the action
    emu.set_timers(all=0.5)

    with client(emu) as c:

        def look(iid):
            out = c.describe_instances(InstanceIds=[iid])["InstanceSet"]
            status = c.describe_instances_status(InstanceIds=[iid])["InstanceStatusSet"]
            states = [i["InstanceState"] for i in out]
            seen.extend((iid, s) for s in states)
            seen.extend((iid, s["InstanceState"]) for s in status)
            return states[0] if states else None

        def until(iid, state):
            deadline = time.monotonic() + 10
            while (now := look(iid)) != state:
                assert time.monotonic() < deadline, f"{iid} stuck in {now}"
                time.sleep(0.02)

        def run():
            (iid,) = c.run_instances(Placement={"Zone": ZONE}, ImageId=IMAGE)[
                "InstanceIdSet"
            ]
            return iid

        a = run()
        assert look(a) == "PENDING"
        until(a, "RUNNING")
        c.reboot_instances(InstanceIds=[a])
        assert look(a) == "REBOOTING"
        until(a, "RUNNING")
        c.reset_instance(InstanceId=a)
        assert look(a) == "REBOOTING"
        until(a, "RUNNING")
        c.stop_instances(InstanceIds=[a])
        assert look(a) == "STOPPING"
        until(a, "STOPPED")
        c.reset_instance(InstanceId=a)
        assert look(a) == "REBOOTING"
        until(a, "RUNNING")
        c.stop_instances(InstanceIds=[a])
        until(a, "STOPPED")
        c.start_instances(InstanceIds=[a])
        assert look(a) == "STARTING"
        until(a, "RUNNING")
        c.terminate_instances(InstanceIds=[a])
        assert look(a) == "TERMINATING"
        until(a, None)
        emu.fail_next_launches(1)
        b = run()
        until(b, "LAUNCH_FAILED")
        c.terminate_instances(InstanceIds=[b])
        assert look(b) == "TERMINATING"
        until(b, None)

    shown = {s for _, s in seen}
    assert shown <= documented, shown - documented
    assert documented - shown == {"SHUTDOWN"}


# -- ResetInstance: what the reference says a reinstall does to the system disk -------------

WINDOWS_IMAGE = "img-6pb6lrmy"
DEBIAN_IMAGE = "img-dkwyg6sr"


def running(c, iid):
    c.wait("instance_running", timeout=10, interval=0.02, InstanceIds=[iid])


def system_disk(c, iid):
    (i,) = c.describe_instances(InstanceIds=[iid])["InstanceSet"]
    return i["SystemDisk"], i["OsName"]


def launched(c, disk_type):
    """A Linux instance with a 50 GB system disk of `disk_type`."""
    (iid,) = c.run_instances(
        Placement={"Zone": ZONE},
        ImageId=IMAGE,
        SystemDisk={"DiskType": disk_type, "DiskSize": 50},
    )["InstanceIdSet"]
    return iid


def test_reinstall_system_disk(emu):
    with client(emu) as c:
        iid = launched(c, "CLOUD_PREMIUM")
        before, _ = system_disk(c, iid)
        running(c, iid)
        # the system disk may grow with a reinstall (Linux to Linux: same disk)
        c.reset_instance(
            InstanceId=iid, ImageId=DEBIAN_IMAGE, SystemDisk={"DiskSize": 80}
        )
        disk, os_name = system_disk(c, iid)
        assert disk == {**before, "DiskSize": 80} and "Debian" in os_name
        running(c, iid)
        # it never shrinks, and keeps its type; nothing changes on a refusal
        for bad in ({"DiskSize": 60}, {"DiskSize": 2048}, {"DiskType": "CLOUD_SSD"}):
            for call in (c.reset_instance, c.inquiry_price_reset_instance):
                code, _ = code_of(call, InstanceId=iid, SystemDisk=bad)
                assert code == "InvalidParameterValue", bad
        assert system_disk(c, iid)[0]["DiskSize"] == 80
        c.reset_instance(InstanceId=iid, SystemDisk={"DiskType": "CLOUD_PREMIUM"})
        running(c, iid)
        # Linux to Windows: the system disk gets a new id, its size is kept
        c.reset_instance(InstanceId=iid, ImageId=WINDOWS_IMAGE)
        disk, os_name = system_disk(c, iid)
        assert disk["DiskId"] != before["DiskId"] and disk["DiskSize"] == 80
        assert os_name.startswith("Windows")
        assert disk["DiskId"].startswith("disk-")


def test_reinstall_switching_os_family_needs_a_cloud_system_disk(emu):
    with client(emu) as c:
        iid = launched(c, "LOCAL_BASIC")
        running(c, iid)
        for call in (c.reset_instance, c.inquiry_price_reset_instance):
            code, _ = code_of(call, InstanceId=iid, ImageId=WINDOWS_IMAGE)
            assert code == "InvalidInstance.NotSupported"
        # Linux to Linux is fine on any system disk
        c.reset_instance(InstanceId=iid, ImageId=DEBIAN_IMAGE)
        assert "Debian" in system_disk(c, iid)[1]
