"""Pagination over the Offset/Limit Describe actions, driven by the model's paginator data.

``client.paginate("DescribeInstances", Filters=[...])`` yields the items of the action's result
set (``InstanceSet``) page after page, fetching each page only when the previous one is used up.
``Limit`` (the page size) defaults to the action's maximum; ``Offset`` to 0. Iteration stops
once ``TotalCount`` items have been seen, or on an empty page.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any, Callable, Generic, TypeVar

__all__ = [
    "AsyncPageIterator",
    "PageIterator",
    "apaginate",
    "paginate",
    "paginated_actions",
    "paginator_for",
]

#: The item type (``Instance`` for DescribeInstances): the stubs type ``paginate()`` with it.
_T = TypeVar("_T")


@functools.lru_cache(maxsize=1)
def service_model() -> dict[str, Any]:
    """The service model (actions, shapes, paginators, waiters) as a dict, parsed once."""
    from . import _core

    return json.loads(_core.service_model_json())


def action_name(name: str) -> str:
    """``DescribeInstances`` or ``describe_instances`` -> ``DescribeInstances``."""
    actions = service_model()["actions"]
    if name in actions:
        return name
    for a in actions.values():
        if a.get("snake_name") == name:
            return a["name"]
    return name


def paginated_actions() -> list[str]:
    """The actions :meth:`paginate` accepts (the model's actions with a paginator)."""
    return sorted(
        n for n, a in service_model()["actions"].items() if a.get("paginator")
    )


def paginator_for(action: str) -> tuple[str, dict[str, Any]]:
    """The action's canonical name and its paginator data. An unknown action raises the
    ``ParamValidationError`` a call to it raises (plus the list of paginated actions); an
    action without a paginator, ValueError."""
    name = action_name(action)
    a = service_model()["actions"].get(name)
    pag = a.get("paginator") if a else None
    if pag:
        return name, pag
    listed = f"paginated actions: {', '.join(paginated_actions())}"
    if a is None:
        from . import _core
        from .errors import ParamValidationError

        try:
            _core.validate_params(name)
        except ParamValidationError as e:
            raise ParamValidationError(f"{e}; {listed}", e.path) from None
        what = "unknown action"  # pragma: no cover - the model knows no such action
    else:
        what = "not a paginated action"
    raise ValueError(f"{action!r}: {what}; {listed}")


def _int(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"{what} must be a non-negative int, not {v!r}")
    return v


class _Pager:
    """The bookkeeping shared by the sync and async iterators."""

    def __init__(self, action: str, params: dict[str, Any]) -> None:
        self.action, pag = paginator_for(action)
        self.off_key: str = pag["offset"]
        self.lim_key: str = pag["limit"]
        self.total_key: str = pag["total_count"]
        self.result_key: str = pag["result"]
        # None means "not given", as for the generated methods.
        self.params = {k: v for k, v in params.items() if v is not None}
        limit = self.params.get(self.lim_key)
        if limit is None:
            limit = pag.get("max_limit") or pag.get("default_limit") or 20
        # The first page's parameters, checked now as the direct call checks them (same
        # ParamValidationError): a bad argument fails at paginate(), not at the first next().
        from . import _core

        first = {self.off_key: 0, **self.params, self.lim_key: limit}
        _core.validate_params(self.action, first)
        self.offset = _int(self.params.get(self.off_key, 0), self.off_key)
        self.limit = _int(limit, self.lim_key) or 1
        self.done = False
        #: Pages fetched so far, and the TotalCount of the last page.
        self.pages = 0
        self.total: int | None = None

    def request(self) -> dict[str, Any]:
        p = dict(self.params)
        p[self.off_key] = self.offset
        p[self.lim_key] = self.limit
        return p

    def take(self, response: dict[str, Any]) -> list[Any]:
        self.pages += 1
        items = response.get(self.result_key) or []
        total = response.get(self.total_key)
        self.offset += len(items)
        if isinstance(total, int) and not isinstance(total, bool):
            self.total = total
            if self.offset >= total:
                self.done = True
        elif len(items) < self.limit:
            self.done = True
        if not items:
            self.done = True
        return list(items)


class PageIterator(Iterator[_T], Generic[_T]):
    """Items of every page, fetched lazily. ``.pages`` (pages fetched so far) and ``.total``
    (the answers' ``TotalCount``, None before the first page) show the progress."""

    def __init__(
        self,
        invoke: Callable[[str, dict[str, Any]], dict[str, Any]],
        action: str,
        params: dict,
    ) -> None:
        self._invoke = invoke
        self._pager = _Pager(action, params)
        self._buf: list[_T] = []
        self._i = 0

    @property
    def pages(self) -> int:
        return self._pager.pages

    @property
    def total(self) -> int | None:
        return self._pager.total

    def __iter__(self) -> PageIterator[_T]:
        return self

    def __next__(self) -> _T:
        while self._i >= len(self._buf):
            if self._pager.done:
                raise StopIteration
            pg = self._pager
            self._buf = pg.take(self._invoke(pg.action, pg.request()))
            self._i = 0
        item = self._buf[self._i]
        self._i += 1
        return item

    def __repr__(self) -> str:
        pg = self._pager
        return f"<paginate {pg.action} pages={pg.pages} offset={pg.offset} total={pg.total}>"


class AsyncPageIterator(AsyncIterator[_T], Generic[_T]):
    """The async counterpart of :class:`PageIterator` (``async for item in ...``)."""

    def __init__(
        self,
        invoke: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
        action: str,
        params: dict,
    ) -> None:
        self._invoke = invoke
        self._pager = _Pager(action, params)
        self._buf: list[_T] = []
        self._i = 0

    @property
    def pages(self) -> int:
        return self._pager.pages

    @property
    def total(self) -> int | None:
        return self._pager.total

    def __aiter__(self) -> AsyncPageIterator[_T]:
        return self

    async def __anext__(self) -> _T:
        while self._i >= len(self._buf):
            if self._pager.done:
                raise StopAsyncIteration
            pg = self._pager
            self._buf = pg.take(await self._invoke(pg.action, pg.request()))
            self._i = 0
        item = self._buf[self._i]
        self._i += 1
        return item

    def __repr__(self) -> str:
        pg = self._pager
        return f"<async paginate {pg.action} pages={pg.pages} offset={pg.offset} total={pg.total}>"


def paginate(
    invoke: Callable[..., dict[str, Any]], action: str, params: dict
) -> PageIterator[Any]:
    return PageIterator(invoke, action, params)


def apaginate(
    invoke: Callable[..., Awaitable[dict[str, Any]]], action: str, params: dict
) -> AsyncPageIterator[Any]:
    return AsyncPageIterator(invoke, action, params)
