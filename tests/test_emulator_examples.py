"""Every official example of the model (the reference's and the current description's) sent
to the emulator through its typed method: validation passes on both sides, and the emulator
does not refuse it for a filter name, zone, region or instance type its catalog lacks. An
example naming resources a fresh account does not have (ins-..., img-...) may be answered
with the service's not-found errors: that is the service's answer too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tccvm
from tccvm import _methods
from tccvm.emulator import Emulator

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings(
        "ignore:.*deprecated in the current description:DeprecationWarning"
    ),
]

EXAMPLES = json.loads(
    (
        Path(__file__).resolve().parents[1] / "crates/core/src/model/examples.json"
    ).read_text(encoding="utf-8")
)
CASES = [(a, i) for a, exs in EXAMPLES.items() for i in range(len(exs))]
# The codes of a refusal by validation or by the catalog, never a fair answer to an example.
REFUSED = {
    "UnknownParameter",
    "MissingParameter",
    "InvalidAction",
    "InvalidFilter",
    "InvalidZone.MismatchRegion",
    "UnsupportedRegion",
    "InvalidRegion.NotFound",
    "InvalidInstanceType.Malformed",
}
# Catalog misses answered with a general code: the emulator's own messages for them.
REFUSED_MESSAGES = (
    "is not sold here",
    "does not exist in region",
    "must be an integer",
)


def region_of(params):
    """The region of the example's zone (`Placement.Zone` or `Zone`): the examples name no
    region, and a caller sends them in the zone's."""
    zone = (params.get("Placement") or {}).get("Zone") or params.get("Zone")
    return zone.rsplit("-", 1)[0] if isinstance(zone, str) and "-" in zone else None


@pytest.fixture(scope="module")
def emu():
    with Emulator(transition_seconds=0.05) as e:
        yield e


@pytest.mark.parametrize(
    ("action", "index"), CASES, ids=[f"{a}-{i + 1}" for a, i in CASES]
)
def test_example_is_not_refused(emu, action, index):
    ex = EXAMPLES[action][index]
    region = ex.get("region") or region_of(ex["params"]) or "ap-guangzhou"
    with tccvm.Client(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region=region,
        endpoint=emu.endpoint,
        max_attempts=1,
    ) as c:
        method = getattr(c, _methods.MODEL["actions"][action]["snake_name"])
        try:
            method(**ex["params"])
        except tccvm.TencentCloudError as e:
            refused = e.code in REFUSED or any(m in str(e) for m in REFUSED_MESSAGES)
            assert not refused, (action, index + 1, e.code, str(e))
