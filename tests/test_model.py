"""The service model: built from the seed by tools/build_model.py, committed, self-consistent."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODEL = json.loads(
    (ROOT / "crates/core/src/model/cvm-2017-03-12.json").read_text(encoding="utf-8")
)
EXAMPLES = json.loads(
    (ROOT / "crates/core/src/model/examples.json").read_text(encoding="utf-8")
)

pytestmark = pytest.mark.timeout(60)


def test_committed_model_is_what_the_tool_builds():
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools/build_model.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr


def test_58_actions_with_their_facts():
    acts = MODEL["actions"]
    assert len(acts) == 58
    assert acts["DescribeInstanceVncUrl"]["snake_name"] == "describe_instance_vnc_url"
    assert acts["DescribeImportImageOs"]["rate_limit"] == 20
    assert acts["DescribeInstances"]["rate_limit"] == 40
    assert acts["RunInstances"]["client_token"] is True
    assert acts["StartInstances"]["client_token"] is False
    assert (
        acts["DescribeInstances"]["idempotent"]
        and acts["InquiryPriceRunInstances"]["idempotent"]
    )
    assert not acts["RunInstances"]["idempotent"]
    assert acts["DescribeInstances"]["paginator"] == {
        "offset": "Offset",
        "limit": "Limit",
        "total_count": "TotalCount",
        "result": "InstanceSet",
        "default_limit": 20,
        "max_limit": 100,
    }
    assert acts["DescribeRegions"]["paginator"] is None
    assert acts["DescribeRegions"]["region_required"] is False
    assert acts["DescribeZones"]["finance_regions"] is True
    names = {a["name"] for a in acts.values()}
    assert {"DeleteImages", "SyncImages"} <= names  # ERRATA: Deletelimages, Synclmages
    codes = {e["code"] for e in acts["RunInstances"]["errors"]}
    assert "InvalidClientToken.TooLong" in codes
    assert all("<" not in a["description"] for a in acts.values())


def test_every_referenced_type_is_defined():
    prim = set(MODEL["metadata"]["primitive_types"])
    shapes = MODEL["shapes"]
    members = [m for a in MODEL["actions"].values() for m in a["inputs"] + a["outputs"]]
    members += [m for s in shapes.values() for m in s["members"]]
    for m in members:
        assert m["type"] in prim or m["type"] in shapes, m
    placement = {m["name"]: m for m in shapes["Placement"]["members"]}
    assert (
        placement["Zone"]["required"] is True and placement["Zone"]["type"] == "String"
    )
    assert placement["HostIds"]["array"] is True


def test_errata_applied_in_examples():
    for action in ("RebootInstances", "TerminateInstances", "DescribeInstancesStatus"):
        keys = [k for ex in EXAMPLES[action] for k, _ in ex["input"]]
        assert "InstanceIds.0" in keys and "InstanceId.0" not in keys
    assert sum(len(v) for v in EXAMPLES.values()) == 67


def test_waiters_are_data():
    w = MODEL["waiters"]
    assert set(w) == {
        "instance_running",
        "instance_stopped",
        "instance_terminated",
        "image_normal",
    }
    for waiter in w.values():
        assert waiter["operation"] in MODEL["actions"]
        assert any(a["state"] == "success" for a in waiter["acceptors"])


# Names the 2017-03-12 reference documents but the vendor's current SDK no longer has.
VENDOR_GONE = {
    ("InquiryPriceResetInstancesType", "ForceStop"),
    ("CreateImage", "Reboot"),
    ("InstanceTypeConfig", "CbsSupport"),
    ("InstanceTypeConfig", "InstanceTypeState"),
    ("SharePermission", "CreateTime"),
    ("SharePermission", "Account"),
}


def test_names_agree_with_the_vendor_sdk():
    """An independent check for extraction slips (l for I, broken words): every action, shape
    and member name of the model exists in the vendor's SDK models (a test peer only)."""
    models = pytest.importorskip("tencentcloud.cvm.v20170312.models")

    def names(cls: type) -> set[str]:
        return {k.lstrip("_") for k in vars(cls())}

    missing = set()
    for name, a in MODEL["actions"].items():
        ins = names(getattr(models, name + "Request"))
        outs = names(getattr(models, name + "Response"))
        missing |= {(name, m["name"]) for m in a["inputs"] if m["name"] not in ins}
        missing |= {(name, m["name"]) for m in a["outputs"] if m["name"] not in outs}
    for name, s in MODEL["shapes"].items():
        have = names(getattr(models, name))
        missing |= {(name, m["name"]) for m in s["members"] if m["name"] not in have}
    assert missing == VENDOR_GONE
