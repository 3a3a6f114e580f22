"""Type-checked with `mypy --strict` by tests/test_model_typing.py: all of this must pass."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import tccvm

if TYPE_CHECKING:
    from tccvm.types import DescribeInstancesResponse, Filter, Instance, Placement


def sync_calls(client: tccvm.Client) -> list[str]:
    filters: list[Filter] = [{"Name": "zone", "Values": ["ap-guangzhou-2"]}]
    page: DescribeInstancesResponse = client.describe_instances(
        Filters=filters, Limit=10
    )
    instances: list[Instance] = page.get("InstanceSet", [])
    total: int = page.get("TotalCount", 0)
    placement: Placement = {"Zone": "ap-guangzhou-2", "ProjectId": 0}
    run = client.run_instances(
        Placement=placement,
        ImageId="img-pmqg1cw7",
        InstanceCount=1,
        DataDisks=[{"DiskSize": 100, "DiskType": "CLOUD_BASIC"}],
        InternetAccessible={"PublicIpAssigned": True, "InternetMaxBandwidthOut": 10},
        ClientToken="token-1",
    )
    ids: list[str] = run.get("InstanceIdSet", [])
    client.stop_instances(InstanceIds=ids, ForceStop=True)
    regions = client.describe_regions()
    request_id: str = regions["RequestId"]
    raw: dict[str, object] = client.call("DescribeSomethingNew", {})
    del raw, total
    return [i.get("InstanceId", "") for i in instances] + [request_id]


async def async_calls(client: tccvm.AsyncClient) -> int:
    page = await client.describe_instances_status(
        InstanceIds=["ins-1"], Offset=0, Limit=2
    )
    zones = await client.describe_zones()
    price = await client.inquiry_price_run_instances(
        Placement={"Zone": "ap-guangzhou-2"}, ImageId="img-1"
    )
    instance_price = price["Price"].get("InstancePrice")  # not in every answer
    unit: float = instance_price.get("UnitPrice", 0.0) if instance_price else 0.0
    del unit
    return page.get("TotalCount", 0) + zones.get("TotalCount", 0)


def main() -> None:
    with tccvm.Client(region="ap-guangzhou") as c:
        sync_calls(c)

    async def amain() -> None:
        async with tccvm.AsyncClient(region="ap-guangzhou") as ac:
            await async_calls(ac)

    asyncio.run(amain())


def opted_in_clients(secret_id: str, secret_key: str) -> tuple[bool, bool]:
    client = tccvm.Client(
        secret_id=secret_id, secret_key=secret_key, pickle_credentials=True
    )
    aclient = tccvm.AsyncClient(secret_id, secret_key, pickle_credentials=False)
    return client.pickle_credentials, aclient.pickle_credentials
