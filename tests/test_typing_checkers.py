"""Both type checkers a user runs, mypy --strict and pyright strict (basedpyright, pinned in the
test extra): clean on correct use (tests/typing/check_*.py, the realistic tests/typing/
user_script.py, examples/), and each catches every mistake planted in tests/typing/planted.py
(misspelt parameter, misspelt response key, wrong type, misspelt waiter, misspelt paginated
action, forgotten await) on its line and nowhere else. And every public attribute the runtime
sets on tccvm's exceptions is declared where the checkers look."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tccvm
from conftest import closed_port
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(300)

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"
CLEAN = [
    TYPING / "check_methods.py",
    TYPING / "check_helpers.py",
    TYPING / "user_script.py",
    *sorted((ROOT / "examples").glob("*.py")),
]
needs_mypy = pytest.mark.skipif(
    sys.version_info < (3, 10), reason="the pinned mypy needs Python 3.10+"
)


def pinned(tool: str) -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(rf'^\s*"{re.escape(tool)}==([^";\s]+)', text, re.MULTILINE)
    assert m, f"{tool} is not pinned in pyproject.toml's test extra"
    return m.group(1)


def test_the_installed_basedpyright_is_the_pinned_one():
    assert importlib.metadata.version("basedpyright") == pinned("basedpyright")


def pyright(files: list[Path], tmp_path: Path) -> dict[str, list[tuple[int, str]]]:
    """pyright strict over ``files`` (the config in ``tmp_path``): {file name: [(line, message),
    ...]} of its errors."""
    config = {
        "extraPaths": [str(ROOT / "python")],
        "typeCheckingMode": "strict",
        "reportMissingModuleSource": False,
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    r = subprocess.run(
        [sys.executable, "-m", "basedpyright", "--outputjson", *map(str, files)],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=240,
    )
    try:
        out = json.loads(r.stdout)
    except ValueError:
        raise AssertionError(r.stdout + r.stderr) from None
    errors: dict[str, list[tuple[int, str]]] = {}
    for d in out["generalDiagnostics"]:
        if d["severity"] == "error":
            line = d["range"]["start"]["line"] + 1
            errors.setdefault(Path(d["file"]).name, []).append((line, d["message"]))
    return errors


def mypy(files: list[Path]) -> dict[str, list[tuple[int, str]]]:
    env = dict(os.environ, MYPYPATH=str(ROOT / "python"))
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
        + ["--follow-imports=silent", "--cache-dir", os.devnull, "--no-error-summary"]
        + list(map(str, files)),
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    errors: dict[str, list[tuple[int, str]]] = {}
    for line in r.stdout.splitlines():
        m = re.match(r"(.+?):(\d+): error: (.*)", line)
        if m:
            errors.setdefault(Path(m[1]).name, []).append((int(m[2]), m[3]))
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return errors


def test_pyright_strict_is_clean_on_correct_use(tmp_path):
    assert pyright(CLEAN, tmp_path) == {}


@needs_mypy
def test_mypy_strict_is_clean_on_the_helpers_and_the_user_script():
    assert mypy([TYPING / "check_helpers.py", TYPING / "user_script.py"]) == {}


#: planted kind -> (a fragment of mypy's message, a fragment of pyright's), checked on the line.
WHY = {
    "misspelt parameter": (
        'Unexpected keyword argument "InstanceID"',
        'named "InstanceID"',
    ),
    "paginate parameter": (
        'Unexpected keyword argument "ImageID"',
        'No overloads for "paginate"',
    ),
    "misspelt response key": (
        'no key "InstanceSett"',
        '"InstanceSett" is not a defined key',
    ),
    "wrong type": ('Argument "Limit"', '"Limit"'),
    "misspelt waiter": ('No overload variant of "wait"', 'No overloads for "wait"'),
    "misspelt paginated action": (
        'No overload variant of "paginate"',
        'No overloads for "paginate"',
    ),
    "forgotten await": ("not indexable", "CoroutineType"),
    "unused coroutine": ("must be used", 'use "await"'),
}


def planted() -> dict[int, str]:
    lines = (TYPING / "planted.py").read_text(encoding="utf-8").splitlines()
    marks = {
        n: line.split("# planted: ", 1)[1].strip()
        for n, line in enumerate(lines, 1)
        if "# planted: " in line
    }
    assert set(marks.values()) == set(WHY), marks
    return marks


def check_planted(errors: list[tuple[int, str]], which: int, checker: str) -> None:
    marks = planted()
    flagged = {line for line, _ in errors}
    assert flagged == set(marks), f"{checker}: {errors}"
    for line, kind in marks.items():
        said = " | ".join(msg for n, msg in errors if n == line)
        assert WHY[kind][which] in said, f"{checker} line {line} ({kind}): {said}"


def test_pyright_strict_catches_every_planted_mistake(tmp_path):
    errors = pyright([TYPING / "planted.py"], tmp_path)
    check_planted(errors.get("planted.py", []), 1, "pyright")


@needs_mypy
def test_mypy_strict_catches_every_planted_mistake():
    check_planted(mypy([TYPING / "planted.py"]).get("planted.py", []), 0, "mypy")


# -- exceptions: what the runtime sets is what the stubs declare --------------------------


def raised_for_real() -> list[BaseException]:
    """One of each exception, raised by tccvm itself (the emulator, a closed port)."""
    out: list[BaseException] = []
    with Emulator() as emu:
        emu.set_timers(pending=30)
        with tccvm.Client(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region="ap-guangzhou",
            endpoint=emu.endpoint,
        ) as c:
            ids = c.run_instances(
                Placement={"Zone": "ap-guangzhou-2"}, ImageId="img-pmqg1cw7"
            )["InstanceIdSet"]
            attempts = [
                lambda: c.wait("instance_running", 0.2, 0.05, InstanceIds=ids),
                lambda: c.run_instances(
                    Placement={"Zone": "ap-guangzhou-2"}, ImageId="img-nosuch1"
                ),
                lambda: c.describe_instances(Limit="x"),  # type: ignore[arg-type]
            ]
            for f in attempts:
                try:
                    f()
                except tccvm.TccvmError as e:
                    out.append(e)
    with tccvm.Client(
        secret_id="AKIDx",
        secret_key="k",
        region="ap-guangzhou",
        endpoint=f"http://127.0.0.1:{closed_port()}",
        max_attempts=1,
    ) as c:
        try:
            c.describe_regions()
        except tccvm.TccvmError as e:
            out.append(e)
    # A service error is raised as its code's class (tccvm.errors), a TencentCloudError.
    bases = (
        "WaiterError",
        "TencentCloudError",
        "ParamValidationError",
        "TransportError",
    )
    kinds = [
        next(k.__name__ for k in type(e).__mro__ if k.__name__ in bases) for e in out
    ]
    assert kinds == [
        "WaiterError",
        "TencentCloudError",
        "ParamValidationError",
        "TransportError",
    ], kinds
    return out


def test_every_runtime_attribute_of_the_exceptions_is_declared(tmp_path):
    body = []
    for i, e in enumerate(raised_for_real()):
        names = sorted(k for k in vars(e) if not k.startswith("_"))
        assert names, type(e).__name__
        if isinstance(e, tccvm.TencentCloudError):
            assert "client_token" in names  # RunInstances takes a ClientToken
        body.append(f"def f{i}(e: tccvm.errors.{type(e).__name__}) -> list[object]:")
        body.append(f"    return [{', '.join(f'e.{n}' for n in names)}]")
    body.append("def undeclared(e: tccvm.WaiterError) -> object:")
    body.append("    return e.no_such_attribute")
    case = tmp_path / "attrs.py"
    case.write_text(
        "import tccvm\nimport tccvm.errors\n\n"
        + textwrap.dedent("\n".join(body))
        + "\n"
    )
    last = len(case.read_text().splitlines())
    # Only the attribute nothing sets is reported, by both checkers.
    got = pyright([case], tmp_path).get("attrs.py", [])
    assert {line for line, _ in got} == {last}, got
    if sys.version_info >= (3, 10):
        got = mypy([case]).get("attrs.py", [])
        assert {line for line, _ in got} == {last}, got
