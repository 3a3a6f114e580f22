"""The layout rules of DEVELOPING.md that a reader would otherwise have to take on trust.

- No hand-written source file over 600 lines: tests (tests/, crates/*/tests/, a Rust file's
  `#[cfg(test)] mod tests { ... }`) and generated files (their first line says so) aside, and
  the exceptions in `ALLOWED`, each with its reason.
- The core crate builds without Python: crates/core/Cargo.toml depends on neither pyo3 nor the
  crates above it.
- The SDK never busy-polls: no spin or thread-yield primitive in crates/core/src or
  crates/py/src (the emulator's own poller, crates/emulator/src/poll.rs, may).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 600

# path -> why it may be longer than MAX_LINES. An entry goes when its file is split.
ALLOWED: dict[str, str] = {}

SOURCE_SUFFIXES = {".rs", ".py", ".pyi", ".sh", ".lua"}
TEST_DIRS = (
    "tests/",
    "crates/core/tests/",
    "crates/emulator/tests/",
    "crates/py/tests/",
)


def tracked_files() -> list[str]:
    """Every file of the checkout that git would commit (tracked, or new and not ignored)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [p for p in out.splitlines() if (ROOT / p).is_file()]


def is_source(path: str) -> bool:
    p = ROOT / path
    if p.suffix in SOURCE_SUFFIXES:
        return True
    if p.suffix:
        return False
    try:
        with p.open("rb") as f:
            return f.read(2) == b"#!"  # a script without a suffix (.ci/run)
    except OSError:
        return False


def is_generated(lines: list[str]) -> bool:
    return bool(lines) and "generated" in lines[0].lower()


def counted_lines(path: str, lines: list[str]) -> int:
    """The lines that count: for Rust, those outside `#[cfg(test)] mod ... { }` blocks."""
    if not path.endswith(".rs"):
        return len(lines)
    n, i = 0, 0
    while i < len(lines):
        if (
            lines[i].rstrip() == "#[cfg(test)]"
            and i + 1 < len(lines)
            and re.match(r"(pub(\(\w+\))? )?mod \w+ \{$", lines[i + 1].rstrip())
        ):
            i += 2
            while i < len(lines) and lines[i].rstrip() != "}":
                i += 1
            i += 1
            continue
        n += 1
        i += 1
    return n


def oversized() -> dict[str, int]:
    found = {}
    for path in tracked_files():
        if path.startswith(TEST_DIRS) or not is_source(path):
            continue
        try:
            lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        if is_generated(lines):
            continue
        n = counted_lines(path, lines)
        if n > MAX_LINES:
            found[path] = n
    return found


def test_no_hand_written_source_file_over_600_lines() -> None:
    big = oversized()
    new = {p: n for p, n in big.items() if p not in ALLOWED}
    assert not new, (
        f"hand-written source files over {MAX_LINES} lines (split them by responsibility, "
        f"or add them to ALLOWED in {Path(__file__).name} with the reason): {new}"
    )
    stale = sorted(p for p in ALLOWED if p not in big)
    assert not stale, (
        f"in ALLOWED but no longer over {MAX_LINES} lines (or gone): remove them: {stale}"
    )


def test_rust_test_modules_do_not_count() -> None:
    """The counting rule itself: a trailing test module is left out, code after it is not."""
    code = [
        "fn a() {}",
        "#[cfg(test)]",
        "mod tests {",
        "    #[test]",
        "    fn t() {}",
        "}",
    ]
    assert counted_lines("x.rs", code) == 1
    assert counted_lines("x.rs", [*code, "fn b() {}"]) == 2
    assert counted_lines("x.py", code) == len(code)


def dependency_names(cargo_toml: str) -> set[str]:
    """The crates a Cargo.toml depends on, in any dependencies table (normal, dev, build,
    per target), written as `name = ...` or as a `[...dependencies.name]` table."""
    names: set[str] = set()
    section = ""
    for raw in cargo_toml.splitlines():
        line = raw.split("#", 1)[0].strip()
        header = re.fullmatch(r"\[([^\[\]]+)\]", line)
        if header:
            section = header.group(1).strip()
            m = re.search(r"dependencies\.([\w-]+)$", section)
            if m:
                names.add(m.group(1))
            continue
        if section.endswith("dependencies"):
            m = re.match(r"([\w-]+)\s*=", line)
            if m:
                names.add(m.group(1))
            m = re.search(r"\bpackage\s*=\s*\"([\w-]+)\"", line)
            if m:
                names.add(m.group(1))
    return names


def test_core_crate_builds_without_python() -> None:
    deps = dependency_names((ROOT / "crates/core/Cargo.toml").read_text())
    assert "serde_json" in deps  # the parser reads this file's tables at all
    bad = sorted(
        d for d in deps if d.startswith("pyo3") or d in ("tccvm-py", "tccvm-emulator")
    )
    assert not bad, (
        f"crates/core must build without Python and below the other crates: {bad}"
    )


def test_dependency_names_parser() -> None:
    toml = "[dependencies]\nserde = \"1\"\n\n[target.'cfg(unix)'.dev-dependencies]\n"
    toml += 'py = { package = "pyo3", version = "0.27" }\n\n[dependencies.pyo3-ffi]\n'
    assert dependency_names(toml) == {"serde", "py", "pyo3", "pyo3-ffi"}


BUSY_WAIT = re.compile(
    r"\bspin_loop\b|\bthread::(\{[^}]*)?\byield_now\b|\bsched_yield\b"
)


def busy_waits(text: str) -> list[str]:
    hits = []
    for n, raw in enumerate(text.splitlines(), 1):
        code = raw.split("//", 1)[0]  # comments may name what the code must not do
        if BUSY_WAIT.search(code):
            hits.append(f"{n}: {raw.strip()}")
    return hits


def test_the_sdk_never_busy_polls() -> None:
    found = {}
    for crate in ("crates/core/src", "crates/py/src"):
        for f in sorted((ROOT / crate).rglob("*.rs")):
            hits = busy_waits(f.read_text(encoding="utf-8"))
            if hits:
                found[str(f.relative_to(ROOT))] = hits
    assert not found, f"busy-wait primitives in the SDK's crates: {found}"


def test_busy_wait_pattern() -> None:
    assert busy_waits("std::hint::spin_loop();")
    assert busy_waits("    std::thread::yield_now();")
    assert busy_waits("use std::thread::{sleep, yield_now};")
    assert busy_waits("unsafe { libc::sched_yield() };")
    assert not busy_waits(
        "tokio::task::yield_now().await; // not std::thread::yield_now"
    )
