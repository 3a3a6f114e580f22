"""Section `criterion`: the Rust criterion benchmarks, run by cargo in the source tree."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from typing import Any

from common import ROOT, EmulatorProcess, log

CRITERION_CMD = (
    "cargo bench -p tccvm-core --bench sign --bench params -- --warm-up-time 0.5 "
    "--measurement-time 2 "
    "--output-format bencher"
)
_BENCHER_LINE = re.compile(
    r"^test (?P<name>.+?) \.\.\. bench:\s+(?P<ns>[\d,]+) ns/iter \(\+/- (?P<pm>[\d,]+)\)"
)


def bench_criterion(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """The Rust criterion benchmarks (signing, serialization, the answer check), run by cargo
    in the source tree: a release build of the benches (minutes the first time), then ~40 s.
    Skipped in smoke runs and where there is no cargo or no source tree."""
    if smoke:
        return {"skipped": "smoke run"}
    if shutil.which("cargo") is None or not (ROOT / "Cargo.toml").exists():
        return {"skipped": "no cargo or no source tree"}
    t = time.perf_counter()
    proc = subprocess.run(
        CRITERION_CMD.split(), cwd=ROOT, capture_output=True, text=True, check=False
    )
    rows = []
    for line in proc.stdout.splitlines():
        m = _BENCHER_LINE.match(line.strip())
        if m:
            rows.append(
                {
                    "name": m["name"],
                    "ns": int(m["ns"].replace(",", "")),
                    "pm_ns": int(m["pm"].replace(",", "")),
                }
            )
    if proc.returncode != 0 or not rows:
        tail = "\n".join(proc.stderr.splitlines()[-5:])
        raise RuntimeError(f"{CRITERION_CMD} failed ({proc.returncode}): {tail}")
    log(f"criterion: {len(rows)} benchmarks in {time.perf_counter() - t:.0f} s")
    return {"command": CRITERION_CMD, "rows": rows}
