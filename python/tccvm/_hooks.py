"""Event hooks, in the shape httpx users know:
``Client(event_hooks={"request": [f, ...], "response": [g, ...]})``.

Each hook is called once per attempt (a retried call calls them again) with a new dict, no
secret in it:

- ``request`` hooks, before the attempt is sent: ``action``, ``region``, ``endpoint``,
  ``attempt`` (1, 2, ...), ``max_attempts``;
- ``response`` hooks, once it is over (an answer, or a transport failure): the same, plus
  ``status`` (HTTP status, None without an answer), ``request_id``, ``latency_ms``,
  ``outcome`` (``"ok"``, the API's error code, or the transport failure kind) and
  ``retry_in`` (seconds before the next attempt; None when there is none).

Whatever a hook raises ends the call with that exception, no further attempt made (it is
never swallowed). On ``Client`` hooks are plain callables, called on the thread making the
call. On ``AsyncClient`` they run on the event loop that awaits the call, and may be coroutine
functions (awaited) or plain callables; the call waits for them. A hook must not make a
synchronous tccvm call (it runs inside one); on ``AsyncClient`` it may await another call.

Imported by the first client given ``event_hooks``.
"""

from __future__ import annotations

import inspect

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    import concurrent.futures
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from typing_extensions import TypeAlias

    #: What ``event_hooks=`` takes.
    EventHooks: TypeAlias = Mapping[str, Sequence[Callable[[dict[str, Any]], object]]]

KINDS = ("request", "response")


def check(event_hooks: object, asynchronous: bool) -> dict[str, tuple] | None:
    """The hooks by kind (empty kinds dropped; None when there are none), or TypeError /
    ValueError naming what is wrong, as the constructor refuses its other arguments."""
    if event_hooks is None:
        return None
    if not isinstance(event_hooks, dict):
        raise TypeError(
            "event_hooks must be a dict such as {'request': [f], 'response': [g]}, not "
            f"{type(event_hooks).__name__}"
        )
    out: dict[str, tuple] = {}
    for kind, hooks in event_hooks.items():
        if kind not in KINDS:
            raise ValueError(
                f"event_hooks: unknown event {kind!r} (the events are 'request' and "
                "'response')"
            )
        if not isinstance(hooks, (list, tuple)):
            raise TypeError(
                f"event_hooks[{kind!r}] must be a list of callables, not "
                f"{type(hooks).__name__}"
            )
        for h in hooks:
            if not callable(h):
                raise TypeError(
                    f"event_hooks[{kind!r}] holds {type(h).__name__}, not a callable"
                )
            if not asynchronous and inspect.iscoroutinefunction(h):
                raise TypeError(
                    f"event_hooks[{kind!r}]: {getattr(h, '__name__', h)!r} is a coroutine "
                    "function; async hooks need tccvm.AsyncClient"
                )
        if hooks:
            out[kind] = tuple(hooks)
    return out or None


class SyncHooks:
    """What the core calls (GIL held, on the calling thread) for a ``Client``."""

    __slots__ = ("_request", "_response")

    def __init__(self, hooks: dict[str, tuple]) -> None:
        self._request = hooks.get("request", ())
        self._response = hooks.get("response", ())

    def request(self, event: dict[str, Any]) -> None:
        for h in self._request:
            h(event)

    def response(self, event: dict[str, Any]) -> None:
        for h in self._response:
            h(event)


async def _run(hooks: Sequence[Callable[..., Any]], event: dict[str, Any]) -> None:
    for h in hooks:
        r = h(event)
        if inspect.isawaitable(r):
            await r


class AsyncHooks:
    """An ``AsyncClient``'s hooks; ``bind(loop)`` per call gives what the core calls."""

    __slots__ = ("_request", "_response")

    def __init__(self, hooks: dict[str, tuple]) -> None:
        self._request = hooks.get("request", ())
        self._response = hooks.get("response", ())

    def bind(self, loop: asyncio.AbstractEventLoop) -> _BoundAsyncHooks:
        return _BoundAsyncHooks(self, loop)


class _BoundAsyncHooks:
    """Called by the core on a runtime thread: schedules the hooks on the call's event loop and
    returns the ``concurrent.futures.Future`` the call waits for (None: no hook of that kind)."""

    __slots__ = ("_hooks", "_loop")

    def __init__(self, hooks: AsyncHooks, loop: asyncio.AbstractEventLoop) -> None:
        self._hooks = hooks
        self._loop = loop

    def _schedule(
        self, hooks: tuple, event: dict[str, Any]
    ) -> concurrent.futures.Future | None:
        if not hooks:
            return None
        import asyncio

        return asyncio.run_coroutine_threadsafe(_run(hooks, event), self._loop)

    def request(self, event: dict[str, Any]) -> concurrent.futures.Future | None:
        return self._schedule(self._hooks._request, event)

    def response(self, event: dict[str, Any]) -> concurrent.futures.Future | None:
        return self._schedule(self._hooks._response, event)


def make(event_hooks: object, asynchronous: bool) -> SyncHooks | AsyncHooks | None:
    hooks = check(event_hooks, asynchronous)
    if hooks is None:
        return None
    return AsyncHooks(hooks) if asynchronous else SyncHooks(hooks)
