"""The per-action methods attached from the model (python/tccvm/_methods.py): one per action of
the current description (tools/facts/), on both clients, with signature and docs from the
model; the 58 of the seed's "API Category" lists among them."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
import tccvm
from tccvm import _methods

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent
MODEL = _methods.MODEL


def seed_actions() -> list[str]:
    """The 58 action names as the seed's API Category lists spell them (read independently of
    the model, so a parser bug cannot hide an action)."""
    text = (ROOT / "tools/seed/cvm-api-2017-03-12.txt").read_text(encoding="utf-8")
    section = text[
        text.index("\n# API Category") : text.index("\n# Making API Requests")
    ]
    names = re.findall(r"^([A-Z][A-Za-z]+)\t", section, flags=re.MULTILINE)
    return [n for n in names if n != "API"]


def facts_actions() -> list[str]:
    """The 106 action names of the current description's facts (read from the committed facts
    file, not from the model)."""
    facts = json.loads(
        (ROOT / "tools/facts/cvm-2017-03-12.json").read_text(encoding="utf-8")
    )
    return sorted(facts["actions"])


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _invoke(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((action, params))
        return {"RequestId": "r"}


class AsyncRecorder(Recorder):
    async def _invoke(self, action: str, params: dict[str, Any]) -> dict[str, Any]:  # type: ignore[override]
        self.calls.append((action, params))
        return {"RequestId": "r"}


_methods.attach(Recorder, asynchronous=False)
_methods.attach(AsyncRecorder, asynchronous=True)


def test_seed_lists_58_actions_and_model_has_them_all():
    names = seed_actions()
    assert len(names) == 58 == len(set(names))
    assert set(names) <= set(MODEL["actions"])
    assert {n for n, a in MODEL["actions"].items() if a["in_reference"]} == set(names)
    assert set(facts_actions()) == set(MODEL["actions"])
    assert len(facts_actions()) == 106


def test_snake_names():
    assert (
        MODEL["actions"]["DescribeInstanceVncUrl"]["snake_name"]
        == "describe_instance_vnc_url"
    )
    for name in facts_actions():
        assert MODEL["actions"][name]["snake_name"] == snake(name)


def clients() -> list[type]:
    out = []
    for cls_name in ("Client", "AsyncClient"):
        out.append(getattr(tccvm, cls_name))
    return out


@pytest.mark.parametrize("which", ["Client", "AsyncClient"])
def test_coverage_every_action_is_a_method_with_the_models_parameters(which: str):
    cls = {c.__name__: c for c in clients()}[which]
    for name in facts_actions():
        action = MODEL["actions"][name]
        meth = cls.__dict__.get(
            snake(name)
        )  # defined on the class itself, not __getattr__
        assert meth is not None, f"{which} lacks {snake(name)}"
        assert inspect.iscoroutinefunction(meth) is (which == "AsyncClient"), name
        sig = inspect.signature(meth)
        params = list(sig.parameters.values())[1:]
        assert [p.name for p in params] == [m["name"] for m in action["inputs"]], name
        for p, m in zip(params, action["inputs"]):
            assert p.kind is inspect.Parameter.KEYWORD_ONLY
            assert (p.default is inspect.Parameter.empty) is m["required"], (
                name,
                p.name,
            )
        assert action["description"].split("\n")[0] in meth.__doc__
        if action["in_reference"]:
            limit = f"Rate limit: {action['rate_limit']} requests per second"
            assert limit in meth.__doc__, name
        else:
            assert "Not in the 2017 reference" in meth.__doc__, name
            assert "Rate limit: not documented" in meth.__doc__, name
        assert snake(name) in dir(cls)


def test_methods_call_invoke_with_the_api_names():
    r = Recorder()
    assert r.describe_instances(InstanceIds=["ins-1"], Limit=5, Offset=None) == {
        "RequestId": "r"
    }
    r.run_instances(Placement={"Zone": "z"}, ImageId="img-1")
    r.describe_regions()
    assert r.calls == [
        (
            "DescribeInstances",
            {"InstanceIds": ["ins-1"], "Limit": 5},
        ),  # None = not given
        ("RunInstances", {"Placement": {"Zone": "z"}, "ImageId": "img-1"}),
        ("DescribeRegions", {}),
    ]
    with pytest.raises(TypeError):
        r.describe_instances(["ins-1"])  # keyword-only


def test_async_methods_are_coroutine_functions():
    r = AsyncRecorder()
    assert inspect.iscoroutinefunction(AsyncRecorder.describe_instances)
    out = asyncio.run(r.terminate_instances(InstanceIds=["ins-1"]))
    assert out == {"RequestId": "r"}
    assert r.calls == [("TerminateInstances", {"InstanceIds": ["ins-1"]})]


def test_docstrings_name_every_parameter_and_output():
    for action in MODEL["actions"].values():
        doc = getattr(Recorder, action["snake_name"]).__doc__
        for m in action["inputs"]:
            tail = "" if m["required"] else ", optional"
            assert f"{m['name']} : {_methods.python_type(m)}{tail}" in doc
        for m in action["outputs"]:
            assert f"{m['name']} : {_methods.python_type(m)}" in doc
    doc = Recorder.describe_instances.__doc__
    assert "Filters : list[Filter], optional" in doc
    assert "Rate limit: 40 requests per second." in doc
    assert "client.paginate('DescribeInstances'" in doc
    assert "InstanceSet : list[Instance]" in doc


def test_help_shows_signature_and_doc():
    import pydoc

    text = pydoc.render_doc(Recorder.run_instances, renderer=pydoc.plaintext)
    # Annotations as written, not quoted (tccvm._methods._Hint).
    # One parameter a line (the signature is longer than a line), on every version.
    assert (
        "run_instances(\n    self,\n    *,\n    InstanceChargeType: str | None = None,\n"
        in text
    )
    assert "Placement: Placement | None = None" in text
    assert "ClientToken" in text and "Rate limit: 10 requests per second." in text


def test_docstring_of_an_action_outside_the_reference_comes_from_the_facts():
    doc = Recorder.create_launch_template.__doc__
    assert doc.startswith("CreateLaunchTemplate: Create launch template.\n")
    assert "Not in the 2017 reference: this action comes from the current" in doc
    assert "LaunchTemplateName : str\n" in doc  # required: no ", optional"
    assert "Placement : Placement\n" in doc
    assert "InstanceType : str, optional" in doc
    assert "Keys of Placement (a dict):\n    - Zone (str, required):" in doc
    doc = Recorder.describe_launch_templates.__doc__
    assert "client.paginate('DescribeLaunchTemplates'" in doc
    assert "Filters names: LaunchTemplateName, tag-key, tag-value, tag:tag-key." in doc


def test_a_deprecated_parameter_warns_and_is_still_sent():
    r = Recorder()
    with pytest.warns(DeprecationWarning, match="StopInstances: parameter ForceStop"):
        r.stop_instances(InstanceIds=["ins-1"], ForceStop=True)
    assert r.calls[-1] == (
        "StopInstances",
        {"InstanceIds": ["ins-1"], "ForceStop": True},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r.stop_instances(InstanceIds=["ins-1"], StopType="SOFT")  # no warning
    a = AsyncRecorder()
    with pytest.warns(
        DeprecationWarning, match="RebootInstances: parameter ForceReboot"
    ):
        asyncio.run(a.reboot_instances(InstanceIds=["ins-1"], ForceReboot=True))
    assert a.calls[-1][1]["ForceReboot"] is True
    assert "Deprecated in the current description" in Recorder.stop_instances.__doc__
