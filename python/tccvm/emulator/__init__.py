"""A local, stateful emulator of the Tencent Cloud CVM API (2017-03-12).

``Emulator`` runs a real HTTP server on loopback (on tccvm's tokio runtime) that verifies
signatures exactly as the service does (v1 HmacSHA1/HmacSHA256 and TC3-HMAC-SHA256), keeps
per-region state that moves through the documented states on timers, and can inject faults
deterministically. Any correct client works against it: tccvm's own or the vendor's SDK.

    from tccvm.emulator import Emulator
    with Emulator() as emu:
        client = tccvm.Client(secret_id=emu.secret_id, secret_key=emu.secret_key,
                              region="ap-guangzhou", endpoint=emu.endpoint)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

from .._core import EmulatorCore

__all__ = ["FAULT_KINDS", "Emulator"]

#: Fault kinds accepted by :meth:`Emulator.inject`.
#: ``internal_error``, ``request_limit_exceeded``: an API error answer, the action does not run.
#: ``http_502``, ``http_503``: an HTML error page, the action does not run.
#: ``malformed``: HTTP 200 whose body is not JSON, the action does not run.
#: ``truncated``: HTTP 200 with the real answer cut in half, the action HAS run.
#: ``drop_before``: the connection is closed without an answer, the action does not run.
#: ``drop_after``: the connection is closed without an answer, the action HAS run.
FAULT_KINDS = (
    "internal_error",
    "request_limit_exceeded",
    "http_502",
    "http_503",
    "malformed",
    "truncated",
    "drop_before",
    "drop_after",
)

_TIMERS = (
    "pending",
    "starting",
    "stopping",
    "rebooting",
    "terminating",
    "image_creating",
)


def _actions(actions: None | str | Iterable[str]) -> list[str] | None:
    if actions is None:
        return None
    if isinstance(actions, str):
        return [actions]
    return list(actions)


class Emulator:
    """A CVM API emulator serving on ``host:port`` (``port=0``: a free port).

    Args:
        host: address to listen on (default loopback).
        port: TCP port; 0 picks a free one.
        secret_id, secret_key: the long-term credentials it accepts (random by default).
        check_signatures: verify signatures (default True). False accepts any request, for
            load generators.
        seed: seed of the id generator and of fault injection (reproducible ids and faults).
        transition_seconds: duration of every transitional state (PENDING, STARTING, STOPPING,
            REBOOTING, TERMINATING, image CREATING); default 0.3 s.
        tls: serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN). A CA and a server certificate
            signed by it (for localhost, 127.0.0.1, ::1 and ``host``) are made at start; the
            CA's PEM file is :attr:`ca_bundle` (``Client(verify=emu.ca_bundle)``), removed when
            the emulator stops.
        rtt: a simulated network round trip in seconds (a testing aid, default 0): every byte
            is delayed by half of it in each direction and a new connection's first bytes by
            one round trip more (TCP's handshake), so that a call, a new connection and a TLS
            handshake cost on loopback what they cost that far away. Bandwidth is not limited.

    The server starts in the constructor and stops on :meth:`close` (or leaving ``with``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        secret_id: str | None = None,
        secret_key: str | None = None,
        check_signatures: bool = True,
        seed: int | None = None,
        transition_seconds: float | None = None,
        tls: bool = False,
        rtt: float = 0.0,
    ) -> None:
        self._core = EmulatorCore(
            host,
            port,
            secret_id,
            secret_key,
            check_signatures,
            seed,
            transition_seconds,
            bool(tls),
            float(rtt),
        )

    # -- identity -----------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """``http://HOST:PORT`` (``https://`` with ``tls=True``): a client's endpoint."""
        return str(self._core.endpoint)

    @property
    def ca_bundle(self) -> str | None:
        """Path of the PEM file of the CA that signed the server's certificate (``tls=True``;
        None otherwise)."""
        path = self._core.ca_bundle
        return None if path is None else str(path)

    @property
    def host(self) -> str:
        return str(self._core.host)

    @property
    def port(self) -> int:
        return int(self._core.port)

    @property
    def secret_id(self) -> str:
        return str(self._core.secret_id)

    @property
    def secret_key(self) -> str:
        return str(self._core.secret_key)

    @property
    def metadata_endpoint(self) -> str:
        """Base URL of the metadata service (``TENCENTCLOUD_METADATA_ENDPOINT``)."""
        return str(self._core.endpoint) + "/latest/meta-data/cam/security-credentials/"

    @property
    def running(self) -> bool:
        return bool(self._core.running)

    # -- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        """Stop the server and close its connections (idempotent)."""
        self._core.stop()

    stop = close

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        core = getattr(self, "_core", None)
        if core is not None:
            core.stop()

    def __repr__(self) -> str:
        return f"Emulator(endpoint={self.endpoint!r}, secret_id={self.secret_id!r})"

    # -- control ------------------------------------------------------------------------
    def _control(self, op: str, args: Mapping[str, Any] | None = None) -> Any:
        return json.loads(self._core.control(op, json.dumps(dict(args or {}))))

    def _control_dict(
        self, op: str, args: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = self._control(op, args)
        return out

    def reset(self) -> None:
        """Forget every resource, counter, quota, fault rule, rate limit and clock offset.
        The id generator restarts from the last seed (if one was given)."""
        self._control("reset")

    def seed(self, seed: int) -> None:
        """Reseed the id generator and the fault generator (reproducible runs)."""
        self._control("seed", {"seed": int(seed)})

    def set_timers(
        self, all: float | None = None, **durations: float
    ) -> dict[str, float]:
        """Set transition durations in seconds: ``all=`` or any of pending, starting,
        stopping, rebooting, terminating, image_creating. Returns the timers in force."""
        args: dict[str, float] = {}
        if all is not None:
            args["all"] = float(all)
        for k, v in durations.items():
            if k not in _TIMERS:
                raise ValueError(f"unknown timer {k!r}; timers: {', '.join(_TIMERS)}")
            args[k] = float(v)
        return self._control_dict("timers", args)

    def enable_rate_limits(self, enabled: bool = True, **limits: int) -> None:
        """Answer RequestLimitExceeded past each action's documented requests per second
        (off by default). Keyword arguments override the limit of an action
        (``DescribeInstances=2``)."""
        self._control("rate_limits", {"enabled": bool(enabled), "limits": limits})

    def disable_rate_limits(self) -> None:
        self._control("rate_limits", {"enabled": False})

    def set_quotas(self, instances: int | None = None) -> dict[str, int]:
        """Set the instance quota per region (1,000 by default, as the service's default
        account quota; at most 100,000). Returns the quotas in force."""
        args = {} if instances is None else {"instances": int(instances)}
        return self._control_dict("quotas", args)

    def set_signature_check(self, enabled: bool) -> None:
        """Switch signature checking on or off (on by default)."""
        self._control("signature_check", {"enabled": bool(enabled)})

    def set_clock_offset(self, seconds: int) -> None:
        """Shift the emulator's clock by ``seconds`` (e.g. 600 makes every client's
        Timestamp 10 minutes old: AuthFailure.SignatureExpire)."""
        self._control("clock_offset", {"seconds": int(seconds)})

    def inject(
        self,
        kind: str,
        *,
        rate: float | None = None,
        count: int | None = None,
        actions: None | str | Iterable[str] = None,
        append: bool = True,
    ) -> None:
        """Inject a fault (see :data:`FAULT_KINDS`) into a fraction ``rate`` (0..1, drawn
        from the seeded generator) of requests, or into the next ``count`` requests; only
        for ``actions`` if given. Rules accumulate unless ``append=False``."""
        if kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {kind!r}; kinds: {', '.join(FAULT_KINDS)}"
            )
        if rate is None and count is None:
            raise ValueError("give rate= or count=")
        rule = {
            "kind": kind,
            "rate": rate,
            "count": count,
            "actions": _actions(actions),
        }
        self._control("faults", {"rules": [rule], "append": append})

    def set_latency(
        self,
        seconds: float = 0.0,
        *,
        jitter: float = 0.0,
        actions: None | str | Iterable[str] = None,
    ) -> None:
        """Delay answers by ``seconds`` plus a seeded random share of ``jitter``."""
        self._control(
            "faults",
            {
                "latency": float(seconds),
                "jitter": float(jitter),
                "latency_actions": _actions(actions),
            },
        )

    def clear_faults(self) -> None:
        """Remove every fault rule and the added latency."""
        self._control("clear_faults")

    def set_metadata(
        self, role: str | None = None, ttl: int | None = None
    ) -> dict[str, Any]:
        """Set the CVM role name and the lifetime (seconds) of the temporary credentials
        the metadata endpoint issues."""
        args: dict[str, Any] = {}
        if role is not None:
            args["role"] = role
        if ttl is not None:
            args["ttl"] = int(ttl)
        return self._control_dict("metadata", args)

    def issue_credentials(self, ttl: int | None = None) -> dict[str, Any]:
        """Issue temporary credentials (secret_id, secret_key, token, expired_time) that the
        emulator accepts until they expire."""
        return self._control_dict(
            "issue_credentials", {} if ttl is None else {"ttl": int(ttl)}
        )

    def fail_next_launches(self, count: int = 1) -> None:
        """Make the next ``count`` launched instances end in LAUNCH_FAILED instead of
        RUNNING (to exercise waiters' failure states)."""
        self._control("launch_failures", {"count": int(count)})

    def stats(self) -> dict[str, Any]:
        """Counters: requests, requests_by_action, launches (RunInstances that created
        instances), launches_by_token (per ClientToken), faults_injected."""
        return self._control_dict("stats")

    @property
    def launches(self) -> int:
        return int(self.stats()["launches"])

    def instances(self, region: str) -> list[dict[str, Any]]:
        """The instances of a region as the emulator sees them (id, state, name, token)."""
        out: list[dict[str, Any]] = self._control("instances", {"region": region})
        return out
