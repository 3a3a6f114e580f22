"""Section `ceiling`: the emulator's own throughput under wrk, and tccvm's async rate
against it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from common import REGION, EmulatorProcess, gather_capped, log, tccvm_client


def bench_ceiling(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """The emulator's own throughput under wrk (one pre-signed request, signature checks off)
    and tccvm's async throughput against it (256 in flight, no added latency)."""
    import tccvm
    from tccvm import _core

    out: dict[str, Any] = {}
    wrk = shutil.which("wrk")
    duration = 2 if smoke else 8
    emu.control("signature_check", {"enabled": False})
    try:
        if wrk:
            body = '{"Limit":20}'
            ts = int(time.time())
            auth = _core.sign_tc3(
                emu.secret_id,
                emu.secret_key,
                "POST",
                "/",
                "",
                [("content-type", "application/json"), ("host", emu.host)],
                body.encode(),
                ts,
            )
            fd, name = tempfile.mkstemp(prefix="tccvm-wrk-", suffix=".lua")
            os.close(fd)
            script = Path(name)
            headers = {
                "Content-Type": "application/json",
                "X-TC-Action": "DescribeInstances",
                "X-TC-Version": "2017-03-12",
                "X-TC-Region": REGION,
                "X-TC-Timestamp": str(ts),
                "Authorization": auth,
            }
            lua = ['wrk.method = "POST"', f"wrk.body = '{body}'"]
            lua += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
            script.write_text("\n".join(lua) + "\n")
            try:
                res = subprocess.run(
                    [
                        wrk,
                        "-t2",
                        "-c64",
                        f"-d{duration}s",
                        "-s",
                        str(script),
                        emu.endpoint,
                    ],
                    check=False,
                    capture_output=True,
                    text=True,
                    timeout=duration + 30,
                )
            finally:
                script.unlink()  # it holds a (short-lived, emulator-only) signature
            m = re.search(r"Requests/sec:\s+([\d.]+)", res.stdout)
            non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", res.stdout)
            if m:
                out["wrk_rate"] = float(m.group(1))
                out["wrk_non2xx"] = int(non2xx.group(1)) if non2xx else 0
                out["wrk_cmd"] = f"wrk -t2 -c64 -d{duration}s -s <pre-signed request>"
                log(f"ceiling: emulator under wrk {out['wrk_rate']:.0f} req/s")
        n = 200 if smoke else 6000

        async def run(k: int) -> float:
            ac = tccvm_client(emu, tccvm.AsyncClient)
            await gather_capped(256, 256, lambda: ac.describe_instances(Limit=20))
            t = time.perf_counter()
            await gather_capped(k, 256, lambda: ac.describe_instances(Limit=20))
            dt = time.perf_counter() - t
            await ac.aclose()
            return dt

        out["tccvm_async_rate"] = n / asyncio.run(run(n))
        log(f"ceiling: tccvm async {out['tccvm_async_rate']:.0f} calls/s")
        if "wrk_rate" in out:
            out["fraction"] = out["tccvm_async_rate"] / out["wrk_rate"]
    finally:
        emu.control("signature_check", {"enabled": True})
    return out
