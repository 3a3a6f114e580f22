"""DEVELOPING.md opens with a map of the tree, one line per file: every file git tracks is on
it, and every file on it exists (so "where is signing / the retry policy / the decoder" is
answered by reading it, and the answer is never stale)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tracked() -> set[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return {p for p in out.split("\0") if p and (ROOT / p).exists()}


def _mapped() -> set[str]:
    text = (ROOT / "DEVELOPING.md").read_text(encoding="utf-8")
    start = text.index("## Map of the tree")
    end = text.index("\n## ", start + 1)
    # The first cell of each table row: | `path` | what |
    return set(re.findall(r"^\| `([^`]+)` \|", text[start:end], flags=re.MULTILINE))


def test_every_tracked_file_is_on_the_map() -> None:
    missing = sorted(_tracked() - _mapped())
    assert not missing, f"add these to DEVELOPING.md's map: {missing}"


def test_every_file_on_the_map_exists() -> None:
    gone = sorted(p for p in _mapped() if not (ROOT / p).exists())
    assert not gone, f"DEVELOPING.md's map lists files that are gone: {gone}"
