"""Waiters: poll a Describe action until a state is reached, driven by the model's waiter data
(botocore ``waiters-2`` style: an operation, a delay, a number of attempts and acceptors).

Acceptor matchers:
- ``path``: the single value at the path equals ``expected``;
- ``pathAll``: every value the path selects equals ``expected`` (false when nothing is selected);
- ``pathAny``: some value the path selects equals ``expected``;
- ``error``: the call failed with the error code ``expected``.
Paths are dotted, with ``[]`` projecting over a list: ``InstanceSet[].InstanceState``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable
from typing import Any, Callable

from ._paginate import service_model
from .errors import TencentCloudError, WaiterError

__all__ = ["await_", "wait", "waiter_names"]


def waiter_names() -> list[str]:
    return sorted(service_model().get("waiters", {}))


def waiter_spec(name: str) -> dict[str, Any]:
    spec = service_model().get("waiters", {}).get(name)
    if spec is None:
        raise ValueError(
            f"unknown waiter {name!r}; waiters: {', '.join(waiter_names())}"
        )
    return spec


def select(doc: Any, path: str) -> list[Any]:
    """The values ``path`` selects in ``doc`` (a list; empty when nothing is there)."""
    cur: list[Any] = [doc]
    for part in path.split("."):
        proj = part.endswith("[]")
        key = part[:-2] if proj else part
        nxt: list[Any] = []
        for v in cur:
            if isinstance(v, dict) and key in v:
                x = v[key]
                if proj:
                    if isinstance(x, list):
                        nxt.extend(x)
                elif x is not None:
                    nxt.append(x)
        cur = nxt
    return cur


def _matches(acc: dict[str, Any], response: Any, error_code: str | None) -> bool:
    m, expected = acc["matcher"], acc["expected"]
    if m == "error":
        return error_code is not None and error_code == expected
    if error_code is not None:
        return False
    values = select(response, acc["path"])
    if m == "path":
        return len(values) == 1 and values[0] == expected
    if m == "pathAll":
        return bool(values) and all(v == expected for v in values)
    if m == "pathAny":
        return any(v == expected for v in values)
    raise ValueError(f"unknown waiter matcher {m!r}")


def _state_of(spec: dict[str, Any], response: Any, error_code: str | None) -> Any:
    """A short description of what the resource looked like (for progress and errors)."""
    if error_code is not None:
        return error_code
    paths = [
        a["path"] for a in spec["acceptors"] if a.get("path") and "[]" in a["path"]
    ]
    for path in paths:
        vals = select(response, path)
        if vals:
            return vals if len(vals) > 1 else vals[0]
    # No projected path (e.g. instance_terminated, which counts): show any *State of the
    # listed resources, else the first path's value.
    if isinstance(response, dict):
        for key, v in response.items():
            if key.endswith("Set") and isinstance(v, list) and v:
                field = key[: -len("Set")] + "State"  # InstanceSet -> InstanceState
                states = [x[field] for x in v if isinstance(x, dict) and field in x]
                if states:
                    return states if len(states) > 1 else states[0]
    for a in spec["acceptors"]:
        if a.get("path"):
            vals = select(response, a["path"])
            return f"{a['path']}={vals[0] if len(vals) == 1 else vals}"
    return None


def _interactive() -> bool:
    """A notebook or an interactive interpreter (not a script, even one run in a terminal)."""
    if "ipykernel" in sys.modules or "IPython" in sys.modules:
        try:
            from IPython import get_ipython  # type: ignore[import-not-found]
        except ImportError:  # pragma: no cover
            get_ipython = None
        if get_ipython is not None and get_ipython() is not None:
            return True
    return hasattr(sys, "ps1") or bool(sys.flags.interactive)


class _Progress:
    """A tqdm bar when tqdm is installed and progress is wanted; otherwise nothing."""

    def __init__(self, name: str, timeout: float, progress: bool | None) -> None:
        self.bar = None
        if progress is False or (progress is None and not _interactive()):
            return
        try:
            from tqdm import tqdm  # type: ignore[import-untyped]
        except ImportError:
            return
        if "ipykernel" in sys.modules:
            try:  # the widget bar needs ipywidgets; without it, the text bar
                import ipywidgets  # type: ignore[import-untyped]  # noqa: F401
                from tqdm.notebook import tqdm  # type: ignore[import-untyped,no-redef]
            except ImportError:
                pass
        self.bar = tqdm(
            total=round(timeout, 1),
            desc=f"waiting for {name}",
            bar_format="{desc} {bar} {n:.1f}/{total:g}s",
            leave=False,
        )
        self.name = name
        self.start = time.monotonic()

    def update(self, state: Any) -> None:
        if self.bar is not None:
            self.bar.n = min(round(time.monotonic() - self.start, 1), self.bar.total)
            shown = (
                ", ".join(map(str, state)) if isinstance(state, list) else str(state)
            )
            self.bar.set_description_str(
                f"waiting for {self.name} ({shown})", refresh=True
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Waiter:
    def __init__(
        self,
        name: str,
        timeout: float | None,
        interval: float | None,
        params: dict[str, Any],
    ) -> None:
        self.name = name
        self.spec = waiter_spec(name)
        self.operation: str = self.spec["operation"]
        self.interval = float(
            self.spec.get("delay", 5) if interval is None else interval
        )
        if timeout is None:
            timeout = self.spec.get("delay", 5) * self.spec.get("max_attempts", 40)
        self.timeout = float(timeout)
        if self.interval < 0 or self.timeout < 0:
            raise ValueError("timeout and interval must be >= 0")
        self.params = params
        self.deadline = time.monotonic() + self.timeout
        self.polls = 0
        self.last_response: Any = None
        self.last_state: Any = None

    def judge(self, response: Any, error: BaseException | None) -> Any:
        """Returns the response on success, raises WaiterError on failure, None to go on."""
        self.polls += 1
        code = getattr(error, "code", None) if error is not None else None
        self.last_response = response if error is None else self.last_response
        self.last_state = _state_of(self.spec, response, code)
        for acc in self.spec["acceptors"]:
            if _matches(acc, response, code):
                if acc["state"] == "success":
                    if error is None:
                        return response
                    # Success by an error answer (e.g. InvalidInstanceId.NotFound): the
                    # last response is that answer.
                    return {
                        "Error": {
                            "Code": code,
                            "Message": getattr(error, "message", ""),
                        },
                        "RequestId": getattr(error, "request_id", None),
                    }
                raise self._error(
                    "failure",
                    f"waiter {self.name} failed: {acc.get('path') or 'error'} "
                    f"is {acc['expected']!r} (last state: {self.last_state!r})",
                )
        if error is not None:
            raise error
        return None

    def pause(self) -> float | None:
        """Seconds to sleep before the next poll, or raise WaiterError if time is up."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._error(
                "timeout",
                f"waiter {self.name} timed out after {self.timeout:g} s and {self.polls} "
                f"poll(s) (last state: {self.last_state!r})",
            )
        return min(self.interval, left)

    def _error(self, reason: str, message: str) -> BaseException:
        e = WaiterError(message, self.last_response)
        e.waiter = self.name
        e.reason = reason
        e.last_state = self.last_state
        e.polls = self.polls
        return e


def wait(
    invoke: Callable[[str, dict[str, Any]], Any],
    name: str,
    timeout: float | None = None,
    interval: float | None = None,
    progress: bool | None = None,
    params: dict[str, Any] | None = None,
) -> Any:
    w = _Waiter(name, timeout, interval, dict(params or {}))
    bar = _Progress(name, w.timeout, progress)
    try:
        while True:
            try:
                resp, err = invoke(w.operation, w.params), None
            except TencentCloudError as e:
                resp, err = None, e
            done = w.judge(resp, err)
            bar.update(w.last_state)
            if done is not None:
                return done
            time.sleep(w.pause())
    finally:
        bar.close()


async def await_(
    invoke: Callable[[str, dict[str, Any]], Awaitable[Any]],
    name: str,
    timeout: float | None = None,
    interval: float | None = None,
    progress: bool | None = None,
    params: dict[str, Any] | None = None,
) -> Any:
    import asyncio  # here, not at the top: `import tccvm` does not pay for asyncio

    w = _Waiter(name, timeout, interval, dict(params or {}))
    bar = _Progress(name, w.timeout, progress)
    try:
        while True:
            try:
                resp, err = await invoke(w.operation, w.params), None
            except TencentCloudError as e:
                resp, err = None, e
            done = w.judge(resp, err)
            bar.update(w.last_state)
            if done is not None:
                return done
            await asyncio.sleep(w.pause())
    finally:
        bar.close()
