"""The string annotations of the per-action methods can be evaluated: ``inspect.signature(...,
eval_str=True)`` and ``typing.get_type_hints`` give real types (``tccvm.types.Filter``,
``typing.Any``) on both clients, on the class and on an instance, for every action of the model,
while ``import tccvm`` still imports neither typing's names nor ``tccvm.types``."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing

import pytest
import tccvm
import tccvm.types
from tccvm._paginate import service_model
from tccvm.emulator import Emulator

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        sys.version_info < (3, 10), reason="eval_str and X | None need Python 3.10"
    ),
]

PRIMITIVE = {
    "String": str,
    "Timestamp": str,
    "Integer": int,
    "Boolean": bool,
    "Float": float,
}


def expected_type(member: dict) -> object:
    t = PRIMITIVE.get(member["type"]) or getattr(tccvm.types, member["type"])
    t = list[t] if member["array"] else t  # type: ignore[valid-type]
    return t if member["required"] else t | None  # type: ignore[operator]


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


def clients(emu):
    kw = {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": "ap-guangzhou",
        "endpoint": emu.endpoint,
    }
    return tccvm.Client(**kw), tccvm.AsyncClient(**kw)


def test_every_method_evaluates_its_annotations(emu):
    sync, asynchronous = clients(emu)
    with sync, asynchronous:
        for name, action in service_model()["actions"].items():
            want = {m["name"]: expected_type(m) for m in action["inputs"]}
            want_return = dict[str, typing.Any]
            for obj in (sync, asynchronous, type(sync), type(asynchronous)):
                meth = getattr(obj, action["snake_name"])
                sig = inspect.signature(meth, eval_str=True)
                got = {
                    p.name: p.annotation
                    for p in sig.parameters.values()
                    if p.name != "self"
                }
                assert got == want, (name, obj)
                assert sig.return_annotation == want_return, name
                hints = typing.get_type_hints(meth)
                assert hints == {**want, "return": want_return}, (name, obj)
                # The plain (string) signature is unchanged.
                plain = inspect.signature(meth)
                assert all(
                    isinstance(p.annotation, str)
                    for p in plain.parameters.values()
                    if p.name != "self"
                )
        # The methods still work (the annotations are for show only).
        assert sync.describe_instances(Limit=1)["TotalCount"] == 0


def test_placement_resolves_to_the_runtime_typed_dict():
    # Required there (RunInstances' Placement is optional now: a launch template may give it).
    sig = inspect.signature(tccvm.Client.inquiry_price_run_instances, eval_str=True)
    assert sig.parameters["Placement"].annotation is tccvm.types.Placement
    sig = inspect.signature(tccvm.Client.run_instances, eval_str=True)
    assert sig.parameters["Placement"].annotation == tccvm.types.Placement | None
    hints = typing.get_type_hints(tccvm.AsyncClient.describe_instances)
    assert hints["Filters"] == list[tccvm.types.Filter] | None


EVAL_IN_FRESH_PROCESS = """
import sys
import tccvm
assert "tccvm.types" not in sys.modules, "import tccvm imported tccvm.types"
import inspect
sig = inspect.signature(tccvm.Client.describe_instances, eval_str=True)
print(sig.parameters["Filters"].annotation)
"""


def test_import_stays_lazy_and_eval_works_in_a_fresh_interpreter():
    r = subprocess.run(
        [sys.executable, "-c", EVAL_IN_FRESH_PROCESS],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "list[tccvm.types.Filter] | None"
