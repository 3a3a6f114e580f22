"""What every benchmark section shares: the emulator in its own process, the clients of both
SDKs, and the timing helpers.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-guangzhou"


def log(*a: Any) -> None:
    print(*a, flush=True)


# ---------------------------------------------------------------------------------------------
# The emulator, in its own process
# ---------------------------------------------------------------------------------------------


class EmulatorProcess:
    def __init__(self, tls: bool = False, rtt: float = 0.0) -> None:
        extra = (["--tls"] if tls else []) + (["--rtt", str(rtt)] if rtt else [])
        self.rtt = rtt
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tccvm.emulator",
                "--port",
                "0",
                "--seed",
                "7",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        info: dict[str, str] = {}
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith(("endpoint: ", "ca_bundle: ")):
                k, v = line.split(": ", 1)
                info[k] = v.strip()
            elif "=" in line:
                k, v = line.strip().split("=", 1)
                info[k] = v
            if line.startswith("serving"):
                break
        if "endpoint" not in info:
            self.close()
            raise RuntimeError("the emulator did not start")
        self.endpoint = info["endpoint"]
        self.host = self.endpoint.split("//", 1)[1]
        self.secret_id = info["TENCENTCLOUD_SECRET_ID"]
        self.secret_key = info["TENCENTCLOUD_SECRET_KEY"]
        self.ca_bundle = info.get("ca_bundle", "")

    def control(self, op: str, args: dict[str, Any] | None = None) -> Any:
        req = urllib.request.Request(
            f"{self.endpoint}/_emulator/{op}",
            data=json.dumps(args or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        ctx = (
            ssl.create_default_context(cafile=self.ca_bundle)
            if self.ca_bundle
            else None
        )
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return json.loads(r.read())

    def latency(self, seconds: float) -> None:
        self.control("faults", {"latency": float(seconds), "jitter": 0.0})

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# ---------------------------------------------------------------------------------------------
# Clients
# ---------------------------------------------------------------------------------------------


def tccvm_client(emu: EmulatorProcess, cls: Any = None, **options: Any) -> Any:
    import tccvm

    cls = cls or tccvm.Client
    return cls(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region=REGION,
        endpoint=emu.endpoint,
        verify=getattr(emu, "ca_bundle", "") or True,
        **options,
    )


def have_vendor() -> bool:
    try:
        import tencentcloud.cvm.v20170312.cvm_client  # noqa: F401
    except ImportError:
        return False
    return True


def have_vendor_async() -> bool:
    try:
        import tencentcloud.cvm.v20170312.cvm_client_async  # noqa: F401
    except ImportError:
        return False
    return True


def vendor_profile(emu: EmulatorProcess, keep_alive: bool = True) -> Any:
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    hp = HttpProfile(
        endpoint=emu.host, protocol="http", reqTimeout=60, keepAlive=keep_alive
    )
    return ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=hp)


def vendor_client(emu: EmulatorProcess, keep_alive: bool = True) -> Any:
    from tencentcloud.common import credential
    from tencentcloud.cvm.v20170312 import cvm_client

    cred = credential.Credential(emu.secret_id, emu.secret_key)
    return cvm_client.CvmClient(cred, REGION, vendor_profile(emu, keep_alive))


def vendor_async_client(emu: EmulatorProcess, keep_alive: bool = True) -> Any:
    from tencentcloud.common import credential
    from tencentcloud.cvm.v20170312 import cvm_client_async

    cred = credential.Credential(emu.secret_id, emu.secret_key)
    return cvm_client_async.CvmClient(cred, REGION, vendor_profile(emu, keep_alive))


def vendor_request(limit: int = 20) -> Any:
    from tencentcloud.cvm.v20170312 import models

    req = models.DescribeInstancesRequest()
    req.Limit = limit
    return req


def populate(emu: EmulatorProcess, count: int) -> None:
    """Launch `count` instances with every optional part filled in (disks, public IP, VPC,
    security groups, key pair, tags), so that DescribeInstances answers are fully populated."""
    c = tccvm_client(emu)
    left = count
    n = 0
    while left > 0:
        k = min(100, left)
        c.run_instances(
            Placement={"Zone": "ap-guangzhou-3", "ProjectId": 0},
            ImageId="img-pmqg1cw7",
            InstanceType="S3.MEDIUM4",
            InstanceChargeType="POSTPAID_BY_HOUR",
            InstanceCount=k,
            InstanceName=f"bench-{n}",
            SystemDisk={"DiskType": "CLOUD_PREMIUM", "DiskSize": 50},
            DataDisks=[
                {"DiskType": "CLOUD_PREMIUM", "DiskSize": 100},
                {"DiskType": "CLOUD_SSD", "DiskSize": 200},
            ],
            InternetAccessible={
                "InternetChargeType": "TRAFFIC_POSTPAID_BY_HOUR",
                "InternetMaxBandwidthOut": 10,
                "PublicIpAssigned": True,
            },
        )
        left -= k
        n += 1
    c.close()


# ---------------------------------------------------------------------------------------------
# Timing helpers
# ---------------------------------------------------------------------------------------------


def best_per_call_interleaved(
    fns: dict[str, Callable[[], Any]], number: int, repeat: int
) -> dict[str, float]:
    """Best mean seconds per call of each function over `repeat` rounds of `number` calls,
    the functions taking turns in every round: this machine's speed drifts within a minute
    (seen: the same decode 750 us, then 400 us), which would otherwise land on whichever
    function ran in the slow stretch."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - t) / number)
    return best


def stat_cpu(path: str) -> float:
    """CPU seconds (user + system) in a ``/proc/.../stat`` file: a process's or a thread's."""
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def gather_capped(n: int, cap: int, fn: Callable[[], Any]) -> None:
    sem = asyncio.Semaphore(cap)

    async def one() -> None:
        async with sem:
            await fn()

    await asyncio.gather(*(one() for _ in range(n)))


def median_subprocess(code: str, runs: int) -> float:
    """Median over fresh interpreters, with bytecode caching on (as after `pip install`, which
    compiles .pyc files) even where PYTHONDONTWRITEBYTECODE is set; a first, discarded run
    writes the caches."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    vals = []
    for i in range(runs + 1):
        r = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            env=env,
        )
        if i:
            vals.append(float(r.stdout.strip().splitlines()[-1]))
    return statistics.median(vals)
