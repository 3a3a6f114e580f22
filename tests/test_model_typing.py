"""Stubs generated from the model: fresh, and `mypy --strict` catches a misspelt parameter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parent.parent
TYPING = ROOT / "tests" / "typing"


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


def test_mypy_strict_passes_on_correct_use():
    r = mypy("check_methods.py")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Success" in r.stdout


def test_mypy_strict_catches_misspelt_and_mistyped_parameters():
    r = mypy("misspelt.py")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    assert (
        'misspelt.py:9: error: Unexpected keyword argument "InstanceID" for "describe_instances"'
        in out
    ), out
    assert 'did you mean "InstanceIds"' in out
    assert 'misspelt.py:10: error: Extra key "Zoen" for TypedDict "Placement"' in out
    assert 'misspelt.py:11: error: Argument "Limit" to "describe_instances"' in out
    assert (
        'misspelt.py:12: error: Missing named argument "Placement" for "run_instances"'
        in out
    )


def test_types_importable_at_run_time():
    from tccvm import types

    assert types.Placement.__total__ is False
    assert set(types.Placement.__annotations__) == {"Zone", "ProjectId", "HostIds"}
    assert "InstanceSet" in types.DescribeInstancesResponse.__annotations__


def test_mypy_strict_passes_on_the_examples():
    scripts = sorted(str(p) for p in (ROOT / "examples").glob("*.py"))
    if not scripts:
        pytest.skip("no examples/*.py yet")
    r = mypy(*scripts)
    assert r.returncode == 0, r.stdout + r.stderr
