"""wait(): the model's waiters against the emulator's timed state transitions; success, failure
states, timeouts (WaiterError with the last state seen), async, and progress output."""

from __future__ import annotations

import asyncio
import time

import pytest
import tccvm
from tccvm._waiters import select, waiter_names
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

REGION, ZONE, IMAGE = "ap-guangzhou", "ap-guangzhou-2", "img-pmqg1cw7"


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


@pytest.fixture
def client(emu):
    emu.reset()
    emu.set_timers(all=0.3)
    with tccvm.Client(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region=REGION,
        endpoint=emu.endpoint,
    ) as c:
        yield c


def launch(client, n=2):
    return client.call(
        "RunInstances",
        {"Placement": {"Zone": ZONE}, "ImageId": IMAGE, "InstanceCount": n},
    )["InstanceIdSet"]


def states(client, ids):
    r = client.call("DescribeInstances", {"InstanceIds": ids})
    return [i["InstanceState"] for i in r["InstanceSet"]]


def test_waiters_are_model_data():
    assert set(waiter_names()) >= {
        "instance_running",
        "instance_stopped",
        "instance_terminated",
        "instance_in_rescue_mode",
        "image_normal",
    }


def test_select_paths():
    doc = {"A": [{"S": "x"}, {"S": "y"}, {}], "T": 0}
    assert select(doc, "A[].S") == ["x", "y"]
    assert select(doc, "T") == [0]
    assert select(doc, "B[].S") == [] and select({"A": None}, "A[].S") == []


def test_lifecycle(client):
    ids = launch(client)
    assert set(states(client, ids)) == {"PENDING"}
    t = time.monotonic()
    r = client.wait("instance_running", interval=0.1, InstanceIds=ids)
    assert time.monotonic() - t < 5
    assert [i["InstanceState"] for i in r["InstanceSet"]] == ["RUNNING", "RUNNING"]
    assert "RequestId" in r
    client.call("StopInstances", {"InstanceIds": ids})
    r = client.wait("instance_stopped", timeout=10, interval=0.1, InstanceIds=ids)
    assert set(states(client, ids)) == {"STOPPED"}
    client.call("TerminateInstances", {"InstanceIds": ids})
    client.wait("instance_terminated", timeout=10, interval=0.1, InstanceIds=ids)
    r = client.call("DescribeInstances", {"InstanceIds": ids})
    assert r["TotalCount"] == 0 or set(states(client, ids)) <= {"TERMINATED"}


def test_timeout_reports_the_last_state(emu, client):
    emu.set_timers(pending=30)
    ids = launch(client, 1)
    t = time.monotonic()
    with pytest.raises(tccvm.WaiterError) as ei:
        client.wait("instance_running", timeout=0.5, interval=0.1, InstanceIds=ids)
    took = time.monotonic() - t
    assert 0.5 <= took < 2.5
    e = ei.value
    assert e.reason == "timeout" and e.last_state == "PENDING" and e.polls >= 3
    assert e.last_response["InstanceSet"][0]["InstanceId"] == ids[0]
    assert "timed out" in str(e) and "PENDING" in str(e)


def test_failure_state_raises_at_once(emu, client):
    """Waiting for RUNNING on an instance that is being terminated fails on the first poll."""
    ids = launch(client, 1)
    client.wait("instance_running", interval=0.1, InstanceIds=ids)
    emu.set_timers(terminating=30)
    client.call("TerminateInstances", {"InstanceIds": ids})
    t = time.monotonic()
    with pytest.raises(tccvm.WaiterError) as ei:
        client.wait("instance_running", timeout=20, interval=0.1, InstanceIds=ids)
    assert time.monotonic() - t < 2
    assert ei.value.reason == "failure" and ei.value.last_state == "TERMINATING"
    assert "TERMINATING" in str(ei.value)


def test_unknown_waiter(client):
    with pytest.raises(ValueError, match="instance_running"):
        client.wait("instance_flying", InstanceIds=["ins-1"])


def test_service_errors_propagate(client):
    with pytest.raises(tccvm.TencentCloudError):
        client.wait("instance_running", timeout=2, interval=0.1, InstanceIds=["bad id"])


def test_rescue_mode(client):
    """instance_in_rescue_mode waits through ENTER_RESCUE_MODE; ExitRescueMode ends STOPPED."""
    ids = launch(client, 1)
    client.wait("instance_running", interval=0.1, InstanceIds=ids)
    client.call(
        "EnterRescueMode",
        {"InstanceId": ids[0], "Password": "Rescue#2026", "ForceStop": True},
    )
    assert states(client, ids) == ["ENTER_RESCUE_MODE"]
    r = client.wait(
        "instance_in_rescue_mode", timeout=10, interval=0.1, InstanceIds=ids
    )
    assert r["InstanceSet"][0]["InstanceState"] == "RESCUE_MODE"
    client.call("ExitRescueMode", {"InstanceId": ids[0]})
    client.wait("instance_stopped", timeout=10, interval=0.1, InstanceIds=ids)
    client.call("TerminateInstances", {"InstanceIds": ids})
    with pytest.raises(tccvm.WaiterError):
        client.wait("instance_in_rescue_mode", timeout=5, interval=0.1, InstanceIds=ids)


def test_image_normal(client):
    ids = launch(client, 1)
    client.wait("instance_running", interval=0.1, InstanceIds=ids)
    client.call("StopInstances", {"InstanceIds": ids})
    client.wait("instance_stopped", interval=0.1, InstanceIds=ids)
    img = client.call("CreateImage", {"InstanceId": ids[0], "ImageName": "snap"})
    image_id = img.get("ImageId")
    if image_id is None:  # the answer may not carry it: find it by name
        found = client.call(
            "DescribeImages", {"Filters": [{"Name": "image-name", "Values": ["snap"]}]}
        )
        image_id = found["ImageSet"][0]["ImageId"]
    r = client.wait("image_normal", timeout=10, interval=0.1, ImageIds=[image_id])
    assert r["ImageSet"][0]["ImageState"] == "NORMAL"


def test_silent_by_default_and_progress_when_asked(client, capsys):
    pytest.importorskip("tqdm")
    ids = launch(client, 1)
    client.wait("instance_running", interval=0.1, InstanceIds=ids)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    client.call("StopInstances", {"InstanceIds": ids})
    client.wait("instance_stopped", interval=0.1, progress=True, InstanceIds=ids)
    assert "waiting for instance_stopped" in capsys.readouterr().err


def test_async_wait(emu):
    emu.reset()
    emu.set_timers(all=0.3)

    async def main():
        async with tccvm.AsyncClient(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region=REGION,
            endpoint=emu.endpoint,
        ) as ac:
            ids = (
                await ac.call(
                    "RunInstances",
                    {"Placement": {"Zone": ZONE}, "ImageId": IMAGE, "InstanceCount": 2},
                )
            )["InstanceIdSet"]
            ticks = 0

            async def ticker():  # the loop stays free while waiting
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.02)
                    ticks += 1

            tk = asyncio.ensure_future(ticker())
            r = await ac.wait("instance_running", interval=0.1, InstanceIds=ids)
            tk.cancel()
            assert {i["InstanceState"] for i in r["InstanceSet"]} == {"RUNNING"}
            assert ticks >= 5
            with pytest.raises(tccvm.WaiterError):
                await ac.wait(
                    "instance_stopped", timeout=0.3, interval=0.1, InstanceIds=ids
                )

    asyncio.run(asyncio.wait_for(main(), 30))


def test_launch_failed_is_a_failure_state(emu, client):
    emu.fail_next_launches(1)
    bad, good = launch(client, 2)
    t = time.monotonic()
    with pytest.raises(tccvm.WaiterError) as ei:
        client.wait(
            "instance_running", timeout=20, interval=0.1, InstanceIds=[bad, good]
        )
    assert time.monotonic() - t < 5
    e = ei.value
    assert e.reason == "failure" and "LAUNCH_FAILED" in e.last_state
    assert "LAUNCH_FAILED" in str(e)
    client.wait("instance_running", timeout=20, interval=0.1, InstanceIds=[good])


def test_progress_in_an_interactive_session(emu):
    """In the interactive interpreter (a terminal session) the progress bar shows by itself."""
    pytest.importorskip("tqdm")
    import subprocess
    import sys

    emu.reset()
    emu.set_timers(all=0.3)
    lines = [
        "import tccvm",
        (
            f"c = tccvm.Client(secret_id={emu.secret_id!r}, "
            f"secret_key={emu.secret_key!r}, region={REGION!r}, endpoint={emu.endpoint!r})"
        ),
        (
            f"ids = c.run_instances(Placement={{'Zone': {ZONE!r}}}, ImageId={IMAGE!r})"
            "['InstanceIdSet']"
        ),
        "r = c.wait('instance_running', interval=0.1, InstanceIds=ids)",
        "print('state', r['InstanceSet'][0]['InstanceState'])",
    ]
    p = subprocess.run(
        [sys.executable, "-i", "-q"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "state RUNNING" in p.stdout, p.stderr
    assert "waiting for instance_running" in p.stderr


def test_guide_waiter_table_matches_the_model():
    from pathlib import Path

    from tccvm._paginate import service_model

    guide = Path(__file__).resolve().parent.parent / "docs" / "guides" / "waiters.md"
    section = guide.read_text().split("# Waiters\n", 1)[1]
    rows = {
        cells[0].strip("` "): cells
        for cells in (
            [c.strip() for c in ln.strip("|").split("|")]
            for ln in section.splitlines()
            if ln.startswith("| `")
        )
    }
    waiters = service_model()["waiters"]
    assert set(rows) == set(waiters)
    for name, w in waiters.items():
        polls, success, failure = rows[name][1], rows[name][2], rows[name][3]
        assert w["operation"] in polls
        for acc in w["acceptors"]:
            cell = success if acc["state"] == "success" else failure
            assert str(acc["expected"]) in cell, (name, acc)
