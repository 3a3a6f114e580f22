"""The typed ``call()``, ``paginate()`` and ``wait()`` of the client stubs (used by gen_stubs.py).

One ``@overload`` per literal name, generated from the model:

- ``call("DescribeInstances", ...)`` returns ``types.DescribeInstancesResponse``; a name outside
  the model falls through to the last overload (``str`` -> ``dict[str, Any]``), as ``call()``
  sends any action unvalidated.
- ``paginate("DescribeInstances" | "describe_instances", **typed params)`` returns a
  ``PageIterator[types.Instance]`` (the item type of the paginator's result set, with ``.pages``
  and ``.total``); there is no ``str`` fallback, so a misspelt action is a type error.
- ``wait("instance_running", ..., **typed params of the action polled)`` returns that action's
  response (``dict[str, Any]`` for a waiter that can succeed on an error answer); no fallback.

Standard library only; ``py_type`` is gen_stubs.py's (passed in, so this module has no state).
"""

from __future__ import annotations

from typing import Callable

PyType = Callable[..., str]


def _params(action: dict, py_type: PyType, optional: tuple[str, ...] = ()) -> list[str]:
    """The keyword-only parameters of an action, as its method stub types them (those named in
    ``optional`` never required: ``paginate()`` sets the offset and the limit itself)."""
    out = []
    for m in action["inputs"]:
        t = py_type(m, prefix="types.")
        out.append(
            f"{m['name']}: {t}"
            if m.get("required") and m["name"] not in optional
            else f"{m['name']}: {t} | None = None"
        )
    return out


def _def(
    name: str, head: list[str], kw: list[str], ret: str, text: str, asynchronous: bool
) -> str:
    params = ["self", *head]
    if kw:
        if not any(p.startswith("*") for p in head):
            params.append("*")
        params += kw
    sig = "    @overload\n"
    sig += f"    {'async def' if asynchronous else 'def'} {name}(\n"
    sig += "".join(f"        {p},\n" for p in params)
    sig += f"    ) -> {ret}:\n"
    return sig + f'        """{text}"""\n'


def _ignore(comment: str, stub: str) -> str:
    """``stub`` with ``# comment`` on its ``def`` line (where both checkers report)."""
    head, rest = stub.split("(\n", 1)
    return f"{head}(  # {comment}\n{rest}"


def item_type(model: dict, action: dict, py_type: PyType, variants) -> str:
    """The type of the items of a paginated action (its result set's element type)."""
    key = action["paginator"]["result"]
    member = next(m for m in action["outputs"] if m["name"] == key)
    assert member["array"], f"{action['name']}.{key} is not a list"
    t = py_type(dict(member, array=False, nullable=False), output=variants)
    return t if t in ("str", "int", "float", "bool") else f"types.{t}"


def call_overloads(model: dict, asynchronous: bool) -> list[str]:
    # A literal name of the model is also a str: the typed overloads overlap the fallback on
    # purpose (the first match wins; a TypedDict is no dict[str, Any]), which mypy reports on
    # each typed one and pyright on the fallback, in the stub itself.
    out = []
    for name in sorted(model["actions"]):
        out.append(
            _ignore(
                "type: ignore[overload-overlap]",
                _def(
                    "call",
                    [
                        f"action: Literal[{name!r}]",
                        "params: Mapping[str, Any] | None = None",
                    ],
                    [],
                    f"types.{name}Response",
                    f"Call {name} with a dict of parameters, without model validation.",
                    asynchronous,
                ),
            )
        )
    fallback = _def(
        "call",
        ["action: str", "params: Mapping[str, Any] | None = None"],
        [],
        "dict[str, Any]",
        "Call any action (also one outside the model) with a dict of parameters, "
        "without model validation.",
        asynchronous,
    )
    fallback = _ignore("pyright: ignore[reportOverlappingOverload]", fallback)
    out.append(fallback)
    return out


def paginate_overloads(
    model: dict, asynchronous: bool, py_type: PyType, variants
) -> list[str]:
    it = "AsyncPageIterator" if asynchronous else "PageIterator"
    out = []
    for name in sorted(model["actions"]):
        a = model["actions"][name]
        pag = a.get("paginator")
        if not pag:
            continue
        item = item_type(model, a, py_type, variants)
        short = item.removeprefix("types.")
        loop = "async for" if asynchronous else "for"
        text = (
            f"Iterate over every {short} of {name}'s {pag['result']}, page after page "
            f"({pag['limit']} defaults to {pag.get('max_limit')}).\n\n"
            f"        ``{loop} x in client.paginate({name!r}, ...)``; ``.pages`` counts the "
            "pages fetched,\n        ``.total`` is the answers' "
            f"{pag['total_count']} (None before the first page)."
        )
        out.append(
            _def(
                "paginate",
                [f"action: Literal[{name!r}, {a['snake_name']!r}]"],
                _params(a, py_type, (pag["offset"], pag["limit"])),
                f"{it}[{item}]",
                text,
                False,  # paginate() itself is a plain method on both clients
            )
        )
    return out


def waiter_returns(model: dict, spec: dict) -> str:
    """The response type of a waiter: its action's, unless it can succeed on an error answer
    (then the waiter returns ``{"Error": ..., "RequestId": ...}`` instead)."""
    if any(
        acc["matcher"] == "error" and acc["state"] == "success"
        for acc in spec["acceptors"]
    ):
        return "dict[str, Any]"
    return f"types.{spec['operation']}Response"


def wait_overloads(model: dict, asynchronous: bool, py_type: PyType) -> list[str]:
    out = []
    for w in sorted(model.get("waiters", {})):
        spec = model["waiters"][w]
        a = model["actions"][spec["operation"]]
        success = [
            f"{acc.get('path') or 'error'} == {acc['expected']!r}"
            for acc in spec["acceptors"]
            if acc["state"] == "success"
        ]
        text = (
            f"Poll {spec['operation']} until {' or '.join(success)}; returns the last "
            "response.\n\n"
            f"        Every {spec.get('delay', 5)} s, for at most "
            f"{spec.get('delay', 5) * spec.get('max_attempts', 40)} s by default. Raises "
            "WaiterError (``reason``,\n        ``last_state``, ``polls``) on timeout or a "
            "failure state."
        )
        out.append(
            _def(
                "wait",
                [
                    f"waiter: Literal[{w!r}]",
                    "timeout: float | None = None",
                    "interval: float | None = None",
                    "*",
                    "progress: bool | None = None",
                ],
                _params(a, py_type),
                waiter_returns(model, spec),
                text,
                asynchronous,
            )
        )
    return out


def helpers(model: dict, asynchronous: bool, py_type: PyType, variants) -> str:
    """The overloaded ``call``, ``paginate`` and ``wait`` of one client class."""
    parts = call_overloads(model, asynchronous)
    parts += paginate_overloads(model, asynchronous, py_type, variants)
    parts += wait_overloads(model, asynchronous, py_type)
    return "\n".join(parts)
