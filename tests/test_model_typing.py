"""Stubs generated from the model: fresh, made and checked with the pinned ruff and mypy, and
`mypy --strict` catches a misspelt parameter."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"


def gen_stubs():
    spec = importlib.util.spec_from_file_location(
        "gen_stubs", ROOT / "tools/gen_stubs.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# The pinned mypy needs Python 3.10+ (pyproject.toml installs it there only).
needs_mypy = pytest.mark.skipif(
    sys.version_info < (3, 10), reason="the pinned mypy needs Python 3.10+"
)


@pytest.mark.parametrize("tool", ["ruff", pytest.param("mypy", marks=needs_mypy)])
def test_the_installed_tools_are_the_pinned_ones(tool):
    pinned = gen_stubs().pinned_version(tool)
    installed = importlib.metadata.version(tool)
    assert installed == pinned, (
        f"{tool} {installed} is installed, pyproject.toml's test extra pins {pinned}: "
        "pip install -e '.[test]'"
    )


def test_gen_stubs_refuses_another_ruff(monkeypatch, capsys):
    g = gen_stubs()
    installed = importlib.metadata.version("ruff")
    monkeypatch.setattr(g, "pinned_version", lambda tool: "0.0.0")
    with pytest.raises(SystemExit) as ei:
        g.ruff_command()
    assert ei.value.code == 2  # not 1, "stale"
    err = capsys.readouterr().err
    assert "formatted with ruff 0.0.0, pinned in pyproject.toml" in err, err
    assert f"ruff {installed} (" in err, err
    assert "pip install 'ruff==0.0.0'" in err, err


def test_committed_stubs_are_what_the_generator_writes():
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools/gen_stubs.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr


def mypy(*files: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MYPYPATH=str(ROOT / "python"))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--follow-imports=silent",
            "--cache-dir",
            os.devnull,
            *files,
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=TYPING,
        env=env,
        timeout=200,
    )


@needs_mypy
def test_mypy_strict_passes_on_correct_use():
    r = mypy("check_methods.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success" in r.stdout


@needs_mypy
def test_mypy_strict_catches_misspelt_and_mistyped_parameters():
    r = mypy("misspelt.py")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert (
        'misspelt.py:9: error: Unexpected keyword argument "InstanceID" for "describe_instances"'
        in out
    ), out
    assert 'did you mean "InstanceIds"' in out
    assert 'misspelt.py:11: error: Extra key "Zoen" for TypedDict "Placement"' in out
    assert 'misspelt.py:13: error: Argument "Limit" to "describe_instances"' in out
    assert (
        'misspelt.py:14: error: Missing named argument "Placement" for '
        '"inquiry_price_run_instances"' in out
    )


def test_types_importable_at_run_time():
    import typing

    from tccvm import types
    from typing_extensions import Required, get_type_hints

    assert types.Placement.__total__ is False
    assert {"Zone", "ProjectId", "HostIds"} <= set(types.Placement.__annotations__)
    assert "InstanceSet" in types.DescribeInstancesResponse.__annotations__

    def ann(cls: type, key: str) -> object:
        return get_type_hints(cls, include_extras=True)[key]

    # A type answers carry differently (ProjectId always returned) has an Output twin.
    assert ann(types.PlacementOutput, "ProjectId") == Required[int]
    assert ann(types.Placement, "ProjectId") is int
    assert "ProjectId" in types.PlacementOutput.__required_keys__
    assert "ProjectId" in types.Placement.__optional_keys__
    assert ann(types.DescribeInstancesResponse, "RequestId") == Required[str]
    want = Required[list[types.Instance]]
    assert ann(types.DescribeInstancesResponse, "InstanceSet") == want
    assert ann(types.Instance, "Placement") == Required[types.PlacementOutput]
    assert typing.get_type_hints(types.Instance)  # resolves (no NameError)
    assert "LaunchTemplateVersionData" in vars(types)  # a type outside the reference


PYRIGHT_CASE = """
import tccvm

def answers(c: tccvm.Client) -> str:
    r = c.describe_instances(Limit=1)
    zone: str = r["InstanceSet"][0]["Placement"]["Zone"]
    project: int = r["InstanceSet"][0]["Placement"]["ProjectId"]
    total: int = r["TotalCount"]
    t = c.describe_launch_templates()
    n: int = t["TotalCount"] + len(t["LaunchTemplateSet"])
    return f"{zone}{project}{total}{n}" + r["RequestId"]

def not_always_there(c: tccvm.Client) -> object:
    return c.describe_instances()["InstanceSet"][0]["LoginSettings"]["Password"]
"""


def test_pyright_strict_sees_the_always_returned_fields(tmp_path):
    """Under pyright (which, unlike mypy, reports reading a key that is not Required), the
    fields an answer always carries read cleanly, and one it may omit does not."""
    # the one way the suite runs pyright strict
    from test_typing_checkers import pyright

    (tmp_path / "case.py").write_text(PYRIGHT_CASE, encoding="utf-8")
    got = pyright([tmp_path / "case.py"], tmp_path).get("case.py", [])
    assert [line for line, _ in got] == [14], got
    assert '"Password" is not a required key in "LoginSettingsOutput"' in got[0][1], got


@needs_mypy
def test_mypy_strict_passes_on_the_examples():
    scripts = sorted(str(p) for p in (ROOT / "examples").glob("*.py"))
    if not scripts:
        pytest.skip("no examples/*.py yet")
    r = mypy(*scripts)
    assert r.returncode == 0, r.stdout + r.stderr
