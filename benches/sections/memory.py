"""Section `memory`: resident memory added per client."""

from __future__ import annotations

from typing import Any

from common import ROOT, EmulatorProcess, have_vendor, log, median_subprocess

_MEMORY_CODE = """
import gc, os, sys
sys.path.insert(0, {benches!r})
import common
class E:
    endpoint = {endpoint!r}; host = {host!r}; secret_id = {sid!r}; secret_key = {skey!r}
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
make = common.{factory}
first = make(E)  # the first client pays for the runtime, the model, imports
gc.collect(); before = rss()
keep = [make(E) for _ in range({n})]
gc.collect(); print((rss() - before) / {n})
"""


def bench_memory(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """Resident memory added per client (RSS delta over N clients, after the first)."""
    n = 20 if smoke else 500
    fmt = {
        "benches": str(ROOT / "benches"),
        "endpoint": emu.endpoint,
        "host": emu.host,
        "sid": emu.secret_id,
        "skey": emu.secret_key,
        "n": n,
    }
    out = {
        "clients": n,
        "tccvm_kib": median_subprocess(
            _MEMORY_CODE.format(factory="tccvm_client", **fmt), 1
        )
        / 1024,
    }
    if have_vendor():
        out["vendor_kib"] = (
            median_subprocess(_MEMORY_CODE.format(factory="vendor_client", **fmt), 1)
            / 1024
        )
    log(
        f"memory per client: tccvm {out['tccvm_kib']:.1f} KiB, "
        f"vendor {out.get('vendor_kib', 0):.1f} KiB"
    )
    return out
