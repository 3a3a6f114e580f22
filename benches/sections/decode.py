"""Section `decode`: decoding one DescribeInstances answer, tccvm vs json.loads/orjson."""

from __future__ import annotations

import json
from typing import Any, Callable

from common import EmulatorProcess, best_per_call_interleaved, log, tccvm_client


def bench_decode(emu: EmulatorProcess, smoke: bool) -> dict[str, Any]:
    """A DescribeInstances answer of 100 fully populated instances, bytes -> Python objects."""
    from tccvm import _core

    c = tccvm_client(emu)
    resp = c.describe_instances(Limit=100)
    c.close()
    body = json.dumps(
        {"Response": resp}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    assert len(resp["InstanceSet"]) == 100, len(resp["InstanceSet"])
    assert _core.loads(body) == json.loads(body)
    number, repeat = (5, 2) if smoke else (100, 15)
    fns: dict[str, Callable[[], Any]] = {
        "json_loads_us": lambda: json.loads(body),
        "tccvm_us": lambda: _core.loads(body),
    }
    try:
        import orjson

        fns["orjson_us"] = lambda: orjson.loads(body)
    except ImportError:
        pass
    best = best_per_call_interleaved(fns, number, repeat)
    out: dict[str, Any] = {
        "instances": len(resp["InstanceSet"]),
        "bytes": len(body),
        "json_loads_us": best["json_loads_us"] * 1e6,
        "tccvm_us": best["tccvm_us"] * 1e6,
        "orjson_us": best["orjson_us"] * 1e6 if "orjson_us" in best else None,
    }
    out["tccvm_vs_json_loads"] = out["tccvm_us"] / out["json_loads_us"]
    if out["orjson_us"]:
        out["tccvm_vs_orjson"] = out["tccvm_us"] / out["orjson_us"]
    log(
        f"decode ({out['bytes']} bytes): tccvm {out['tccvm_us']:.0f} us, json.loads "
        f"{out['json_loads_us']:.0f} us, orjson {out['orjson_us'] or 0:.0f} us"
    )
    return out
