"""The benchmark suite (benches/run.py) in its smoke version: tiny counts, no timing goals.

It runs every section against a real emulator process and checks that each one reports its
figures (and that BENCHMARKS.md is left alone), so CI notices when the benchmark breaks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("tccvm._core")


@pytest.mark.timeout(120)
def test_benchmark_smoke(tmp_path: Path) -> None:
    md = ROOT / "BENCHMARKS.md"
    before = md.read_text() if md.exists() else None
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benches" / "run.py"),
            "--smoke",
            "--out",
            str(tmp_path),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["smoke"] is True
    d = results["decode"]
    assert d["instances"] == 100 and d["bytes"] > 10_000
    assert d["tccvm_us"] > 0 and d["json_loads_us"] > 0
    assert results["sequential"]["tccvm_rate"] > 0
    assert set(results["threads"]["latency_0ms"]) == {"1", "4", "16"}
    f = results["fanout"]["limit_20"]
    assert f["tccvm_s"] > 0 and f["ideal_s"] > 0
    k = results["gc"]
    assert k["gc_on_s"] > 0 and k["gc_off_s"] > 0 and k["collector_s"] >= 0
    assert results["ceiling"]["tccvm_async_rate"] > 0
    assert results["import"]["tccvm_ms"] > 0
    assert results["memory"]["tccvm_kib"] != 0
    t = results["tls"]
    assert t["rtt"] > 0 and t["sequential"]["tccvm"]["rtts_per_call"] >= 0.9
    a = t["burst"]["clients"]["tccvm_async"]
    assert a["connections"] == a["connections_h2"] >= 1
    assert t["paginate"]["clients"]["tccvm"]["instances"] == t["paginate"]["instances"]
    # One HTTP/2 connection carries the async burst (the pool's first-connection gate).
    assert a["connections"] == 1
    # The smoke run never rewrites the published figures.
    assert (md.read_text() if md.exists() else None) == before
