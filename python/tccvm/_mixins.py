"""``paginate()`` and ``wait()`` for :class:`tccvm.Client` and :class:`tccvm.AsyncClient`.

The client classes inherit these; the calls go through the client's validated ``_invoke``.
"""

from __future__ import annotations

from . import _actions

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from . import _paginate

# _paginate and _waiters (and json, asyncio) are imported by the first paginate()/wait().

__all__ = ["AsyncHelpers", "SyncHelpers"]


class SyncHelpers:
    """Pagination and waiters for a client whose ``_invoke(action, params)`` returns a dict."""

    def paginate(self, action: str, **params: Any) -> _paginate.PageIterator[Any]:
        """Iterate over the items of every page of a paginated Describe action.

        ``action`` is the API name (``"DescribeInstances"``) or the method name
        (``"describe_instances"``); keyword arguments are the action's parameters.
        Pages are fetched lazily, ``Limit`` (the page size) defaults to the action's maximum,
        and iteration stops at ``TotalCount``::

            for inst in client.paginate("DescribeInstances", Filters=[...]):
                print(inst["InstanceId"])

        The arguments are checked here, as the direct call checks them: an unknown action or a
        bad parameter raises :class:`tccvm.ParamValidationError` before anything is sent.

        The iterator's ``.pages`` counts the pages fetched so far and ``.total`` is the answers'
        ``TotalCount`` (None before the first page).

        Paginated actions (from the service model): see ``tccvm._actions.PAGINATED``.
        """
        from . import _paginate

        return _paginate.PageIterator(self._invoke, action, params)  # type: ignore[attr-defined]

    def wait(
        self,
        waiter: str,
        timeout: float | None = None,
        interval: float | None = None,
        *,
        progress: bool | None = None,
        **params: Any,
    ) -> Any:
        """Poll until ``waiter`` is satisfied and return the last response.

        Waiters (from the service model; keyword arguments are the parameters of the action
        polled): see ``tccvm._actions.WAITERS``. ``timeout`` (seconds) and ``interval`` (seconds between polls)
        default to the model's values (``delay * max_attempts`` and ``delay``).
        Raises :class:`tccvm.WaiterError` on timeout or on a failure state (e.g.
        ``LAUNCH_FAILED``); its ``reason`` (``"timeout"`` or ``"failure"``), ``last_state``,
        ``polls`` and ``last_response`` show what was seen last.
        ``progress``: a tqdm bar (if tqdm is installed); by default only in notebooks and
        interactive sessions, never in scripts.
        """
        from . import _waiters

        return _waiters.wait(
            self._invoke,  # type: ignore[attr-defined]
            waiter,
            timeout,
            interval,
            progress,
            params,
        )


class AsyncHelpers:
    """Pagination and waiters for a client whose ``_invoke(action, params)`` is awaitable."""

    def paginate(self, action: str, **params: Any) -> _paginate.AsyncPageIterator[Any]:
        """Asynchronously iterate over the items of every page of a paginated Describe action::

            async for inst in aclient.paginate("DescribeInstances"):
                print(inst["InstanceId"])

        Same parameters and behaviour as :meth:`tccvm.Client.paginate`.
        """
        from . import _paginate

        return _paginate.AsyncPageIterator(self._invoke, action, params)  # type: ignore[attr-defined]

    async def wait(
        self,
        waiter: str,
        timeout: float | None = None,
        interval: float | None = None,
        *,
        progress: bool | None = None,
        **params: Any,
    ) -> Any:
        """Poll (without blocking the event loop) until ``waiter`` is satisfied; returns the
        last response. Same parameters and errors as :meth:`tccvm.Client.wait`."""
        from . import _waiters

        return await _waiters.await_(
            self._invoke,  # type: ignore[attr-defined]
            waiter,
            timeout,
            interval,
            progress,
            params,
        )


def _fill_docstrings() -> None:
    """Name the model's paginated actions and waiters in the docstrings at run time (one source
    of truth; the source text, which editors may show, says where they are listed)."""
    # From the generated table (tccvm._actions), not the model JSON: import stays cheap.
    paginated = ", ".join(_actions.PAGINATED)
    waiters = ", ".join(f"``{n}`` ({op})" for n, op in sorted(_actions.WAITERS.items()))
    for cls in (SyncHelpers, AsyncHelpers):
        for fn in (cls.paginate, cls.wait):
            if fn.__doc__:
                fn.__doc__ = fn.__doc__.replace(
                    "see ``tccvm._actions.PAGINATED``", paginated
                ).replace("see ``tccvm._actions.WAITERS``", waiters)


_fill_docstrings()
