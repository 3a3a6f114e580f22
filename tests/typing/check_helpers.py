"""Type-checked with `mypy --strict` and pyright strict (tests/test_typing_checkers.py): all of
this must pass. The typed call/paginate/wait, the page iterators and the exceptions."""

from __future__ import annotations

from typing import Any

import tccvm
from tccvm.types import (
    DescribeImagesResponse,
    DescribeInstancesResponse,
    DescribeZonesResponse,
    Image,
    Instance,
)


def helpers(client: tccvm.Client) -> list[str]:
    pages = client.paginate(
        "DescribeInstances", Filters=[{"Name": "zone", "Values": []}]
    )
    first: Instance | None = next(iter(pages), None)
    fetched: int = pages.pages
    total: int | None = pages.total
    images: list[Image] = list(client.paginate("describe_images", Limit=10))
    running: DescribeInstancesResponse = client.wait(
        "instance_running", timeout=300, interval=1, InstanceIds=["ins-1"]
    )
    image: DescribeImagesResponse = client.wait("image_normal", ImageIds=["img-1"])
    gone: dict[str, Any] = client.wait("instance_terminated", InstanceIds=["ins-1"])
    zones: DescribeZonesResponse = client.call("DescribeZones", {})
    unknown: dict[str, Any] = client.call("DescribeSomethingNew", {"X": 1})
    del fetched, total, images, image, gone, unknown
    ids = [i["InstanceId"] for i in running["InstanceSet"]]
    return (
        ids
        + [z["Zone"] for z in zones["ZoneSet"]]
        + ([first["InstanceId"]] if first else [])
    )


async def async_helpers(client: tccvm.AsyncClient) -> int:
    n = 0
    pages = client.paginate("DescribeKeyPairs")
    async for key in pages:
        n += len(key["KeyId"])
    total: int | None = pages.total
    done = await client.wait("instance_stopped", InstanceIds=["ins-1"])
    zones = await client.call("DescribeZones")
    del total
    return n + done["TotalCount"] + zones["TotalCount"]


def errors(client: tccvm.Client) -> str:
    try:
        client.wait("instance_running", InstanceIds=["ins-1"])
    except tccvm.WaiterError as e:
        polls: int = e.polls
        return f"{e.waiter} {e.reason} {e.last_state!r} {polls} {e.last_response!r}"
    except tccvm.TencentCloudError as e:
        return f"{e.code} {e.message} {e.request_id} {e.action} {e.client_token}"
    except tccvm.TransportError as e:
        return f"{e.status} {e.kind} {e.action} {e.attempts}"
    except tccvm.ParamValidationError as e:
        return e.path
    return ""
