"""The one write-or-check step of the generators (build_model, gen_stubs, gen_errors): write
the generated files, or with ``--check`` report those that differ from what is committed."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_or_check(tool: str, outputs: dict[Path, str], check: bool) -> int:
    """Write ``outputs`` (path -> text), or, with ``check``, return 1 after naming the stale
    ones on stderr (0 when all are current). ``tool`` names the script in the message."""
    if check:
        stale = [
            str(p.relative_to(ROOT))
            for p, text in outputs.items()
            if not p.exists() or p.read_text(encoding="utf-8") != text
        ]
        if stale:
            print(
                f"{tool}: stale, run tools/{tool}.py: " + ", ".join(stale),
                file=sys.stderr,
            )
            return 1
        return 0
    for p, text in outputs.items():
        p.write_text(text, encoding="utf-8")
    return 0
