"""The fault matrix: 2,000 calls against the emulator with ~20% of requests faulted across every
fault kind, including connections dropped after RunInstances took effect.

Every call ends in success or a documented tccvm error; the emulator shows exactly one launch
per RunInstances ClientToken (no duplicates) and every successful RunInstances has its launch
(nothing lost); the whole run is bounded in time. The figures are printed (``pytest -s``) and
written to the test report (``-rP``).

The matrix runs twice: straight to the emulator, and through a proxy (in a process of its own)
that closes every client connection right after answering, without ``Connection: close``: every
reused connection may have been closed under the client, on top of the faults.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import pytest
import tccvm
from hostile import Remote
from tccvm.emulator import FAULT_KINDS, Emulator

pytestmark = pytest.mark.timeout(120)

REGION = "ap-guangzhou"
ZONE = "ap-guangzhou-2"
IMAGE = "img-pmqg1cw7"
CALLS = 2000
FAULT_SHARE = 0.20
# Each rule draws independently and the first hit wins: 1 - (1 - r)^8 = FAULT_SHARE.
RATE = 1.0 - (1.0 - FAULT_SHARE) ** (1.0 / len(FAULT_KINDS))
DOCUMENTED = (tccvm.TencentCloudError, tccvm.TransportError)


class FastClient(tccvm.Client):
    # Private knob of tccvm.Client (see _BaseClient._core_options): short backoff for CI.
    _core_options: ClassVar[dict] = {
        "backoff_base": 0.001,
        "throttle_base": 0.002,
        "backoff_cap": 0.02,
    }


def make_client(emu: Emulator, **kw) -> tccvm.Client:
    args = {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": emu.endpoint,
        "timeout": 10.0,
        "connect_timeout": 2.0,
        "max_attempts": 3,
    }
    args.update(kw)
    return FastClient(**args)


@pytest.mark.parametrize("via", ["direct", "closing-proxy"])
def test_fault_matrix(capsys, via):
    t0 = time.monotonic()
    rng = random.Random(20261129)
    with (
        Emulator(seed=5, transition_seconds=0.0) as emu,
        contextlib.ExitStack() as stack,
    ):
        endpoint = emu.endpoint
        if via == "closing-proxy":
            endpoint = stack.enter_context(Remote("closing", emu.endpoint)).endpoint
        # Two clients: TC3 over POST and HmacSHA256 over GET (the latter carries a Nonce that
        # the emulator refuses to see twice: a retry that reused it would fail).
        clients = [
            make_client(emu, endpoint=endpoint),
            make_client(
                emu, endpoint=endpoint, sign_method="HmacSHA256", http_method="GET"
            ),
        ]
        # A pool of instances to start and stop (made before the faults).
        seed_ids = clients[0].call(
            "RunInstances",
            {"Placement": {"Zone": ZONE}, "ImageId": IMAGE, "InstanceCount": 20},
        )["InstanceIdSet"]
        assert len(seed_ids) == 20
        base_launches = emu.stats()["launches"]

        emu.set_latency(0.0005, jitter=0.001)
        for kind in FAULT_KINDS:
            emu.inject(kind, rate=RATE)
        requests_before = emu.stats()["requests"]

        plan = []
        for i in range(CALLS):
            r = rng.random()
            if r < 0.30:
                plan.append(("DescribeInstances", {"Limit": 20}))
            elif r < 0.40:
                plan.append(("DescribeZones", {}))
            elif r < 0.45:
                plan.append(("DescribeImages", {"Limit": 10}))
            elif r < 0.50:
                plan.append(
                    ("DescribeInstancesStatus", {"InstanceIds": [rng.choice(seed_ids)]})
                )
            elif r < 0.75:
                p = {"Placement": {"Zone": ZONE}, "ImageId": IMAGE}
                if i % 2 == 0:
                    p["ClientToken"] = str(uuid.UUID(int=rng.getrandbits(128)))
                plan.append(("RunInstances", p))
            elif r < 0.875:
                plan.append(("StartInstances", {"InstanceIds": [rng.choice(seed_ids)]}))
            else:
                plan.append(("StopInstances", {"InstanceIds": [rng.choice(seed_ids)]}))

        results: list = [None] * CALLS
        durations: list = [0.0] * CALLS

        def one(i: int):
            action, params = plan[i]
            c = clients[i % 2]
            s = time.monotonic()
            try:
                # Typed method for half of the calls, generic call() for the other half.
                if i % 4 < 2:
                    method = getattr(c, tccvm_snake(action))
                    results[i] = ("ok", method(**params))
                else:
                    results[i] = ("ok", c.call(action, params))
            except DOCUMENTED as e:
                results[i] = ("err", e)
            except BaseException as e:  # noqa: BLE001 - any other exception fails the test
                results[i] = ("crash", e)
            durations[i] = time.monotonic() - s

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(one, range(CALLS)))
        elapsed_calls = time.monotonic() - t0

        stats = emu.stats()
        emu.clear_faults()

        crashes = [(plan[i][0], r[1]) for i, r in enumerate(results) if r[0] == "crash"]
        assert not crashes, crashes[:5]
        assert all(r is not None for r in results)

        # Transport errors name their attempts; none exceeds max_attempts.
        errors = [(plan[i][0], r[1]) for i, r in enumerate(results) if r[0] == "err"]
        for _, e in errors:
            if isinstance(e, tccvm.TransportError):
                assert e.attempts is not None and 1 <= e.attempts <= 3
                assert e.kind in ("io", "not_api", "timeout", "connect")
        # Nothing hung: each call was bounded well below the client timeout.
        assert max(durations) < 5.0, max(durations)

        # -- RunInstances: exactly one launch per ClientToken, nothing lost ----------------------
        run_idx = [i for i, (a, _) in enumerate(plan) if a == "RunInstances"]
        ok_ids: list[str] = []
        failed_explicit = []
        failed_auto = 0
        for i in run_idx:
            kind, val = results[i]
            if kind == "ok":
                ids = val["InstanceIdSet"]
                assert len(ids) == 1
                ok_ids.extend(ids)
            elif "ClientToken" in plan[i][1]:
                assert val.client_token == plan[i][1]["ClientToken"]
                failed_explicit.append(plan[i][1])
            else:
                # The token tccvm generated is on the error: the user can retry with it.
                assert val.client_token and len(val.client_token) == 36, val
                failed_auto += 1
                failed_explicit.append({**plan[i][1], "ClientToken": val.client_token})
        assert len(ok_ids) == len(set(ok_ids)), "two calls got the same instance"
        # The failed calls: the user retries with the same token (faults now off) and gets
        # exactly one launch for it, whether or not the first call took effect.
        for p in failed_explicit:
            ok_ids.extend(clients[0].call("RunInstances", p)["InstanceIdSet"])
        final = emu.stats()
        by_token = final["launches_by_token"]
        dupes = {t: n for t, n in by_token.items() if n != 1}
        assert not dupes, f"duplicate launches: {dupes}"
        launches = final["launches"] - base_launches
        insts = {i["InstanceId"]: i for i in emu.instances(REGION)}
        tokens_of_ok = set()
        for iid in ok_ids:
            assert iid in insts, (
                f"{iid} returned to the client but unknown to the emulator"
            )
            tokens_of_ok.add(insts[iid]["ClientToken"])
        assert None not in tokens_of_ok, (
            "a RunInstances call went out without a ClientToken"
        )
        assert len(tokens_of_ok) == len(ok_ids)
        explicit_tokens = {
            plan[i][1]["ClientToken"] for i in run_idx if "ClientToken" in plan[i][1]
        }
        for t in explicit_tokens:
            assert by_token.get(t) == 1, t
        # Exactly one launch per RunInstances call: none lost, none doubled.
        assert launches == len(run_idx) == len(ok_ids), (
            launches,
            len(run_idx),
            len(ok_ids),
        )

        # -- figures ----------------------------------------------------------------------------
        retries = sum(c._core.stats()["retries"] for c in clients)
        attempts = sum(c._core.stats()["attempts"] for c in clients)
        injected = stats["faults_injected"]
        requests = stats["requests"] - requests_before
        n_faults = sum(injected.values())
        err_by = Counter(
            f"{a}:{getattr(e, 'code', None) or type(e).__name__ + '/' + str(e.kind)}"
            for a, e in errors
        )
        figures = {
            "calls": CALLS,
            "requests": requests,
            "attempts": attempts,
            "faults_injected": n_faults,
            "fault_share": round(n_faults / max(requests, 1), 3),
            "faults_by_kind": dict(sorted(injected.items())),
            "retries": retries,
            "ok": sum(1 for r in results if r[0] == "ok"),
            "errors": len(errors),
            "errors_by_kind": dict(err_by.most_common()),
            "run_instances_calls": len(run_idx),
            "launches": launches,
            "duplicates": len(dupes),
            "failed_runs_recovered_with_their_token": len(failed_explicit),
            "of_which_generated_tokens": failed_auto,
            "max_call_seconds": round(max(durations), 3),
            "seconds": round(elapsed_calls, 2),
        }
        with capsys.disabled():
            print(f"\nFAULT MATRIX FIGURES ({via}):")
            for k, v in figures.items():
                print(f"  {k}: {v}")
        # Every fault kind fired, at about the share asked for.
        assert set(injected) == set(FAULT_KINDS), injected
        assert 0.15 < n_faults / requests < 0.25
        assert retries > 0
        assert elapsed_calls < 60


def tccvm_snake(action: str) -> str:
    out = []
    for i, ch in enumerate(action):
        if (
            ch.isupper()
            and i
            and (
                not action[i - 1].isupper()
                or (i + 1 < len(action) and action[i + 1].islower())
            )
        ):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
