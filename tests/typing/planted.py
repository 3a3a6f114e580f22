"""Each line marked `# planted:` holds a mistake that both `mypy --strict` and pyright strict
must report (tests/test_typing_checkers.py); no other line may be reported."""

from __future__ import annotations

import tccvm


def planted(client: tccvm.Client) -> None:
    client.describe_instances(InstanceID=["ins-1"])  # planted: misspelt parameter
    answer = client.describe_instances()
    print(answer["InstanceSett"])  # planted: misspelt response key
    client.describe_instances(Limit="10")  # planted: wrong type
    client.wait("instance_runing", InstanceIds=["ins-1"])  # planted: misspelt waiter
    client.paginate("DescribeInstance")  # planted: misspelt paginated action
    client.paginate("DescribeImages", ImageID=[])  # planted: paginate parameter


async def forgotten(client: tccvm.AsyncClient) -> None:
    client.stop_instances(InstanceIds=["ins-1"])  # planted: unused coroutine
    answer = client.describe_instances()
    print(answer["TotalCount"])  # planted: forgotten await
