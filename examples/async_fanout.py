"""Describe the instances of every region at once, with AsyncClient and asyncio.gather.

python examples/async_fanout.py                  # embedded emulator, a few demo instances
python examples/async_fanout.py --endpoint URL   # credentials from the chain
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections import Counter
from typing import Any

import tccvm
from tccvm.types import Instance


async def region_report(
    creds: dict[str, Any], region: str
) -> tuple[str, list[Instance]]:
    """Every instance of one region (all pages)."""
    async with tccvm.AsyncClient(region=region, **creds) as ac:
        return region, [i async for i in ac.paginate("DescribeInstances")]


async def fanout(creds: dict[str, Any], home_region: str) -> dict[str, list[Instance]]:
    async with tccvm.AsyncClient(region=home_region, **creds) as ac:
        regions = [
            r["Region"]
            for r in (await ac.describe_regions())["RegionSet"]
            if r.get("RegionState", "AVAILABLE") == "AVAILABLE"
        ]
    results = await asyncio.gather(*(region_report(creds, r) for r in regions))
    return dict(results)


async def seed_demo(creds: dict[str, Any]) -> None:
    """Launch a few instances in three regions of the emulator, so there is something to see."""

    async def launch(region: str, n: int) -> None:
        async with tccvm.AsyncClient(region=region, **creds) as ac:
            zones = (await ac.describe_zones())["ZoneSet"]
            zone = next(z["Zone"] for z in zones if z["ZoneState"] == "AVAILABLE")
            image = (await ac.describe_images(Limit=1))["ImageSet"][0]["ImageId"]
            await ac.run_instances(
                Placement={"Zone": zone},
                ImageId=image,
                InstanceCount=n,
                InstanceName="fanout",
            )

    await asyncio.gather(
        launch("ap-guangzhou", 3), launch("ap-beijing", 2), launch("ap-singapore", 1)
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument(
        "--endpoint", help="API endpoint (default: start an embedded emulator)"
    )
    ap.add_argument(
        "--region", default=os.environ.get("TENCENTCLOUD_REGION") or "ap-guangzhou"
    )
    args = ap.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.endpoint:
            creds: dict[str, Any] = {"endpoint": args.endpoint}
        else:
            from tccvm.emulator import Emulator

            emu = stack.enter_context(Emulator())
            creds = {
                "endpoint": emu.endpoint,
                "secret_id": emu.secret_id,
                "secret_key": emu.secret_key,
            }
            asyncio.run(seed_demo(creds))
        t = time.perf_counter()
        report = asyncio.run(fanout(creds, args.region))
        took = time.perf_counter() - t
    total = 0
    for region, instances in sorted(report.items()):
        states = Counter(i["InstanceState"] for i in instances)
        total += len(instances)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "-"
        print(f"{region:<20} {len(instances):>4}  {summary}")
    print(
        f"{total} instances in {len(report)} regions, described concurrently in {took:.2f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
