"""The service model: built by tools/build_model.py from the seed (the 2017 reference) and the
facts of the current published description, committed, self-consistent."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
# where the model lives: build_model.MODEL_OUT
import build_model

MODEL = json.loads(build_model.MODEL_OUT.read_text(encoding="utf-8"))
EXAMPLES = json.loads(build_model.EXAMPLES_OUT.read_text(encoding="utf-8"))
FACTS_TEXT = build_model.FACTS.read_text(encoding="utf-8")
FACTS = json.loads(FACTS_TEXT)
CORRECTIONS = json.loads(build_model.CORRECTIONS.read_text(encoding="utf-8"))

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


def test_106_actions_58_of_them_in_the_reference():
    acts = MODEL["actions"]
    assert len(acts) == 106
    assert sum(a["in_reference"] for a in acts.values()) == 58
    assert acts["DescribeInstanceVncUrl"]["snake_name"] == "describe_instance_vnc_url"
    assert acts["DescribeImportImageOs"]["rate_limit"] == 20
    assert acts["DescribeInstances"]["rate_limit"] == 40
    assert acts["RunInstances"]["client_token"] is True
    assert acts["StartInstances"]["client_token"] is False
    assert (
        acts["DescribeInstances"]["idempotent"]
        and acts["InquiryPriceRunInstances"]["idempotent"]
        and acts["InquirePricePurchaseResourcePoolPacks"]["idempotent"]
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
    # An action outside the reference: facts only, and its description says so.
    lt = acts["DescribeLaunchTemplates"]
    assert lt["in_reference"] is False and lt["rate_limit"] is None
    assert lt["description"].startswith("Not in the 2017 reference")
    assert lt["summary"] == "Describe launch templates"
    assert lt["errors"] == []
    meta = MODEL["metadata"]["description"]
    assert (meta["package"], meta["version"]) == ("tccli", FACTS["source"]["version"])


def test_the_current_parameters_of_the_issue_are_in_the_model():
    def inputs(action):
        return {m["name"]: m for m in MODEL["actions"][action]["inputs"]}

    run = inputs("RunInstances")
    for name in ("DisableApiTermination", "LaunchTemplate", "DryRun", "CamRoleName"):
        assert name in run, name
    assert "HpcClusterId" in run
    assert run["Placement"]["required"] is False  # a launch template may supply it
    disk = {m["name"]: m for m in MODEL["shapes"]["DataDisk"]["members"]}
    assert {"Encrypt", "DeleteWithInstance"} <= set(disk)
    assert "ReleaseAddress" in inputs("TerminateInstances")
    assert "DisableApiTermination" in inputs("ModifyInstancesAttribute")
    assert "TagSpecification" in inputs("CreateKeyPair")
    filters = MODEL["actions"]["DescribeInstances"]["filters"]["Filters"]
    assert {"vpc-id", "zone", "instance-name", "tag:tag-key"} <= set(filters)
    assert "image-name" in MODEL["actions"]["DescribeImages"]["filters"]["Filters"]


def test_every_fact_is_in_the_model():
    """Independently of build_model: each action, type and member of the facts file is in the
    model with the same type, list-ness and flags."""
    elem = {
        "string": "String",
        "int64": "Integer",
        "uint64": "Integer",
        "bool": "Boolean",
    }
    elem |= {"float": "Float", "datetime": "Timestamp", "datetime_iso": "Timestamp"}
    objects = FACTS["objects"]
    assert set(MODEL["actions"]) == set(FACTS["actions"])
    assert set(MODEL["shapes"]) == {n for n, o in objects.items() if "usage" in o}
    assert len(MODEL["shapes"]) == 74

    def same(where, model_members, fact_members, side):
        assert [m["name"] for m in model_members] == [
            m["name"] for m in fact_members
        ], where
        for mm, fm in zip(model_members, fact_members):
            at = f"{where}.{fm['name']}"
            assert mm["type"] == elem.get(fm["member"], fm["member"]), at
            assert mm["array"] is (fm["type"] == "list"), at
            assert mm["deprecated"] is bool(fm.get("disabled")), at
            assert mm["nullable"] is bool(fm.get("value_allowed_null")), at
            if side == "in":
                assert mm["required"] is bool(fm.get("required")), at
            if side == "out" and fm["name"] != "RequestId":
                assert mm["output_required"] is bool(fm.get("output_required")), at

    for name, fa in FACTS["actions"].items():
        a = MODEL["actions"][name]
        same(name, a["inputs"], objects[fa["input"]]["members"], "in")
        same(name, a["outputs"], objects[fa["output"]]["members"], "out")
        rid = [m for m in a["outputs"] if m["name"] == "RequestId"]
        assert rid and rid[0]["output_required"] is True, name
    for name, s in MODEL["shapes"].items():
        same(name, s["members"], objects[name]["members"], None)
    deprecated = {
        (n, m["name"])
        for n, a in MODEL["actions"].items()
        for m in a["inputs"]
        if m["deprecated"]
    }
    assert ("StopInstances", "ForceStop") in deprecated


def test_every_offset_limit_describe_action_is_paginated():
    want = {
        n
        for n, a in MODEL["actions"].items()
        if n.startswith("Describe")
        and {"Offset", "Limit"} <= {m["name"] for m in a["inputs"]}
    }
    got = {n for n, a in MODEL["actions"].items() if a["paginator"]}
    assert got == want
    assert len(got) == 11
    for n in got:
        p = MODEL["actions"][n]["paginator"]
        outs = {m["name"]: m for m in MODEL["actions"][n]["outputs"]}
        assert outs[p["result"]]["array"] and p["max_limit"] == 100, n


def test_facts_file_is_generated_and_disagreements_have_reasons():
    first = FACTS_TEXT.split("\n", 1)[0]
    assert first.startswith(
        '{"_generated": "Generated by `python tools/refresh_facts.py'
    )
    assert FACTS["source"]["package"] == "tccli"
    assert len(FACTS["actions"]) == 106
    assert all(a["status"] == "online" for a in FACTS["actions"].values())
    current = CORRECTIONS["current"]
    assert current and all(r["why"].strip() for r in current)
    facts_of = {r["fact"] for r in current}
    assert facts_of <= {
        "required",
        "type",
        "removed",
        "renamed",
        "default_limit",
        "max_limit",
    }
    for fix in CORRECTIONS["current_examples"].values():
        assert fix["why"].strip()


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
        keys = [k for ex in EXAMPLES[action] for k, _ in ex.get("input", [])]
        assert "InstanceIds.0" in keys and "InstanceId.0" not in keys
    ref = [ex for exs in EXAMPLES.values() for ex in exs if ex["source"] == "reference"]
    cur = [ex for exs in EXAMPLES.values() for ex in exs if ex["source"] == "current"]
    assert (len(ref), len(cur)) == (67, 123)
    assert len(cur) == sum(len(v) for v in FACTS["examples"].values())
    assert all("params" in ex for exs in EXAMPLES.values() for ex in exs)
    # The vendor's slip, repaired as recorded: an Integer written as a string.
    ex = EXAMPLES["InquiryPriceRunInstances"]
    assert all(
        not isinstance(e["params"].get("InternetAccessible", {}).get(k), str)
        for e in ex
        for k in ("InternetMaxBandwidthOut",)
    )


def test_waiters_are_data():
    w = MODEL["waiters"]
    assert set(w) == {
        "instance_running",
        "instance_stopped",
        "instance_terminated",
        "instance_in_rescue_mode",
        "image_normal",
    }
    for waiter in w.values():
        assert waiter["operation"] in MODEL["actions"]
        assert any(a["state"] == "success" for a in waiter["acceptors"])


# Names of the model the vendor's current SDK does not have: none, now that the current
# description decides which names exist (the reference's removed and renamed ones are recorded
# under "current" in tools/seed_corrections.json).
VENDOR_GONE: set = set()


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
