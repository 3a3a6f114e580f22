"""``help()`` lays out a method's signature the same way on every supported CPython (3.9-3.13):
one parameter a line when it does not fit on one (pydoc does this itself from 3.13;
``tccvm._methods._PydocLayout`` does it before), on the class and on an instance, while every
other reader of the signature (``inspect.signature``, ``eval_str=True``, ``get_type_hints``)
sees what it saw before. Each interpreter runs the installed package (an abi3 extension) from a
copy of it, so no wheel per interpreter is built.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import tccvm
from test_runtime_types import MINORS, interpreter

pytestmark = pytest.mark.timeout(300)

PROBE = r"""
import inspect, json, pydoc
import tccvm

def text(obj):
    return pydoc.render_doc(obj, renderer=pydoc.plaintext)

c = tccvm.Client(secret_id="AKIDx", secret_key="k", region="ap-guangzhou",
                 endpoint="http://127.0.0.1:9")
out = {
    "cls": text(tccvm.Client.run_instances),
    "bound": text(c.run_instances),
    "async": text(tccvm.AsyncClient.describe_instances),
    "short": text(c.describe_zones),
    "class": text(tccvm.Client),
    "plain": str(inspect.signature(tccvm.Client.describe_instances)),
}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("help-layout")
    shutil.copytree(
        Path(tccvm.__file__).parent,
        root / "tccvm",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return root


@pytest.mark.parametrize("minor", MINORS)
def test_help_puts_one_parameter_a_line(minor: str, package_copy: Path) -> None:
    exe = interpreter(minor)
    if exe is None:
        if os.environ.get("TCCVM_REQUIRE_ALL_PYTHONS") == "1":
            pytest.fail(f"no CPython {minor} (python{minor} or pyenv) on this machine")
        pytest.skip(f"no CPython {minor} installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(package_copy)
    r = subprocess.run(
        [exe, "-c", PROBE],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout)
    # The class's function: self, the keyword-only marker, then one parameter a line.
    assert (
        "run_instances(\n    self,\n    *,\n    InstanceChargeType: str | None = None,\n"
        in got["cls"]
    )
    assert "\n    Placement: Placement | None = None,\n" in got["cls"]
    assert "\n) -> dict[str, Any]\n" in got["cls"]
    # The bound method: no self.
    assert (
        "run_instances(\n    *,\n    InstanceChargeType: str | None = None,\n"
        in got["bound"]
    )
    assert "method of tccvm.Client instance" in got["bound"]
    # The async client's coroutine function, the same way.
    assert (
        "describe_instances(\n    self,\n    *,\n    InstanceIds: list[str] | None = None,\n"
        in got["async"]
    )
    # A signature that fits stays on its line.
    assert "describe_zones() -> dict[str, Any]" in got["short"]
    # help(tccvm.Client): the class's section shows every method wrapped the same way.
    assert " |  describe_instances(\n |      self,\n |      *,\n" in got["class"]
    # Anyone but pydoc reads the plain signature, as before.
    assert got["plain"].startswith(
        "(self, *, InstanceIds: list[str] | None = None, Filters:"
    )
    assert "\n" not in got["plain"]
