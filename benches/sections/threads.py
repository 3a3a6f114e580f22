"""Section `threads`: threads sharing one sync client, with and without added latency."""

from __future__ import annotations

import threading
import time
from typing import Any

from common import EmulatorProcess, log, tccvm_client


def bench_threads(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """1, 4, 16 threads sharing one sync client, with 0 and 10 ms of added latency."""
    out: dict[str, Any] = {}
    c = tccvm_client(emu)
    c.describe_instances(Limit=20)
    for latency in (0.0, 0.010):
        emu.latency(latency)
        row: dict[str, float] = {}
        for threads in (1, 4, 16):
            if smoke:
                per_thread = 3
            elif latency:
                per_thread = max(20, 1600 // threads // 4)
            else:
                per_thread = 1600 // threads
            barrier = threading.Barrier(threads + 1)

            def work(per_thread: int = per_thread, barrier: Any = barrier) -> None:
                barrier.wait()
                for _ in range(per_thread):
                    c.describe_instances(Limit=20)

            ts = [threading.Thread(target=work) for _ in range(threads)]
            for t in ts:
                t.start()
            barrier.wait()
            t0 = time.perf_counter()
            for t in ts:
                t.join()
            dt = time.perf_counter() - t0
            row[str(threads)] = threads * per_thread / dt
        out[f"latency_{int(latency * 1000)}ms"] = row
        log(
            f"threads (latency {latency * 1000:.0f} ms): "
            + ", ".join(f"{k}: {v:.0f}/s" for k, v in row.items())
        )
    emu.latency(0)
    c.close()
    return out
