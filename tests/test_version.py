"""One version, written once: the Cargo package version of the crate maturin builds
(tools/version.py finds it). The installed distribution's metadata (pyproject's
`dynamic = ["version"]`, filled in by maturin), `tccvm.__version__` (CARGO_PKG_VERSION) and the
User-Agent all derive from it, and CHANGELOG.md has a section for it."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import pathlib
import re
import shutil

import pytest
import tccvm

ROOT = pathlib.Path(__file__).resolve().parent.parent


def project_version() -> str:
    spec = importlib.util.spec_from_file_location(
        "tccvm_tools_version", ROOT / "tools/version.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.cargo_version()


@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
def test_the_version_is_written_once_and_derived_everywhere():
    version = project_version()
    assert tccvm.__version__ == version
    assert importlib.metadata.version("tccvm") == version
    # Plain X.Y.Z: a Cargo pre-release (0.2.0-rc.1) would be spelt differently by PEP 440
    # (0.2.0rc1) in the wheel's metadata than in tccvm.__version__.
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version


def test_no_other_file_spells_the_version():
    version = tccvm.__version__
    for path in (
        "pyproject.toml",
        "python/tccvm/__init__.py",
        "python/tccvm/_core.pyi",
    ):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert f'"{version}"' not in text, f"{path} spells the version"
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text(
        encoding="utf-8"
    )


def test_the_changelog_has_a_section_for_the_version():
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    heads = re.findall(r"^## \[?(\d+\.\d+\.\d+)\]?", text, re.MULTILINE)
    assert heads and heads[0] == tccvm.__version__, heads[:3]
