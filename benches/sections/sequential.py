"""Section `sequential`: sequential sync calls, free and pinned to one vCPU, with the CPU
each process spends per call.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any, Callable

from common import (
    EmulatorProcess,
    have_vendor,
    log,
    stat_cpu,
    tccvm_client,
    vendor_client,
    vendor_request,
)


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _cpu_of(pid: int) -> float:
    try:
        return stat_cpu(f"/proc/{pid}/stat")
    except (OSError, IndexError, ValueError):
        return float("nan")


def _measure_interleaved(
    emu: EmulatorProcess, work: dict[str, tuple[int, Callable[[], Any]]], rounds: int
) -> dict[str, dict[str, float]]:
    """`_measure` for several clients taking turns: `rounds` rounds, each doing 1/rounds of every
    client's calls, summed per client. The machine's speed drifts within a minute; taking turns
    gives each client the same mix of fast and slow stretches."""
    tot = {k: [0.0, 0.0, 0.0, 0] for k in work}
    for r in range(rounds):
        for name, (n, fn) in work.items():
            share = n // rounds + (1 if r < n % rounds else 0)
            e0, c0, t0 = _cpu_of(emu.proc.pid), _cpu_self(), time.perf_counter()
            for _ in range(share):
                fn()
            dt = time.perf_counter() - t0
            c1, e1 = _cpu_self(), _cpu_of(emu.proc.pid)
            acc = tot[name]
            acc[0] += dt
            acc[1] += c1 - c0
            acc[2] += e1 - e0
            acc[3] += share
    return {
        k: {
            "rate": n / dt,
            "client_cpu_ms": c / n * 1e3,
            "emulator_cpu_ms": e / n * 1e3,
        }
        for k, (dt, c, e, n) in tot.items()
    }


def _pin(pid: int, cpus: set[int]) -> None:
    """Every thread of process `pid` onto `cpus` (sched_setaffinity works per thread)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except (ProcessLookupError, PermissionError):
            pass  # a thread that ended meanwhile


def bench_sequential(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """Sequential sync DescribeInstances(Limit=20): once with both processes free to run on
    every vCPU, once with this process and the emulator's on one vCPU. A call is a ping-pong
    between the two processes: free, each hand-over may wait for the other vCPU to wake from
    idle (on a virtual machine, a trip through the hypervisor) — the same wait for both SDKs,
    and no part of either's cost. On one vCPU the hand-over is a plain context switch, and
    calls/s measure what each SDK costs per call."""
    out = _sequential(emu, smoke)
    if not hasattr(os, "sched_setaffinity") or not Path("/proc/self/task").exists():
        out["pinned"] = {"skipped": "no sched_setaffinity or /proc"}
        return out
    mine = os.sched_getaffinity(0)
    theirs = os.sched_getaffinity(emu.proc.pid)
    cpu = max(mine & theirs) if mine & theirs else max(mine)
    _pin(os.getpid(), {cpu})
    _pin(emu.proc.pid, {cpu})
    try:
        pinned = _sequential(emu, smoke, label=f"sequential on vCPU {cpu}")
    finally:
        _pin(os.getpid(), mine)
        _pin(emu.proc.pid, theirs)
    pinned["cpu"] = cpu
    out["pinned"] = pinned
    return out


def _sequential(
    emu: EmulatorProcess, smoke: bool, label: str = "sequential"
) -> dict[str, Any]:
    """One sync client each, no added latency; the clients take turns (10 rounds)."""
    n_t, n_v = (20, 10) if smoke else (3000, 400)
    rounds = 1 if smoke else 10
    c = tccvm_client(emu)
    for _ in range(min(50, n_t)):
        c.describe_instances(Limit=20)
    work: dict[str, tuple[int, Callable[[], Any]]] = {
        "tccvm": (n_t, lambda: c.describe_instances(Limit=20))
    }
    vendors = []
    if have_vendor():
        for keep_alive, key in ((True, "vendor"), (False, "vendor_default")):
            v = vendor_client(emu, keep_alive)
            for _ in range(min(20, n_v)):
                v.DescribeInstances(vendor_request())
            work[key] = (n_v, lambda v=v: v.DescribeInstances(vendor_request()))
            vendors.append((keep_alive, key))
    got = _measure_interleaved(emu, work, rounds)
    c.close()
    m = got["tccvm"]
    out: dict[str, Any] = {
        "tccvm_calls": n_t,
        "tccvm_rate": m["rate"],
        "rounds": rounds,
    }
    out["tccvm_client_cpu_ms"] = m["client_cpu_ms"]
    out["tccvm_emulator_cpu_ms"] = m["emulator_cpu_ms"]
    log(
        f"{label}: tccvm {out['tccvm_rate']:.0f} calls/s "
        f"(cpu/call: client {m['client_cpu_ms']:.2f} ms, emulator {m['emulator_cpu_ms']:.2f} ms)"
    )
    for keep_alive, key in vendors:
        m = got[key]
        out[f"{key}_calls"] = n_v
        out[f"{key}_rate"] = m["rate"]
        out[f"{key}_client_cpu_ms"] = m["client_cpu_ms"]
        out[f"{key}_emulator_cpu_ms"] = m["emulator_cpu_ms"]
        log(
            f"{label}: {key} (keepAlive={keep_alive}) {m['rate']:.0f} calls/s "
            f"(cpu/call: client {m['client_cpu_ms']:.2f} ms, "
            f"emulator {m['emulator_cpu_ms']:.2f} ms)"
        )
    if vendors:
        out["ratio"] = out["tccvm_rate"] / out["vendor_rate"]
        out["client_cpu_ratio"] = (
            out["vendor_client_cpu_ms"] / out["tccvm_client_cpu_ms"]
        )
    return out
