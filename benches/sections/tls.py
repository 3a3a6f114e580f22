"""Over HTTPS at a simulated round trip (the emulator's ``--tls --rtt``): what users 10-50 ms
away feel. tccvm sync and async against the vendor's sync client (default and keep-alive) and
its async client, in one run: the first call of a fresh process, 100 sequential calls, 1,000
calls with 64 in flight (connections opened, HTTP version) and paginating 2,000 fully
populated instances; each in round trips, against its ideal."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from common import REGION, EmulatorProcess, log, populate

RTT = 0.03
CLIENTS = ("tccvm", "tccvm_async", "vendor_keepalive", "vendor_default", "vendor_async")


def tccvm_kwargs(emu: Any) -> dict[str, Any]:
    return {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": emu.endpoint,
        "verify": emu.ca_bundle,
    }


def vendor_sync(emu: Any, keep_alive: bool) -> Any:
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client

    hp = HttpProfile(
        endpoint=emu.host,
        protocol="https",
        reqTimeout=60,
        keepAlive=keep_alive,
        certification=emu.ca_bundle,
    )
    cp = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=hp)
    cred = credential.Credential(emu.secret_id, emu.secret_key)
    return cvm_client.CvmClient(cred, REGION, cp)


def vendor_async(emu: Any) -> Any:
    """The vendor's async client. Its ``certification`` option is handed to httpx as a
    *client* certificate (``cert=``), not as the CA to verify against, so the CA goes where
    httpx reads it from the environment (``SSL_CERT_FILE``, set by the caller)."""
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.cvm.v20170312 import cvm_client_async

    hp = HttpProfile(endpoint=emu.host, protocol="https", reqTimeout=60, keepAlive=True)
    cp = ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=hp)
    cred = credential.Credential(emu.secret_id, emu.secret_key)
    return cvm_client_async.CvmClient(cred, REGION, cp)


def vendor_request(limit: int, offset: int = 0) -> Any:
    from tencentcloud.cvm.v20170312 import models

    req = models.DescribeInstancesRequest()
    req.Limit = limit
    req.Offset = offset
    return req


FIRST_CALL = {
    "tccvm": (
        "import tccvm\n"
        "c = tccvm.Client(secret_id=SID, secret_key=SKEY, region=REGION, endpoint=ENDPOINT,"
        " verify=CA)\n"
        "c.describe_instances(Limit=20)\n"
    ),
    "tccvm_async": (
        "import asyncio, tccvm\n"
        "async def main():\n"
        "    async with tccvm.AsyncClient(secret_id=SID, secret_key=SKEY, region=REGION,"
        " endpoint=ENDPOINT, verify=CA) as c:\n"
        "        await c.describe_instances(Limit=20)\n"
        "asyncio.run(main())\n"
    ),
    "vendor_keepalive": (
        "from tencentcloud.common import credential\n"
        "from tencentcloud.common.profile.client_profile import ClientProfile\n"
        "from tencentcloud.common.profile.http_profile import HttpProfile\n"
        "from tencentcloud.cvm.v20170312 import cvm_client, models\n"
        "hp = HttpProfile(endpoint=HOST, protocol='https', keepAlive=True, certification=CA)\n"
        "c = cvm_client.CvmClient(credential.Credential(SID, SKEY), REGION,"
        " ClientProfile(signMethod='TC3-HMAC-SHA256', httpProfile=hp))\n"
        "r = models.DescribeInstancesRequest(); r.Limit = 20\n"
        "c.DescribeInstances(r)\n"
    ),
    "vendor_async": (
        "import asyncio\n"
        "from tencentcloud.common import credential\n"
        "from tencentcloud.common.profile.client_profile import ClientProfile\n"
        "from tencentcloud.common.profile.http_profile import HttpProfile\n"
        "from tencentcloud.cvm.v20170312 import cvm_client_async, models\n"
        "async def main():\n"
        "    hp = HttpProfile(endpoint=HOST, protocol='https', keepAlive=True)\n"
        "    c = cvm_client_async.CvmClient(credential.Credential(SID, SKEY), REGION,"
        " ClientProfile(signMethod='TC3-HMAC-SHA256', httpProfile=hp))\n"
        "    r = models.DescribeInstancesRequest(); r.Limit = 20\n"
        "    await c.DescribeInstances(r)\n"
        "asyncio.run(main())\n"
    ),
}
FIRST_CALL["vendor_default"] = FIRST_CALL["vendor_keepalive"].replace(
    "keepAlive=True", "keepAlive=False"
)


def first_call(emu: Any, client: str, runs: int) -> list[float]:
    """Seconds from the first line of a fresh interpreter (before any import) to the first
    call's answer: import, client, TCP and TLS handshakes, the call."""
    head = (
        "import time\n_t = time.perf_counter()\n"
        f"SID, SKEY, REGION = {emu.secret_id!r}, {emu.secret_key!r}, {REGION!r}\n"
        f"ENDPOINT, HOST, CA = {emu.endpoint!r}, {emu.host!r}, {emu.ca_bundle!r}\n"
    )
    code = head + FIRST_CALL[client] + "print(time.perf_counter() - _t)\n"
    env = dict(os.environ, SSL_CERT_FILE=emu.ca_bundle)
    out = []
    for _ in range(runs + 1):  # the first run writes the bytecode caches; discarded
        p = subprocess.run(
            [sys.executable, "-c", code],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        if p.returncode != 0:
            raise RuntimeError(f"first call ({client}) failed: {p.stderr[-2000:]}")
        out.append(float(p.stdout.strip().splitlines()[-1]))
    return out[1:]


def make_calls(emu: Any) -> dict[str, Callable[[int], float]]:
    """Per client: a function making n sequential DescribeInstances(Limit=20) calls on a warm
    client, returning the seconds they took."""
    import tccvm

    sync = tccvm.Client(**tccvm_kwargs(emu))
    ka = vendor_sync(emu, True)
    dflt = vendor_sync(emu, False)
    loop = asyncio.new_event_loop()
    tasync = tccvm.AsyncClient(**tccvm_kwargs(emu))
    vasync = vendor_async(emu)

    def timed(f: Callable[[], Any]) -> Callable[[int], float]:
        def run(n: int) -> float:
            t = time.perf_counter()
            for _ in range(n):
                f()
            return time.perf_counter() - t

        return run

    def timed_async(f: Callable[[], Any]) -> Callable[[int], float]:
        async def many(n: int) -> float:
            t = time.perf_counter()
            for _ in range(n):
                await f()
            return time.perf_counter() - t

        return lambda n: loop.run_until_complete(many(n))

    fns = {
        "tccvm": timed(lambda: sync.describe_instances(Limit=20)),
        "tccvm_async": timed_async(lambda: tasync.describe_instances(Limit=20)),
        "vendor_keepalive": timed(lambda: ka.DescribeInstances(vendor_request(20))),
        "vendor_default": timed(lambda: dflt.DescribeInstances(vendor_request(20))),
        "vendor_async": timed_async(
            lambda: vasync.DescribeInstances(vendor_request(20))
        ),
    }
    for f in fns.values():
        f(1)  # connections made, bytecode warm
    return fns


def sequential(fns: dict[str, Callable[[int], float]], calls: int, rounds: int) -> dict:
    """``calls`` sequential calls per client, in ``rounds`` turns (the machine drifts)."""
    per = max(1, calls // rounds)
    spent = dict.fromkeys(fns, 0.0)
    for r in range(rounds):
        order = list(fns) if r % 2 == 0 else list(reversed(fns))
        for k in order:
            spent[k] += fns[k](per)
    return {k: {"calls": per * rounds, "seconds": s} for k, s in spent.items()}


def burst(emu: Any, client: str, n: int, in_flight: int) -> dict[str, Any]:
    """``n`` calls with ``in_flight`` at once on a new client (its handshakes included):
    asyncio with a semaphore for the async clients, a thread pool for the sync ones (one
    shared tccvm ``Client``; a vendor client per thread, as it is not thread-safe)."""
    import tccvm

    before = emu.control("stats")
    t = time.perf_counter()
    if client == "tccvm_async":

        async def main() -> None:
            async with tccvm.AsyncClient(**tccvm_kwargs(emu)) as c:
                sem = asyncio.Semaphore(in_flight)

                async def one() -> Any:
                    async with sem:
                        return await c.describe_instances(Limit=20)

                await asyncio.gather(*(one() for _ in range(n)))

        asyncio.run(main())
    elif client == "vendor_async":

        async def vmain() -> None:
            c = vendor_async(emu)
            sem = asyncio.Semaphore(in_flight)

            async def one() -> Any:
                async with sem:
                    return await c.DescribeInstances(vendor_request(20))

            await asyncio.gather(*(one() for _ in range(n)))

        asyncio.run(vmain())
    else:
        if client == "tccvm":
            shared = tccvm.Client(**tccvm_kwargs(emu))

            def call(_: int) -> Any:
                return shared.describe_instances(Limit=20)
        else:
            local = threading.local()
            keep = client == "vendor_keepalive"

            def call(_: int) -> Any:
                c = getattr(local, "c", None)
                if c is None:
                    c = local.c = vendor_sync(emu, keep)
                return c.DescribeInstances(vendor_request(20))

        with ThreadPoolExecutor(in_flight) as pool:
            list(pool.map(call, range(n)))
    seconds = time.perf_counter() - t
    s = emu.control("stats")
    return {
        "calls": n,
        "seconds": seconds,
        # Less the connection of the stats request itself.
        "connections": s["connections"] - before["connections"] - 1,
        "connections_h2": s["connections_h2"] - before["connections_h2"],
    }


def paginate(emu: Any, client: str, total: int) -> dict[str, Any]:
    """Every instance of the region, 100 per page (``total`` of them)."""
    import tccvm

    pages = 0
    got = 0
    t = time.perf_counter()
    if client == "tccvm":
        with tccvm.Client(**tccvm_kwargs(emu)) as c:
            for _ in c.paginate("DescribeInstances", Limit=100):
                got += 1
        pages = -(-total // 100)
    elif client == "tccvm_async":

        async def main() -> int:
            n = 0
            async with tccvm.AsyncClient(**tccvm_kwargs(emu)) as c:
                async for _ in c.paginate("DescribeInstances", Limit=100):
                    n += 1
            return n

        got = asyncio.run(main())
        pages = -(-total // 100)
    elif client == "vendor_async":

        async def vmain() -> tuple[int, int]:
            c = vendor_async(emu)
            n, p, off = 0, 0, 0
            while True:
                r = await c.DescribeInstances(vendor_request(100, off))
                p += 1
                n += len(r.InstanceSet)
                off += 100
                if off >= r.TotalCount:
                    return n, p

        got, pages = asyncio.run(vmain())
    else:
        c = vendor_sync(emu, client == "vendor_keepalive")
        off = 0
        while True:
            r = c.DescribeInstances(vendor_request(100, off))
            pages += 1
            got += len(r.InstanceSet)
            off += 100
            if off >= r.TotalCount:
                break
    seconds = time.perf_counter() - t
    assert got == total, (client, got, total)
    return {"instances": got, "pages": pages, "seconds": seconds}


def bench_tls(_plain: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """Everything over HTTPS at RTT, against an emulator of its own (``--tls --rtt``)."""
    emu = EmulatorProcess(tls=True, rtt=RTT)
    old = os.environ.get("SSL_CERT_FILE")
    # The vendor's async client reads its CA from there (see vendor_async).
    os.environ["SSL_CERT_FILE"] = emu.ca_bundle
    try:
        return measure(emu, smoke)
    finally:
        if old is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = old
        emu.close()


def measure(emu: Any, smoke: bool) -> dict[str, Any]:
    rtt = emu.rtt
    out: dict[str, Any] = {"rtt": rtt}
    total = 200 if smoke else 2000
    # Above the emulator's default instance quota per region (1,000).
    emu.control("quotas", {"instances": total})
    populate(emu, total)
    runs = 1 if smoke else 5
    out["first_call"] = {}
    for k in CLIENTS:
        ts = first_call(emu, k, runs)
        m = statistics.median(ts)
        out["first_call"][k] = {"runs": ts, "median": m, "rtts": m / rtt}
        log(f"tls first call {k}: {m * 1e3:.0f} ms = {m / rtt:.1f} RTT")
    fns = make_calls(emu)
    seq = sequential(fns, 10 if smoke else 100, 2 if smoke else 5)
    for v in seq.values():
        v["rtts_per_call"] = v["seconds"] / v["calls"] / rtt
    log(
        "tls sequential (RTT per call): "
        + ", ".join(f"{k} {v['rtts_per_call']:.3f}" for k, v in seq.items())
    )
    out["sequential"] = seq
    n, k = (64, 16) if smoke else (1000, 64)
    out["burst"] = {"calls": n, "in_flight": k, "ideal": n / k * rtt, "clients": {}}
    for c in CLIENTS:
        b = burst(emu, c, n, k)
        b["vs_ideal"] = b["seconds"] / (n / k * rtt)
        out["burst"]["clients"][c] = b
        log(
            f"tls {n}@{k} {c}: {b['seconds']:.2f} s = {b['vs_ideal']:.2f}x ideal, "
            f"{b['connections']} connections ({b['connections_h2']} HTTP/2)"
        )
    out["paginate"] = {"instances": total, "clients": {}}
    for c in CLIENTS:
        p = paginate(emu, c, total)
        p["ideal"] = p["pages"] * rtt
        p["vs_ideal"] = p["seconds"] / p["ideal"]
        out["paginate"]["clients"][c] = p
        log(
            f"tls paginate {total} {c}: {p['seconds']:.2f} s = {p['vs_ideal']:.2f}x pages x RTT"
        )
    return out
