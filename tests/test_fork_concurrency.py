"""Threads, asyncio tasks, a running event loop, os.fork() and pickling, against the emulator
(with faults on, so that retries run concurrently too). Every wait is bounded."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import pickle
import signal
import threading
import time
from typing import ClassVar

import pytest
import tccvm
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(90)

REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-2"
IMAGE = "img-pmqg1cw7"
FAST: dict = {"backoff_base": 0.001, "throttle_base": 0.002, "backoff_cap": 0.01}


class Fast(tccvm.Client):
    _core_options: ClassVar[dict] = FAST


class AFast(tccvm.AsyncClient):
    _core_options: ClassVar[dict] = FAST


@pytest.fixture(scope="module")
def emu():
    with Emulator(seed=11, transition_seconds=0.0) as e:
        yield e


@pytest.fixture(autouse=True)
def _clean(emu):
    emu.clear_faults()
    yield
    emu.clear_faults()


def kw(emu, **extra):
    d = {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": emu.endpoint,
        "max_attempts": 5,
        "timeout": 10.0,
    }
    d.update(extra)
    return d


def transient_faults(emu, rate=0.03):
    # Faults that every call survives with retries (Describe* and RunInstances are safe to
    # resend), at a low rate so that 5 attempts always suffice.
    for k in (
        "internal_error",
        "request_limit_exceeded",
        "http_503",
        "drop_after",
        "truncated",
    ):
        emu.inject(k, rate=rate)


def test_one_client_16_threads(emu):
    transient_faults(emu)
    c = Fast(**kw(emu))
    errors: list = []
    ids: list = []
    lock = threading.Lock()
    barrier = threading.Barrier(16, timeout=10)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(25):
                if i % 5 == 0:
                    out = c.run_instances(Placement={"Zone": ZONE}, ImageId=IMAGE)
                    with lock:
                        ids.extend(out["InstanceIdSet"])
                else:
                    c.describe_instances(Limit=5)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    before = emu.stats()["launches"]
    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "deadlock: a thread is still running"
    assert not errors, errors[:3]
    assert len(ids) == len(set(ids)) == 16 * 5
    assert emu.stats()["launches"] - before == 80
    assert all(n == 1 for n in emu.stats()["launches_by_token"].values())


def test_one_async_client_500_tasks(emu):
    transient_faults(emu)
    c = AFast(**kw(emu))
    before = emu.stats()["launches"]

    async def main():
        async def one(i: int):
            if i % 10 == 0:
                return await c.run_instances(Placement={"Zone": ZONE}, ImageId=IMAGE)
            return await c.call("DescribeZones")

        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(500))), 60)

    out = asyncio.run(main())
    assert len(out) == 500
    runs = [o for o in out if "InstanceIdSet" in o]
    assert len(runs) == 50
    assert emu.stats()["launches"] - before == 50
    assert all(n == 1 for n in emu.stats()["launches_by_token"].values())


def test_sync_and_async_clients_in_a_running_loop(emu):
    """Jupyter: a cell's code runs inside the kernel's event loop."""
    c = Fast(**kw(emu))
    ac = AFast(**kw(emu))

    async def cell():
        a = c.describe_zones()  # sync call while the loop runs: no "already running"
        b = await ac.describe_zones()
        # Sync calls from several tasks of the running loop interleaved with async ones.
        res = await asyncio.gather(
            ac.describe_regions(), asyncio.to_thread(c.describe_regions)
        )
        return a, b, res

    a, b, res = asyncio.run(cell())
    assert a["ZoneSet"] == b["ZoneSet"]
    assert res[0]["RegionSet"] == res[1]["RegionSet"]


def _wait_child(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
        time.sleep(0.02)


def _in_forked_child(body, timeout: float) -> int:
    """Fork; the child runs `body` (its return value is the exit code; 2 if it raised) and
    the parent waits for it, `timeout` seconds at most (then the test fails: it hung)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = body()
        except BaseException:  # noqa: BLE001
            code = 2
        finally:
            os._exit(code)
    return _wait_child(pid, timeout)


def _calls_in_child(c, ac, timeout: float, launch: bool) -> int:
    """A sync and an async call (and a launch) with clients made before the fork: 0 if fine."""
    ok = c.describe_zones()["ZoneSet"]
    ok2 = asyncio.run(asyncio.wait_for(ac.describe_zones(), timeout))["ZoneSet"]
    out = c.run_instances(Placement={"Zone": ZONE}, ImageId=IMAGE) if launch else None
    return 0 if ok and ok2 and (out is None or out["InstanceIdSet"]) else 3


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_fork_while_other_threads_are_calling(emu):
    """Fork while 4 threads keep calling (locks may be held at the fork): the child's sync and
    async clients made before the fork work, and so does the parent afterwards."""
    transient_faults(emu, rate=0.02)
    c = Fast(**kw(emu))
    ac = AFast(**kw(emu))
    c.describe_zones()
    asyncio.run(ac.describe_zones())
    stop = threading.Event()
    errors: list = []

    def hammer() -> None:
        while not stop.is_set():
            try:
                c.describe_instances(Limit=1)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _round in range(3):
            time.sleep(0.05)
            assert (
                _in_forked_child(lambda: _calls_in_child(c, ac, 10, launch=True), 30)
                == 0
            )
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    assert not errors, errors[:3]
    assert c.describe_zones()["ZoneSet"]
    assert asyncio.run(ac.describe_zones())["ZoneSet"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_fork_while_a_thread_rebuilds_the_pools(emu):
    """Fork while other threads hold the client's locks for long: they close() the clients in
    a loop, so each next call rebuilds the sync lane or the async pool while holding the lock
    (milliseconds). A child must never wait for a lock that a parent thread held at the fork."""
    c = Fast(**kw(emu))
    ac = AFast(**kw(emu))
    c.describe_zones()
    stop = threading.Event()
    errors: list = []

    def rebuild_sync() -> None:
        while not stop.is_set():
            try:
                c.close()
                c.describe_zones()
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

    def rebuild_async() -> None:
        async def loop() -> None:
            while not stop.is_set():
                await ac.aclose()
                await ac.describe_zones()

        try:
            asyncio.run(loop())
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [
        threading.Thread(target=rebuild_sync, daemon=True),
        threading.Thread(target=rebuild_async, daemon=True),
    ]
    for t in threads:
        t.start()
    try:
        for _round in range(25):
            time.sleep(0.01)
            code = _in_forked_child(lambda: _calls_in_child(c, ac, 5, launch=False), 10)
            assert code == 0, f"round {_round}"
    finally:
        stop.set()
        for t in threads:
            t.join(20)
    assert not errors, errors[:3]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_nested_forks(emu):
    c = Fast(**kw(emu))
    c.describe_zones()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            c.describe_zones()
            pid2 = os.fork()
            if pid2 == 0:
                try:
                    c.describe_zones()
                    os._exit(0)
                except BaseException:  # noqa: BLE001
                    os._exit(4)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid2, os.WNOHANG)
                if done:
                    code = os.WEXITSTATUS(status)
                    break
                time.sleep(0.02)
            else:
                os.kill(pid2, signal.SIGKILL)
                code = 5
        except BaseException:  # noqa: BLE001
            code = 2
        finally:
            os._exit(code)
    assert _wait_child(pid, 40) == 0
    assert c.describe_zones()["ZoneSet"]


# -- pickling ------------------------------------------------------------------------------------


def _child_call(blob: bytes, q) -> None:  # runs in a spawned process
    try:
        client = pickle.loads(blob)
        if isinstance(client, tccvm.AsyncClient):
            out = asyncio.run(client.describe_zones())
        else:
            out = client.describe_zones()
        q.put(("ok", len(out["ZoneSet"]), client._core.secret_id))
    except BaseException as e:  # noqa: BLE001
        q.put(("err", repr(e), None))


@pytest.mark.parametrize("cls", [tccvm.Client, tccvm.AsyncClient])
@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_pickle_multiprocessing_round_trip(emu, monkeypatch, cls, method):
    if method not in mp.get_all_start_methods():
        pytest.skip(f"no {method}")
    # The secret is not in the pickle: the worker finds its credentials where the user's
    # workers would (here the environment, inherited by the worker process).
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", emu.secret_id)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", emu.secret_key)
    client = cls(**kw(emu))
    blob = pickle.dumps(client)
    assert emu.secret_key.encode() not in blob
    assert emu.secret_key[:12].encode() not in blob
    ctx = mp.get_context(method)
    q = ctx.Queue()
    p = ctx.Process(target=_child_call, args=(blob, q))
    p.start()
    try:
        status, n, sid = q.get(timeout=60)
    finally:
        p.join(30)
        if p.is_alive():
            p.kill()
    assert status == "ok", n
    assert n > 0 and sid == emu.secret_id
    # In this process too: the configuration survives, the credentials come from the chain.
    restored = pickle.loads(blob)
    assert type(restored) is cls
    assert restored.region == REGION and restored.endpoint == client.endpoint


def test_pickle_keeps_configuration_and_private_knobs(emu, monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", emu.secret_id)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", emu.secret_key)
    c = Fast(**kw(emu, sign_method="HmacSHA256", http_method="GET", max_attempts=4))
    r = pickle.loads(pickle.dumps(c))
    assert r._core.sign_method == "HmacSHA256"
    assert r._core.http_method == "GET"
    assert r._core.max_attempts == 4
    assert r.describe_zones()["ZoneSet"]


# -- pickle_credentials: the opt-in to carry the credentials given as arguments ------------------


def _no_chain_credentials(monkeypatch, tmp_path) -> None:
    """Nothing for the chain to find, here and in spawned workers (which inherit os.environ):
    no variables, a credentials file that does not exist, a metadata service that refuses."""
    from conftest import closed_port

    for var in (
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TENCENTCLOUD_CREDENTIALS_FILE", str(tmp_path / "missing"))
    monkeypatch.setenv(
        "TENCENTCLOUD_METADATA_ENDPOINT",
        f"http://127.0.0.1:{closed_port()}/latest/meta-data/cam/security-credentials/",
    )


def _in_spawned_worker(blob: bytes) -> tuple:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child_call, args=(blob, q))
    p.start()
    try:
        return q.get(timeout=60)
    finally:
        p.join(30)
        if p.is_alive():
            p.kill()


def _client_with_temporary_credentials(emu, cls, **extra):
    """Temporary credentials from the emulator, and a client given them as arguments."""
    temp = emu.issue_credentials(ttl=600)
    creds = {k: temp[k] for k in ("secret_id", "secret_key", "token")}
    return temp, cls(**kw(emu, **creds), **extra)


@pytest.mark.parametrize("cls", [tccvm.Client, tccvm.AsyncClient])
def test_pickle_default_keeps_no_secret_given_as_arguments(
    emu, monkeypatch, tmp_path, cls
):
    _no_chain_credentials(monkeypatch, tmp_path)
    temp, client = _client_with_temporary_credentials(emu, cls)
    assert client.pickle_credentials is False
    assert client.describe_zones() if cls is tccvm.Client else True
    blob = pickle.dumps(client)
    for secret in (temp["secret_key"], temp["token"]):
        assert secret.encode() not in blob and secret[:12].encode() not in blob
    assert "credentials" not in client.__getstate__()
    # As documented: the worker resolves the credentials through the chain, which has none.
    status, text, _ = _in_spawned_worker(blob)
    assert status == "err" and text.startswith("CredentialError("), text
    assert temp["secret_key"] not in text and temp["token"] not in text
    with pytest.raises(tccvm.CredentialError):
        pickle.loads(blob)


@pytest.mark.parametrize("cls", [tccvm.Client, tccvm.AsyncClient])
def test_pickle_credentials_opt_in_carries_the_arguments(
    emu, monkeypatch, tmp_path, cls
):
    _no_chain_credentials(monkeypatch, tmp_path)
    # Temporary credentials given as arguments: the worker succeeds only if the token
    # travels with the key (the emulator refuses the key without its token).
    temp, client = _client_with_temporary_credentials(emu, cls, pickle_credentials=True)
    assert client.pickle_credentials is True
    # The Python object keeps no secret; only the pickle (asked for) holds it.
    for text in (
        repr(vars(client)),
        repr(client),
        str(client),
        repr(client.__getstate__()),
    ):
        assert temp["secret_key"] not in text and temp["token"] not in text
    blob = pickle.dumps(client)
    assert temp["secret_key"].encode() in blob and temp["token"].encode() in blob
    status, n, sid = _in_spawned_worker(blob)
    assert status == "ok", n
    assert n > 0 and sid == temp["secret_id"]
    # In this process too, and again after a second round trip (a worker passing it on).
    restored = pickle.loads(pickle.dumps(pickle.loads(blob)))
    assert type(restored) is cls and restored.pickle_credentials is True
    assert restored.region == REGION and restored.endpoint == client.endpoint
    if cls is tccvm.Client:
        assert restored.describe_zones()["ZoneSet"]
    else:
        assert asyncio.run(restored.describe_zones())["ZoneSet"]


def _credentials_file(tmp_path, emu) -> str:
    path = tmp_path / "credentials"
    path.write_text(
        f"[default]\nsecret_id = {emu.secret_id}\nsecret_key = {emu.secret_key}\n"
    )
    return str(path)


@pytest.mark.parametrize("source", ["environment", "file", "role"])
def test_pickle_credentials_opt_in_never_pickles_chain_credentials(
    emu, monkeypatch, tmp_path, source
):
    _no_chain_credentials(monkeypatch, tmp_path)
    if source == "environment":
        monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", emu.secret_id)
        monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", emu.secret_key)
    elif source == "file":
        monkeypatch.setenv(
            "TENCENTCLOUD_CREDENTIALS_FILE", _credentials_file(tmp_path, emu)
        )
    else:
        monkeypatch.delenv("TENCENTCLOUD_CREDENTIALS_FILE")
        monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.tencentcloud/credentials
        monkeypatch.setenv("TENCENTCLOUD_METADATA_ENDPOINT", emu.metadata_endpoint)
    args = kw(emu)
    del args["secret_id"], args["secret_key"]
    client = tccvm.Client(**args, pickle_credentials=True)
    assert client.describe_zones()["ZoneSet"]
    state = client.__getstate__()
    assert state["pickle_credentials"] is True and "credentials" not in state
    blob = pickle.dumps(client)
    assert (
        emu.secret_key.encode() not in blob and emu.secret_key[:12].encode() not in blob
    )
    if source == "role":
        # The core itself refuses to hand out temporary credentials.
        with pytest.raises(ValueError, match="never exported"):
            client._core.export_credentials()
    # The unpickled client resolves them again, the same way, and keeps the flag.
    restored = pickle.loads(blob)
    assert restored.pickle_credentials is True
    assert restored.describe_zones()["ZoneSet"]
    assert "credentials" not in restored.__getstate__()


def test_pickle_credentials_flag_round_trip_and_checks(emu, monkeypatch):
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", emu.secret_id)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", emu.secret_key)
    off = pickle.loads(pickle.dumps(tccvm.Client(**kw(emu))))
    assert off.pickle_credentials is False
    on = pickle.loads(pickle.dumps(tccvm.Client(**kw(emu), pickle_credentials=True)))
    assert on.pickle_credentials is True and on._core.secret_id == emu.secret_id
    # A security switch takes a real bool, by keyword only.
    with pytest.raises(TypeError, match="pickle_credentials must be True or False"):
        tccvm.Client(**kw(emu), pickle_credentials="no")
    every_positional = [emu.secret_id, emu.secret_key, None, REGION, emu.endpoint]
    every_positional += [
        "TC3-HMAC-SHA256",
        "POST",
        None,
        10.0,
        10.0,
        3,
        None,
        True,
        None,
    ]
    tccvm.AsyncClient(*every_positional, False)
    with pytest.raises(TypeError):
        tccvm.AsyncClient(*every_positional, False, True)


@pytest.mark.parametrize("cls", [tccvm.Client, tccvm.AsyncClient])
def test_copy_and_deepcopy_keep_argument_credentials(emu, monkeypatch, tmp_path, cls):
    """copy.copy/deepcopy stay in the process: a client whose credentials were arguments (and
    that nothing in the chain could find again) copies without pickle_credentials, and the
    copies call the service with the same configuration."""
    import copy

    _no_chain_credentials(monkeypatch, tmp_path)
    c = cls(**kw(emu, max_attempts=2))
    for dup in (copy.copy(c), copy.deepcopy(c), copy.deepcopy([c, c])[0]):
        assert dup is not c and type(dup) is cls
        assert repr(dup) == repr(c) and dup.region == c.region
        assert dup.pickle_credentials is False
        call = dup.describe_zones()
        got = asyncio.run(call) if cls is tccvm.AsyncClient else call
        assert got["ZoneSet"]
        secret = emu.secret_key
        assert secret not in repr(dup) and secret not in repr(vars(dup))
