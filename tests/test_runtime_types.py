"""The runtime ``tccvm.types`` are real TypedDicts on every supported CPython (3.9-3.13):
``get_type_hints`` resolves, ``__required_keys__`` is right, pydantic's ``TypeAdapter`` and
typeguard accept good values and reject bad ones (tools/check_runtime_types.py), and importing
them stays out of ``import tccvm``.

types.py imports nothing of tccvm, so each interpreter checks the file itself in a small venv
with only typing_extensions, pydantic and typeguard (the versions pinned in pyproject.toml's
test extra), made once under ``TCCVM_TYPES_VENVS`` (default ``.ci-types-venvs``): no wheel per
interpreter is built. An interpreter that is not installed is skipped, except under
``TCCVM_REQUIRE_ALL_PYTHONS=1`` (.ci/run), where that is a failure.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "tools" / "check_runtime_types.py"
VENVS = Path(os.environ.get("TCCVM_TYPES_VENVS", ROOT / ".ci-types-venvs"))
MINORS = ["3.9", "3.10", "3.11", "3.12", "3.13"]


def pins() -> list[str]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    out = []
    for name in ("typing_extensions", "pydantic", "typeguard"):
        m = re.search(rf'^\s*"({re.escape(name)}==[^";\s]+)', text, re.MULTILINE)
        assert m, f"{name} is not pinned exactly in pyproject.toml's test extra"
        out.append(m.group(1))
    return out


def interpreter(minor: str) -> str | None:
    """A CPython ``minor`` that runs: pyenv's install first (its shims on PATH may point
    nowhere), then ``python3.X`` on PATH."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = sorted(
        glob.glob(os.path.join(root, "versions", f"{minor}.*", "bin", "python"))
    )
    for exe in [*reversed(found), shutil.which(f"python{minor}")]:
        if not exe:
            continue
        r = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        if r.returncode == 0 and r.stdout.strip() == minor:
            return exe
    return None


def checker_python(minor: str) -> str:
    exe = interpreter(minor)
    if exe is None:
        if os.environ.get("TCCVM_REQUIRE_ALL_PYTHONS") == "1":
            pytest.fail(f"no CPython {minor} (python{minor} or pyenv) on this machine")
        pytest.skip(f"no CPython {minor} installed")
    want = pins()
    env = VENVS / minor
    py = env / "bin" / "python"
    stamp = env / "pins.txt"
    if not (py.exists() and stamp.exists() and stamp.read_text() == "\n".join(want)):
        shutil.rmtree(env, ignore_errors=True)
        subprocess.run([exe, "-m", "venv", str(env)], check=True, timeout=120)
        subprocess.run(
            [
                str(py),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *want,
            ],
            check=True,
            timeout=400,
        )
        stamp.write_text("\n".join(want))
    return str(py)


@pytest.mark.parametrize("minor", MINORS)
def test_runtime_types_on_each_cpython(minor):
    py = checker_python(minor)
    r = subprocess.run(
        [py, "-I", str(CHECK)], capture_output=True, text=True, timeout=120, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok ") and f"Python {minor}." in r.stdout, r.stdout


def test_runtime_types_in_this_interpreter_through_the_package():
    """Through ``tccvm.types`` itself (not a copy loaded by path)."""
    pytest.importorskip("pydantic")
    import typing

    import pydantic
    from tccvm import types

    hints = typing.get_type_hints(types.DescribeInstancesResponse)
    assert hints["InstanceSet"] == list[types.Instance]
    assert types.Instance.__required_keys__ >= {"InstanceId", "Placement"}
    page = pydantic.TypeAdapter(types.DescribeInstancesResponse).validate_python(
        {"TotalCount": 0, "InstanceSet": [], "RequestId": "r"}
    )
    assert page["RequestId"] == "r"


def test_import_tccvm_does_not_import_the_types():
    code = "import sys, tccvm; print('tccvm.types' in sys.modules, 'typing' in sys.modules)"
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert r.stdout.split() == ["False", "False"], r.stdout


def test_types_py_imports_nothing_of_tccvm():
    """The per-interpreter check loads the file alone: it must stay importable on its own."""
    src = (ROOT / "python" / "tccvm" / "types.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from \.|from tccvm|import tccvm)", src, re.MULTILINE)
