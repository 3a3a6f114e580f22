"""paginate(): lazily across page boundaries, Limit defaulting to the action's maximum, stopping
at TotalCount, for every action the model marks as paginated; sync and async; against the
emulator."""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid

import pytest
import tccvm
from tccvm._paginate import paginated_actions, paginator_for, service_model
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

REGION, ZONE, IMAGE = "ap-guangzhou", "ap-guangzhou-2", "img-pmqg1cw7"


@pytest.fixture(scope="module")
def emu():
    with Emulator(transition_seconds=0.05) as e:
        yield e


@pytest.fixture
def client(emu):
    emu.reset()
    with tccvm.Client(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region=REGION,
        endpoint=emu.endpoint,
    ) as c:
        yield c


def launch(client, n, name="pg"):
    ids = []
    while n > 0:  # RunInstances launches at most 100 at a time
        k = min(n, 100)
        ids += client.call(
            "RunInstances",
            {
                "Placement": {"Zone": ZONE},
                "ImageId": IMAGE,
                "InstanceCount": k,
                "InstanceName": name,
                # With InstanceCount > 1 the service suffixes the names (web1, web2 ...):
                # a tag marks the batch.
                "TagSpecification": [
                    {
                        "ResourceType": "instance",
                        "Tags": [{"Key": "batch", "Value": name}],
                    }
                ],
            },
        )["InstanceIdSet"]
        n -= k
    return ids


def describes(emu):
    return emu.stats()["requests_by_action"].get("DescribeInstances", 0)


def test_paginated_actions_come_from_the_model():
    names = paginated_actions()
    assert "DescribeInstances" in names and "DescribeImages" in names
    marked = [n for n, a in service_model()["actions"].items() if a.get("paginator")]
    assert sorted(marked) == names
    assert paginator_for("describe_instances")[0] == "DescribeInstances"


def test_45_instances_in_pages_of_20(emu, client):
    ids = launch(client, 45)
    before = describes(emu)
    it = client.paginate("DescribeInstances", Limit=20)
    got = [i["InstanceId"] for i in it]
    assert sorted(got) == sorted(ids) and len(set(got)) == 45
    assert describes(emu) - before == 3 and it.pages == 3 and it.total == 45


def test_limit_defaults_to_the_maximum(emu, client):
    launch(client, 45)
    before = describes(emu)
    assert len(list(client.paginate("DescribeInstances"))) == 45
    assert describes(emu) - before == 1  # max_limit is 100: one page


def test_lazy_fetching(emu, client):
    launch(client, 45)
    before = describes(emu)
    it = client.paginate("describe_instances", Limit=20)
    assert describes(emu) == before  # nothing fetched yet
    first = list(itertools.islice(it, 5))
    assert len(first) == 5 and describes(emu) - before == 1
    rest = list(itertools.islice(it, 15))
    assert len(rest) == 15 and describes(emu) - before == 1
    next(it)  # the 21st item needs the second page
    assert describes(emu) - before == 2


def test_stops_at_total_count_without_an_extra_request(emu, client):
    launch(client, 40)
    before = describes(emu)
    assert len(list(client.paginate("DescribeInstances", Limit=20))) == 40
    assert describes(emu) - before == 2  # not a third, empty page


def test_offset_filters_and_empty(emu, client):
    launch(client, 25, name="web")
    launch(client, 7, name="db")
    assert len(list(client.paginate("DescribeInstances", Offset=20, Limit=3))) == 12
    assert (
        len(list(client.paginate("DescribeInstances", Offset=None, Limit=None))) == 32
    )
    f = [{"Name": "tag:batch", "Values": ["db"]}]
    dbs = list(client.paginate("DescribeInstances", Filters=f, Limit=2))
    assert len(dbs) == 7 and {i["InstanceName"][:2] for i in dbs} == {"db"}
    f = [{"Name": "instance-name", "Values": ["none-such"]}]
    before = describes(emu)
    assert list(client.paginate("DescribeInstances", Filters=f)) == []
    assert describes(emu) - before == 1


def test_not_paginated_or_unknown(client):
    with pytest.raises(ValueError, match="not a paginated action.*DescribeInstances"):
        client.paginate("DescribeZones")
    with pytest.raises(ValueError, match="unknown action"):
        client.paginate("DescribeNothing")


#: Bad arguments to paginate("DescribeInstances", ...): each fails as the direct call does.
BAD_PARAMS = [
    pytest.param({"Filterz": []}, id="misspelt"),
    pytest.param({"Limit": "20"}, id="wrong-type"),
    pytest.param({"Offset": 1.5}, id="wrong-type-offset"),
    pytest.param({"Filters": [{"Name": "zone", "Values": [3]}]}, id="nested"),
    pytest.param({"InstanceIds": object()}, id="not-serializable"),
]


def requests_seen(emu):
    return sum(emu.stats()["requests_by_action"].values())


def direct_error(client, action, params):
    """What the validated direct call raises (the per-action method's path)."""
    with pytest.raises(tccvm.ParamValidationError) as ei:
        client._invoke(action, params)
    return ei.value


@pytest.mark.parametrize("params", BAD_PARAMS)
def test_bad_parameters_raise_at_the_paginate_call(emu, client, params):
    want = direct_error(client, "DescribeInstances", params)
    with pytest.raises(tccvm.ParamValidationError) as direct:
        client.describe_instances(**params)
    assert str(direct.value) == str(want)
    before = requests_seen(emu)
    for name in ("DescribeInstances", "describe_instances"):
        with pytest.raises(tccvm.ParamValidationError) as ei:
            client.paginate(name, **params)  # not next(): the call itself
        assert (str(ei.value), ei.value.path) == (str(want), want.path)
    assert requests_seen(emu) == before  # nothing was sent


@pytest.mark.parametrize("name", ["DescribeInstance", "Describe-Instances"])
def test_unknown_action_raises_what_the_direct_call_raises(emu, client, name):
    want = direct_error(client, name, {})
    before = requests_seen(emu)
    with pytest.raises(tccvm.ParamValidationError) as ei:
        client.paginate(name, Limit=5)
    assert str(ei.value).startswith(str(want))
    assert "paginated actions: " in str(ei.value)  # and which ones would do
    assert requests_seen(emu) == before


def test_async_paginate_raises_at_the_call(emu):
    emu.reset()
    sync = tccvm.Client(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region=REGION,
        endpoint=emu.endpoint,
    )

    async def main():
        async with tccvm.AsyncClient(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region=REGION,
            endpoint=emu.endpoint,
        ) as ac:
            start = requests_seen(emu)
            for p in BAD_PARAMS:
                params = p.values[0]
                want = direct_error(sync, "DescribeInstances", params)
                with pytest.raises(tccvm.ParamValidationError) as direct:
                    await ac.describe_instances(**params)
                assert str(direct.value) == str(want)
                with pytest.raises(tccvm.ParamValidationError) as ei:
                    ac.paginate("DescribeInstances", **params)  # no async for needed
                assert (str(ei.value), ei.value.path) == (str(want), want.path)
            want = direct_error(sync, "DescribeInstance", {})
            with pytest.raises(tccvm.ParamValidationError) as ei:
                ac.paginate("DescribeInstance")
            assert str(ei.value).startswith(str(want))
            assert requests_seen(emu) == start  # nothing was sent
            # Good arguments still page lazily: nothing is sent before the first item.
            before = requests_seen(emu)
            it = ac.paginate("DescribeInstances", Limit=5, Filters=[])
            assert requests_seen(emu) == before
            assert [i async for i in it] == []
            assert requests_seen(emu) == before + 1

    with sync:
        asyncio.run(asyncio.wait_for(main(), 30))


def prepare_everything(client):
    """A few resources of each paginated kind."""
    launch(client, 5)
    for i in range(3):
        client.call("CreateKeyPair", {"KeyName": f"key{i}", "ProjectId": 0})
        client.call("CreateDisasterRecoverGroup", {"Name": f"dr{i}", "Type": "HOST"})
        # Current-description families (CHC hosts are seeded; repair tasks follow instances).
        client.call("CreateHpcCluster", {"Zone": ZONE, "Name": f"hpc{i}"})
    # --- instances group (issue 14): launch templates with versions ---
    lt = client.call(
        "CreateLaunchTemplate",
        {
            "LaunchTemplateName": f"lt-{uuid.uuid4().hex[:12]}",
            "Placement": {"Zone": ZONE},
            "ImageId": IMAGE,
        },
    )["LaunchTemplateId"]
    for _ in range(4):
        client.call(
            "CreateLaunchTemplateVersion",
            {"LaunchTemplateId": lt, "Placement": {"Zone": ZONE}},
        )
    REQUIRED["DescribeLaunchTemplateVersions"] = {"LaunchTemplateId": lt}
    # --- end instances group ---


# Parameters an action requires besides its paginator's (set by prepare_everything).
REQUIRED: dict[str, dict] = {"DescribeTaskInfo": {"Offset": 0}}


@pytest.mark.parametrize("action", paginated_actions())
def test_every_paginated_action_across_pages(emu, client, action):
    """Pages of 2 give exactly the items one maximal page gives."""
    prepare_everything(client)
    _, pag = paginator_for(action)
    extra = REQUIRED.get(action, {})
    whole = client.call(action, {**extra, pag["limit"]: pag["max_limit"]})
    expected = whole.get(pag["result"]) or []
    assert whole.get(pag["total_count"]) == len(expected)
    got = list(client.paginate(action, Limit=2, **extra))
    assert got == expected


def test_async_paginate(emu):
    emu.reset()

    async def main():
        async with tccvm.AsyncClient(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region=REGION,
            endpoint=emu.endpoint,
        ) as ac:
            await ac.call(
                "RunInstances",
                {"Placement": {"Zone": ZONE}, "ImageId": IMAGE, "InstanceCount": 45},
            )
            before = describes(emu)
            it = ac.paginate("DescribeInstances", Limit=20)
            got = [i async for i in it]
            assert len({i["InstanceId"] for i in got}) == 45
            assert describes(emu) - before == 3 and it.pages == 3

    asyncio.run(asyncio.wait_for(main(), 30))


def test_docs_name_exactly_the_models_paginated_actions():
    """The pagination guide and the docstring are checked against the model, the one source
    of truth."""
    from pathlib import Path

    guide = Path(__file__).resolve().parent.parent / "docs" / "guides" / "pagination.md"
    section = guide.read_text().split("# Pagination\n", 1)[1]
    para = section.strip().split("\n\n", 1)[0]
    named = set(re.findall(r"`(Describe\w+)`", para))
    assert named == set(paginated_actions())
    for a in paginated_actions():
        assert a in tccvm.Client.paginate.__doc__
