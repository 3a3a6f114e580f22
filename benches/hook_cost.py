"""What event hooks and the wire log cost per call: sync ``describe_zones`` against the embedded
emulator, configurations taking turns, median per-call wall and CPU time of each.

    python benches/hook_cost.py [CALLS_PER_ROUND] [ROUNDS]    # on a release build
"""

from __future__ import annotations

import logging
import statistics
import sys
import time

import tccvm
from tccvm.emulator import Emulator


def run(client: tccvm.Client, n: int) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        client.describe_zones()
    return (time.perf_counter() - w) / n * 1e6, (time.process_time() - c) / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    logging.getLogger("tccvm").setLevel(logging.WARNING)
    wire = logging.getLogger("tccvm.wire")
    with Emulator() as emu:
        kw = {
            "secret_id": emu.secret_id,
            "secret_key": emu.secret_key,
            "region": "ap-guangzhou",
            "endpoint": emu.endpoint,
        }
        noop = {"request": [lambda e: None], "response": [lambda e: None]}
        configs = {
            "no hooks, wire log off": (tccvm.Client(**kw), logging.NOTSET),
            "no-op request+response hooks": (
                tccvm.Client(**kw, event_hooks=noop),
                logging.NOTSET,
            ),
            "wire log on (DEBUG, no handler shows it)": (
                tccvm.Client(**kw),
                logging.DEBUG,
            ),
        }
        for c, _ in configs.values():
            run(c, 50)
        res: dict[str, list[tuple[float, float]]] = {k: [] for k in configs}
        for _ in range(rounds):
            for name, (c, level) in configs.items():
                wire.setLevel(level)
                res[name].append(run(c, n))
        wire.setLevel(logging.NOTSET)
    for name, r in res.items():
        wall = statistics.median(x for x, _ in r)
        cpu = statistics.median(y for _, y in r)
        print(f"{name:44s} wall {wall:7.1f} us/call  cpu {cpu:7.1f} us/call")


if __name__ == "__main__":
    main()
