"""Where the CPU of an async burst goes, thread by thread: the event loop's thread (it builds
every answer's Python objects), tccvm's runtime threads (HTTP, TLS, the answer check) and the
emulator's, per call, with the burst's time against its ideal. The figures the notes of
BENCHMARKS.md quote for the burst and fan-out goals.

    python benches/thread_cpu.py [ROUNDS]    # on a release build

Two workloads, each on a new ``AsyncClient`` (``max_connections=256``), every answer kept
until the last one arrives:
- the TLS section's burst: 1,000 ``DescribeInstances(Limit=20)``, 64 in flight, over HTTPS at a
  simulated 30 ms round trip (ideal 1000/64 RTT);
- the fan-out section's: 2,000 ``DescribeInstances(Limit=20)``, 256 in flight, plain HTTP,
  50 ms of latency added to each answer (ideal 2000 x 50 ms / 256).
CPU time is read per thread from ``/proc`` (Linux only).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import EmulatorProcess, populate, stat_cpu


def threads(pid: int) -> dict[str, float]:
    """CPU seconds per thread name of process ``pid``."""
    out: dict[str, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            cpu = stat_cpu(f"/proc/{pid}/task/{tid}/stat")
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        out[name] = out.get(name, 0.0) + cpu
    return out


def burst(n: int, in_flight: int, **kw: Any) -> float:
    """Seconds for ``n`` calls, ``in_flight`` at once, on a new ``AsyncClient``; every answer
    is kept until the last one arrives (``gather``'s list), as the TLS section's burst keeps
    them (``common.gather_capped`` drops each one as it comes)."""
    import tccvm

    async def main() -> float:
        async with tccvm.AsyncClient(max_connections=256, **kw) as c:
            sem = asyncio.Semaphore(in_flight)

            async def one() -> Any:
                async with sem:
                    return await c.describe_instances(Limit=20)

            t = time.perf_counter()
            kept = await asyncio.gather(*(one() for _ in range(n)))
            dt = time.perf_counter() - t
            assert len(kept) == n
            return dt

    return asyncio.run(main())


def measure(
    name: str, emu: EmulatorProcess, n: int, in_flight: int, ideal: float, **kw: Any
) -> None:
    before, ebefore = threads(os.getpid()), threads(emu.proc.pid)
    seconds = burst(n, in_flight, **kw)
    after, eafter = threads(os.getpid()), threads(emu.proc.pid)

    def per_call(a: dict[str, float], b: dict[str, float]) -> str:
        return ", ".join(
            f"{k} {(a[k] - b.get(k, 0.0)) * 1e3 / n:.3f}"
            for k in sorted(a)
            if a[k] - b.get(k, 0.0) > 0
        )

    print(
        f"{name}: {seconds:.3f} s = {seconds / ideal:.2f}x ideal ({ideal:.3f} s); CPU ms per "
        f"call: client [{per_call(after, before)}], emulator [{per_call(eafter, ebefore)}]"
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    tls = EmulatorProcess(tls=True, rtt=0.03)
    plain = EmulatorProcess()
    try:
        for emu in (tls, plain):
            emu.control("quotas", {"instances": 2000})
            populate(emu, 100)
        kw_tls = {
            "secret_id": tls.secret_id,
            "secret_key": tls.secret_key,
            "region": "ap-guangzhou",
            "endpoint": tls.endpoint,
            "verify": tls.ca_bundle,
        }
        kw_plain = {
            "secret_id": plain.secret_id,
            "secret_key": plain.secret_key,
            "region": "ap-guangzhou",
            "endpoint": plain.endpoint,
        }
        plain.latency(0.050)
        for _ in range(rounds):
            measure(
                "burst, TLS 30 ms RTT, 1000 @ 64",
                tls,
                1000,
                64,
                1000 / 64 * 0.03,
                **kw_tls,
            )
            measure(
                "fan-out, 50 ms latency, 2000 @ 256",
                plain,
                2000,
                256,
                2000 * 0.05 / 256,
                **kw_plain,
            )
    finally:
        tls.close()
        plain.close()


if __name__ == "__main__":
    main()
