"""Print tccvm's version, from the one place it is written: the Cargo package version of the
crate maturin builds (pyproject.toml's [tool.maturin] manifest-path, else Cargo.toml; a
`version.workspace = true` there resolves to the workspace's). The wheel's metadata
(pyproject's `dynamic = ["version"]`), `tccvm.__version__` (CARGO_PKG_VERSION) and the HTTP
User-Agent all derive from it; tests/test_version.py checks that they agree.

    python tools/version.py          # e.g. 0.1.0
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def manifest_path() -> str:
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    section = (
        text.split("[tool.maturin]", 1)[1].split("\n[", 1)[0]
        if "[tool.maturin]" in text
        else ""
    )
    m = re.search(r'^manifest-path\s*=\s*"([^"]+)"', section, re.MULTILINE)
    return os.path.join(ROOT, m.group(1) if m else "Cargo.toml")


def cargo_version() -> str:
    manifest = manifest_path()
    out = subprocess.run(
        [
            "cargo",
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
            manifest,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for pkg in json.loads(out)["packages"]:
        if os.path.realpath(pkg["manifest_path"]) == os.path.realpath(manifest):
            return pkg["version"]
    raise SystemExit(f"no package in {manifest}")


if __name__ == "__main__":
    print(cargo_version())
    sys.exit(0)
