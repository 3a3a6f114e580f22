"""A realistic user script (type-checked, never run): clean under mypy --strict and pyright
strict (tests/test_typing_checkers.py). Stops the idle instances of a project, region by region,
and reports what it did."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from dataclasses import dataclass, field

import tccvm
from tccvm.types import Filter, Instance


@dataclass
class Report:
    stopped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    by_type: Counter[str] = field(default_factory=lambda: Counter[str]())


def idle(instance: Instance) -> bool:
    tags = {t["Key"]: t["Value"] for t in instance.get("Tags") or []}
    return instance["InstanceState"] == "RUNNING" and tags.get("idle") == "true"


def stop_idle(client: tccvm.Client, project: int, report: Report) -> None:
    filters: list[Filter] = [{"Name": "project-id", "Values": [str(project)]}]
    pages = client.paginate("DescribeInstances", Filters=filters, Limit=50)
    targets: list[str] = []
    for inst in pages:
        report.by_type[inst["InstanceType"]] += 1
        if idle(inst):
            targets.append(inst["InstanceId"])
    print(f"{pages.pages} page(s), {pages.total} instance(s) in project {project}")
    if not targets:
        return
    try:
        answer = client.stop_instances(InstanceIds=targets, StopType="SOFT")
        print("stop requested:", answer["RequestId"])
        done = client.wait("instance_stopped", timeout=600, InstanceIds=targets)
        report.stopped += [i["InstanceId"] for i in done["InstanceSet"]]
    except tccvm.WaiterError as e:
        report.failed.update(dict.fromkeys(targets, f"{e.reason}: {e.last_state!r}"))
    except tccvm.TencentCloudError as e:
        report.failed.update(dict.fromkeys(targets, f"{e.code} ({e.request_id})"))


async def regions_with_instances(regions: list[str]) -> dict[str, int]:
    async def count(region: str) -> tuple[str, int]:
        async with tccvm.AsyncClient(region=region) as ac:
            page = await ac.describe_instances(Limit=1)
            return region, page["TotalCount"]

    pairs = await asyncio.gather(*(count(r) for r in regions))
    return {r: n for r, n in pairs if n}


def main() -> int:
    with tccvm.Client(region="ap-guangzhou") as client:
        names = [r["Region"] for r in client.describe_regions()["RegionSet"]]
        busy = asyncio.run(regions_with_instances(names))
        report = Report()
        for region in busy:
            with tccvm.Client(region=region) as regional:
                stop_idle(regional, project=0, report=report)
    for instance_type, n in report.by_type.most_common(3):
        print(f"{instance_type}: {n}")
    for iid, why in sorted(report.failed.items()):
        print(f"{iid} not stopped: {why}", file=sys.stderr)
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
