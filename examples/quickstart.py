"""tccvm in one page: launch two instances, list them, stop them, wait, terminate them.

    python examples/quickstart.py                   # against an embedded emulator (no account)
    python examples/quickstart.py --endpoint URL    # against another endpoint; credentials
                                                    # from the chain (TENCENTCLOUD_SECRET_ID ...)

Against the real service this launches (and then terminates) two pay-as-you-go instances.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time

import tccvm
from tccvm.types import Filter

NAME = "tccvm-quickstart"
T0 = time.monotonic()


def step(text: str) -> None:
    print(f"[{time.monotonic() - T0:6.2f}s] {text}", flush=True)


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
            client = tccvm.Client(region=args.region, endpoint=args.endpoint)
        else:
            from tccvm.emulator import Emulator

            emu = stack.enter_context(Emulator(transition_seconds=0.5))
            step(f"started the emulator at {emu.endpoint}")
            client = tccvm.Client(
                secret_id=emu.secret_id,
                secret_key=emu.secret_key,
                region=args.region,
                endpoint=emu.endpoint,
            )
        stack.enter_context(client)

        zone = next(
            z["Zone"]
            for z in client.describe_zones()["ZoneSet"]
            if z["ZoneState"] == "AVAILABLE"
        )
        image = client.describe_images(
            Filters=[{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}], Limit=1
        )["ImageSet"][0]
        step(f"zone {zone}, image {image['ImageId']} ({image['ImageName']})")

        # 1. launch two instances
        ids = client.run_instances(
            Placement={"Zone": zone},
            ImageId=image["ImageId"],
            InstanceCount=2,
            InstanceName=NAME,  # the service names them tccvm-quickstart1, -2 ...
            InstanceChargeType="POSTPAID_BY_HOUR",
            TagSpecification=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": "example", "Value": NAME}],
                }
            ],
        )["InstanceIdSet"]
        step(f"launched {', '.join(ids)}")
        client.wait("instance_running", timeout=300, interval=1, InstanceIds=ids)
        step("both are RUNNING")

        # 2. list them (every page, lazily)
        mine: list[Filter] = [{"Name": "tag:example", "Values": [NAME]}]
        for inst in client.paginate("DescribeInstances", Filters=mine):
            step(
                f"  {inst['InstanceId']}  {inst['InstanceState']:<8} "
                f"{inst['InstanceType']:<12} {inst['Placement']['Zone']}  "
                f"{', '.join(inst.get('PrivateIpAddresses') or [])}"
            )

        # 3. stop them and wait
        client.stop_instances(InstanceIds=ids)
        step("stopping ...")
        client.wait("instance_stopped", timeout=300, interval=1, InstanceIds=ids)
        step("both are STOPPED")

        # 4. terminate them and wait until they are gone
        client.terminate_instances(InstanceIds=ids)
        step("terminating ...")
        client.wait("instance_terminated", timeout=300, interval=1, InstanceIds=ids)
        step("both are terminated")
    step("done")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except tccvm.TencentCloudError as e:
        print(f"the API said: {e}", file=sys.stderr)
        sys.exit(1)
