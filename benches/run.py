"""tccvm side by side with the vendor's SDK (tencentcloud-sdk-python-cvm), against one emulator.

    python benches/run.py            # the full suite (a few minutes on 2 cores); rewrites the
                                     # figures section of BENCHMARKS.md, benches/results/*
    python benches/run.py --smoke    # tiny counts, no timing goals, for CI (< 30 s)
    python benches/run.py --only decode,sequential --no-md

The emulator runs in its own process (``python -m tccvm.emulator``) so that its runtime does not
share a process (or a GIL) with the clients measured; every client talks HTTP to it on loopback.
Each section prints its figures as it goes; the results are written as JSON (and a chart when
matplotlib is installed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, EmulatorProcess, log, populate
from report import chart, goals, machine, markdown, rewrite_md
from sections import REGISTRY

SECTIONS = tuple(REGISTRY)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny counts (CI); no goals")
    ap.add_argument(
        "--only", default="", help=f"comma-separated sections of {SECTIONS}"
    )
    ap.add_argument(
        "--out",
        default=None,
        help="results dir (default: benches/results for a full run that rewrites "
        "BENCHMARKS.md, a new temporary dir with --no-md or --smoke, so that a partial run "
        "never overwrites the published results)",
    )
    ap.add_argument("--no-md", action="store_true", help="do not rewrite BENCHMARKS.md")
    args = ap.parse_args(argv)
    only = [s for s in args.only.split(",") if s] or list(SECTIONS)
    unknown = set(only) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections {sorted(unknown)}")
    if args.out:
        out_dir = Path(args.out)
    elif args.no_md or args.smoke:
        out_dir = Path(tempfile.mkdtemp(prefix="tccvm-bench-"))
    else:
        out_dir = ROOT / "benches" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke}
    emu = EmulatorProcess()
    try:
        populate(emu, 100)
        for name in SECTIONS:
            if name in only:
                results[name] = REGISTRY[name](emu, args.smoke)
    finally:
        emu.close()
    results["total_s"] = time.perf_counter() - t0
    results["goals"] = [
        {"goal": g, "measured": m, "met": met} for g, m, met in goals(results)
    ]
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    has_chart = chart(results, out_dir / "chart.png")
    log(f"results: {out_dir / 'results.json'}" + (" + chart.png" if has_chart else ""))
    if not args.smoke:
        for g in results["goals"]:
            log(f"  {'met ' if g['met'] else 'MISS'} {g['goal']}: {g['measured']}")
    if not args.smoke and not args.no_md:
        cmd = "python benches/run.py" + (f" --only {args.only}" if args.only else "")
        rewrite_md(markdown(results, cmd, "chart.png" if has_chart else None))
        log("BENCHMARKS.md rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
