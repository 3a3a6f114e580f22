"""Section `gc`: a fan-out that keeps its results, with CPython's cyclic collector on and off
(``gc.disable()``), and the time the collector took while it was on."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import Any

from common import EmulatorProcess, log, tccvm_client


def bench_gc(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """2,000 DescribeInstances(Limit=20) at 50 ms injected latency, 256 in flight, every
    answer kept in a list (as a caller collecting results does); the collector on and off in
    turns (best of 3 each)."""
    import tccvm

    n, cap, latency, rounds = (40, 16, 0.05, 1) if smoke else (2000, 256, 0.05, 3)
    in_gc = [0.0]
    started = [0.0]

    def watch(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            in_gc[0] += time.perf_counter() - started[0]

    async def run(k: int) -> float:
        ac = tccvm_client(emu, tccvm.AsyncClient)
        sem = asyncio.Semaphore(cap)

        async def one() -> Any:
            async with sem:
                return await ac.describe_instances(Limit=20)

        await asyncio.gather(*(one() for _ in range(min(k, cap))))  # connections made
        t = time.perf_counter()
        kept = await asyncio.gather(*(one() for _ in range(k)))
        dt = time.perf_counter() - t
        await ac.aclose()
        assert len(kept) == k
        return dt

    emu.latency(latency)
    best = {"gc_on": float("inf"), "gc_off": float("inf")}
    collector = float("inf")
    collections = 0
    try:
        for _ in range(rounds):
            for mode in ("gc_on", "gc_off"):
                gc.collect()
                in_gc[0] = 0.0
                before = sum(s["collections"] for s in gc.get_stats())
                if mode == "gc_off":
                    gc.disable()
                else:
                    gc.callbacks.append(watch)
                try:
                    dt = asyncio.run(run(n))
                finally:
                    gc.enable()
                    if watch in gc.callbacks:
                        gc.callbacks.remove(watch)
                if dt < best[mode]:
                    best[mode] = dt
                    if mode == "gc_on":
                        collector = in_gc[0]
                        collections = (
                            sum(s["collections"] for s in gc.get_stats()) - before
                        )
    finally:
        emu.latency(0)
    out: dict[str, Any] = {
        "calls": n,
        "in_flight": cap,
        "latency_s": latency,
        "gc_on_s": best["gc_on"],
        "gc_off_s": best["gc_off"],
        "collector_s": collector,
        "collections": collections,
        "ratio": best["gc_on"] / best["gc_off"],
    }
    log(
        f"gc: {n} kept results, collector on {best['gc_on']:.3f} s "
        f"({collector:.3f} s in {collections} collections), off {best['gc_off']:.3f} s"
    )
    return out
