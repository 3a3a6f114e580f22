"""Must FAIL `mypy --strict` with the errors tests/test_model_typing.py expects."""

from __future__ import annotations

import tccvm


def misspelt(client: tccvm.Client) -> None:
    client.describe_instances(InstanceID=["ins-1"])  # the parameter is InstanceIds
    client.inquiry_price_run_instances(
        Placement={"Zoen": "ap-guangzhou-2"}, ImageId="img-1"
    )
    client.describe_instances(Limit="10")
    client.inquiry_price_run_instances(ImageId="img-1")  # Placement is required
