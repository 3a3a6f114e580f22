"""Section `fanout`: many calls in flight with injected latency, async and thread pools."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import (
    EmulatorProcess,
    gather_capped,
    have_vendor,
    have_vendor_async,
    log,
    tccvm_client,
    vendor_async_client,
    vendor_client,
    vendor_request,
)


def bench_fanout(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """N calls with 50 ms injected latency: AsyncClient + gather (256 in flight, and
    `max_connections=256` so that all of them can be on the wire: the default cap of 100 would
    make the ideal unreachable) vs the vendor's async client (same semaphore; its httpx pool
    keeps httpx's default cap of 100) and its sync client in a 32-thread pool; once with
    DescribeInstances(Limit=20) answers (~20 KB, CPU-heavy to decode) and once with Limit=1
    (~1 KB: the concurrency machinery itself)."""
    return {f"limit_{k}": _fanout(emu, smoke, k) for k in (20, 1)}


def _fanout(emu: EmulatorProcess, smoke: bool, limit: int) -> dict[str, Any]:
    import tccvm

    latency, cap = 0.050, 256
    n = 40 if smoke else 2000
    ideal = n * latency / cap
    emu.latency(latency)
    out: dict[str, Any] = {"calls": n, "latency_s": latency, "in_flight": cap}
    out["limit"] = limit
    out["ideal_s"] = max(ideal, latency)

    async def run_tccvm(k: int) -> float:
        ac = tccvm_client(emu, tccvm.AsyncClient, max_connections=cap)
        await gather_capped(
            min(k, cap), cap, lambda: ac.describe_instances(Limit=limit)
        )
        t = time.perf_counter()
        await gather_capped(k, cap, lambda: ac.describe_instances(Limit=limit))
        dt = time.perf_counter() - t
        await ac.aclose()
        return dt

    out["tccvm_s"] = asyncio.run(run_tccvm(n))
    out["tccvm_rate"] = n / out["tccvm_s"]
    out["tccvm_vs_ideal"] = out["tccvm_s"] / out["ideal_s"]
    log(
        f"fanout (Limit={limit}): tccvm {n} calls in {out['tccvm_s']:.3f} s (ideal {ideal:.3f} s)"
    )

    if have_vendor_async():

        async def run_vendor(k: int) -> float:
            vc = vendor_async_client(emu)
            req = vendor_request(limit)
            t = time.perf_counter()
            await gather_capped(k, cap, lambda: vc.DescribeInstances(req))
            dt = time.perf_counter() - t
            await vc.close()
            return dt

        # Probe the rate first: a run that would take minutes is cut down (rates compared).
        probe = 20 if smoke else 128
        probe_s = asyncio.run(run_vendor(probe))
        k = n if smoke else max(probe, min(n, int(probe / probe_s * 15)))
        dt = asyncio.run(run_vendor(k)) if k != probe else probe_s
        out.update(vendor_async_calls=k, vendor_async_s=dt, vendor_async_rate=k / dt)
        out["vendor_async_ratio"] = out["tccvm_rate"] / out["vendor_async_rate"]
        log(f"fanout (Limit={limit}): vendor async {k} calls in {dt:.3f} s")

    if have_vendor():
        local = threading.local()

        def vendor_call() -> None:
            v = getattr(local, "c", None)
            if v is None:
                v = local.c = vendor_client(emu)
            v.DescribeInstances(vendor_request(limit))

        with ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda _: vendor_call(), range(64)))  # one client per thread
            t = time.perf_counter()
            list(pool.map(lambda _: vendor_call(), range(n)))
            dt = time.perf_counter() - t
        out.update(
            vendor_threads_calls=n, vendor_threads_s=dt, vendor_threads_rate=n / dt
        )
        out["vendor_threads_ratio"] = out["tccvm_rate"] / out["vendor_threads_rate"]
        log(f"fanout (Limit={limit}): vendor sync x32 threads {n} calls in {dt:.3f} s")
    emu.latency(0)
    return out
