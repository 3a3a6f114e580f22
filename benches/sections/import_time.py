"""Section `import`: the time `import tccvm` takes in a fresh interpreter, vs the vendor's."""

from __future__ import annotations

from typing import Any

from common import EmulatorProcess, have_vendor, log, median_subprocess


def bench_import(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    runs = 2 if smoke else 9
    tpl = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
    out = {"tccvm_ms": median_subprocess(tpl.format(stmt="import tccvm"), runs) * 1e3}
    if have_vendor():
        stmt = "from tencentcloud.cvm.v20170312 import cvm_client, models"
        out["vendor_ms"] = median_subprocess(tpl.format(stmt=stmt), runs) * 1e3
    log(
        f"import: tccvm {out['tccvm_ms']:.1f} ms, vendor {out.get('vendor_ms', 0):.1f} ms"
    )
    return out
