"""Every example runs, end to end, against the emulator, bounded in time: the three scripts as
subprocesses (as a user runs them) and the notebook under nbclient."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(180)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script: str, *args: str, env: dict | None = None, timeout: float = 90) -> str:
    e = dict(os.environ)
    for k in (
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_TOKEN",
    ):
        e.pop(k, None)
    e.update(env or {})
    p = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
        env=e,
    )
    assert p.returncode == 0, f"{script} failed:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def test_quickstart_embedded_emulator():
    out = run("quickstart.py")
    for expected in (
        "started the emulator",
        "launched ins-",
        "both are RUNNING",
        "RUNNING",
        "both are STOPPED",
        "both are terminated",
        "done",
    ):
        assert expected in out, out
    assert out.count("  ins-") == 2  # the listing


@pytest.fixture
def emu():
    with Emulator(transition_seconds=0.2) as e:
        yield e


def creds_env(emu: Emulator) -> dict:
    return {
        "TENCENTCLOUD_SECRET_ID": emu.secret_id,
        "TENCENTCLOUD_SECRET_KEY": emu.secret_key,
    }


def test_quickstart_against_an_endpoint_with_env_credentials(emu):
    out = run("quickstart.py", "--endpoint", emu.endpoint, env=creds_env(emu))
    assert "started the emulator" not in out and "both are terminated" in out
    assert emu.stats()["launches"] == 1


def test_async_fanout():
    out = run("async_fanout.py")
    lines = out.strip().splitlines()
    table = {ln.split()[0]: ln.split()[1] for ln in lines[:-1]}
    assert table["ap-guangzhou"] == "3" and table["ap-beijing"] == "2"
    assert table["ap-singapore"] == "1" and table["ap-shanghai"] == "0"
    assert lines[-1].startswith("6 instances in ")


def test_async_fanout_against_an_endpoint(emu):
    out = run("async_fanout.py", "--endpoint", emu.endpoint, env=creds_env(emu))
    assert "0 instances in" in out


def fleet(emu: Emulator, *args: str) -> dict:
    out = run(
        "ensure_fleet.py",
        "--endpoint",
        emu.endpoint,
        "--region",
        "ap-guangzhou",
        *args,
        env=creds_env(emu),
    )
    return json.loads(out.strip().splitlines()[-1])


def mutating(emu: Emulator) -> dict:
    by_action = emu.stats()["requests_by_action"]
    return {
        a: n for a, n in by_action.items() if not a.startswith(("Describe", "Inquiry"))
    }


def test_ensure_fleet_check_idempotent(emu):
    # --check on an empty account: would launch 3, with a price, and changes nothing.
    s = fleet(emu, "--name", "web", "--count", "3", "--check")
    assert s["changed"] and s["launch"] == 3 and s["check"] and s["launch_price"]
    assert mutating(emu) == {} and emu.launches == 0
    # The real run launches 3 and waits for them.
    s = fleet(emu, "--name", "web", "--count", "3")
    assert s["changed"] and len(s["launched"]) == 3 and emu.launches == 1
    # Again: nothing to do, and no mutating call at all.
    before = mutating(emu)
    s = fleet(emu, "--name", "web", "--count", "3")
    assert not s["changed"] and mutating(emu) == before
    s = fleet(emu, "--name", "web", "--count", "3", "--check")
    assert not s["changed"]
    # Scale down: --check says which one would go; the run terminates it.
    s = fleet(emu, "--name", "web", "--count", "2", "--check")
    assert len(s["terminate"]) == 1 and mutating(emu) == before
    victim = s["terminate"]
    s = fleet(emu, "--name", "web", "--count", "2")
    assert s["terminate"] == victim
    assert not fleet(emu, "--name", "web", "--count", "2", "--check")["changed"]


def test_ensure_fleet_demo():
    out = run("ensure_fleet.py", "--name", "demo", "--count", "2", "--demo")
    runs = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    assert [r["changed"] for r in runs] == [True, True, False]
    assert runs[0]["check"] and runs[1]["launch"] == 2


def test_notebook_runs_top_to_bottom(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = {
        i: "".join(
            o.get("text", "") + json.dumps(o.get("data", {}))
            for o in cell.get("outputs", [])
        )
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
    }
    text = "\n".join(outputs.values())
    assert "RUNNING" in text
    assert "3 instances, request id" in text
    assert "InvalidInstanceId" in text and "ParamValidationError" in text
    assert "describe_instances" in text and "Help on function" in text
    assert "done" in text
    # Progress of the waiters shows in the notebook (tqdm), without tqdm's widget warning.
    if importlib.util.find_spec("tqdm") is not None:
        assert "waiting for instance_running (RUNNING, RUNNING, RUNNING)" in text
        assert "IProgress" not in text


def test_ensure_fleet_restarts_stopped_instances(emu):
    s = fleet(emu, "--name", "api", "--count", "2")
    ids = s["launched"]
    assert len(ids) == 2
    with tccvm.Client(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region="ap-guangzhou",
        endpoint=emu.endpoint,
    ) as c:
        c.stop_instances(InstanceIds=ids[:1])
        c.wait("instance_stopped", timeout=20, interval=0.1, InstanceIds=ids[:1])
    before = mutating(emu)
    s = fleet(emu, "--name", "api", "--count", "2", "--check")
    assert s["start"] == ids[:1] and s["launch"] == 0 and mutating(emu) == before
    s = fleet(emu, "--name", "api", "--count", "2")
    assert s["start"] == ids[:1] and s["launched"] == [] and emu.launches == 1
    assert not fleet(emu, "--name", "api", "--count", "2", "--check")["changed"]


def test_ensure_fleet_down_to_zero_and_back(emu):
    first = fleet(emu, "--name", "batch", "--count", "2")["launched"]
    s = fleet(emu, "--name", "batch", "--count", "0")
    assert sorted(s["terminate"]) == sorted(first)
    assert not fleet(emu, "--name", "batch", "--count", "0", "--check")["changed"]
    again = fleet(emu, "--name", "batch", "--count", "2")["launched"]
    assert len(again) == 2 and not set(again) & set(first)
    assert emu.launches == 2
