"""Make sure N instances named NAME are running, Ansible-style: idempotent, with --check.

The fleet is the instances tagged ``fleet=NAME`` (launched with InstanceName NAME, which the
service suffixes with 1, 2 ... when it launches several at once).

    python examples/ensure_fleet.py --name web --count 3 --endpoint URL [--check]
    python examples/ensure_fleet.py --name web --count 3 --demo     # embedded emulator

It looks at the instances called NAME (every page of DescribeInstances), then
- starts the STOPPED ones it needs, launches the missing ones (one RunInstances; tccvm gives it
  a ClientToken that it keeps across retries, so a retried request never launches twice, and a
  repeated run sees the instances already launched),
- terminates the surplus (stopped ones first, then the newest),
- waits until exactly COUNT are RUNNING.
A second run with the same arguments changes nothing. With --check it only reports what it
would do, using Describe and Inquiry calls alone (the price of the launches included).
The last line is a JSON summary: {"changed": ..., "launch": ..., "start": ..., "terminate": ...}.
Credentials come from the chain (TENCENTCLOUD_SECRET_ID ..., the credentials file, the CVM role).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from typing import Any, Callable

import tccvm
from tccvm.types import Filter, Instance

# What an instance will become without our help.
ALIVE = {"PENDING", "RUNNING", "STARTING", "REBOOTING"}
STOPPED = {"STOPPED", "STOPPING"}
# TERMINATING, SHUTDOWN, LAUNCH_FAILED ...: on their way out or broken: neither counted nor touched.


def plan(instances: list[Instance], count: int) -> dict[str, Any]:
    alive = [i for i in instances if i["InstanceState"] in ALIVE]
    stopped = [i for i in instances if i["InstanceState"] in STOPPED]
    start: list[str] = []
    terminate: list[str] = []
    launch = 0
    if len(alive) >= count:
        # Surplus: every stopped one, then the newest of the alive ones.
        terminate = [i["InstanceId"] for i in stopped]
        newest_first = sorted(
            alive, key=lambda i: i.get("CreatedTime", ""), reverse=True
        )
        terminate += [i["InstanceId"] for i in newest_first[: len(alive) - count]]
    else:
        missing = count - len(alive)
        reuse = [i for i in stopped if i["InstanceState"] == "STOPPED"][:missing]
        start = [i["InstanceId"] for i in reuse]
        missing -= len(start)
        # STOPPING ones we do not reuse: they go.
        terminate = [i["InstanceId"] for i in stopped if i["InstanceId"] not in start]
        launch = missing
    return {"launch": launch, "start": start, "terminate": terminate}


def ensure(
    client: tccvm.Client,
    name: str,
    count: int,
    check: bool,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    mine: list[Filter] = [{"Name": "tag:fleet", "Values": [name]}]
    instances = list(client.paginate("DescribeInstances", Filters=mine))
    for i in instances:
        log(f"found {i['InstanceId']} {i['InstanceState']}")
    todo = plan(instances, count)
    changed = bool(todo["launch"] or todo["start"] or todo["terminate"])
    summary: dict[str, Any] = {"name": name, "count": count, "changed": changed, **todo}

    zone = image = None
    if todo["launch"]:
        zone = next(
            z["Zone"]
            for z in client.describe_zones()["ZoneSet"]
            if z["ZoneState"] == "AVAILABLE"
        )
        image = client.describe_images(
            Filters=[{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}], Limit=1
        )["ImageSet"][0]["ImageId"]
    launch_params: dict[str, Any] = {
        "Placement": {"Zone": zone},
        "ImageId": image,
        "InstanceCount": todo["launch"],
        "InstanceChargeType": "POSTPAID_BY_HOUR",
    }

    if check:
        if todo["launch"]:
            price = client.inquiry_price_run_instances(**launch_params)["Price"]
            summary["launch_price"] = price.get("InstancePrice")
        for k in ("launch", "start", "terminate"):
            if todo[k]:
                log(f"would {k}: {todo[k]}")
        if not changed:
            log(f"ok: {count} instance(s) named {name!r} running, nothing to do")
        summary["check"] = True
        return summary

    if todo["terminate"]:
        log(f"terminating {todo['terminate']}")
        client.terminate_instances(InstanceIds=todo["terminate"])
    if todo["start"]:
        log(f"starting {todo['start']}")
        client.start_instances(InstanceIds=todo["start"])
    launched: list[str] = []
    if todo["launch"]:
        log(f"launching {todo['launch']}")
        launched = client.run_instances(
            **launch_params,
            InstanceName=name,
            TagSpecification=[
                {"ResourceType": "instance", "Tags": [{"Key": "fleet", "Value": name}]}
            ],
        )["InstanceIdSet"]
        log(f"launched {launched}")
    keep: list[str] = [
        i["InstanceId"] for i in instances if i["InstanceState"] in ALIVE | STOPPED
    ]
    keep = [i for i in keep if i not in todo["terminate"]] + launched
    if keep:
        client.wait("instance_running", timeout=600, interval=1, InstanceIds=keep)
    if todo["terminate"]:
        client.wait(
            "instance_terminated",
            timeout=600,
            interval=1,
            InstanceIds=todo["terminate"],
        )
    summary["launched"] = launched
    log(
        f"{'changed' if changed else 'ok'}: {len(keep)} instance(s) named {name!r} running"
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument(
        "--check", action="store_true", help="report what would change, change nothing"
    )
    ap.add_argument("--endpoint", help="API endpoint (default: the service)")
    ap.add_argument(
        "--region", default=os.environ.get("TENCENTCLOUD_REGION") or "ap-guangzhou"
    )
    ap.add_argument(
        "--demo", action="store_true", help="run twice against an embedded emulator"
    )
    args = ap.parse_args(argv)
    if args.count < 0:
        ap.error("--count must be >= 0")
    with contextlib.ExitStack() as stack:
        kw: dict[str, Any] = {"region": args.region, "endpoint": args.endpoint}
        if args.demo:
            from tccvm.emulator import Emulator

            emu = stack.enter_context(Emulator(transition_seconds=0.3))
            kw.update(
                endpoint=emu.endpoint,
                secret_id=emu.secret_id,
                secret_key=emu.secret_key,
            )
        client = stack.enter_context(tccvm.Client(**kw))
        runs = [True, False, False] if args.demo else [args.check]
        for check in runs:
            summary = ensure(client, args.name, args.count, check)
            print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
