"""One method per action of the service model, attached to ``Client`` and ``AsyncClient``.

The model (``src/model/cvm-2017-03-12.json``, built into ``tccvm._core``) is read once. Each
action becomes a real function defined on the class (``dir()``, ``help()``, IDEs and Jupyter's
``?`` see it): ``DescribeInstances`` -> ``describe_instances``. Its keyword arguments are the
API's own parameter names (``Filters=``, ``InstanceIds=``); its ``__signature__`` lists them,
keyword-only, and its docstring comes from the model. Arguments are passed on to
``self._invoke(action, params)``, which validates them against the model in Rust before
anything is sent: a misspelt name raises ``tccvm.ParamValidationError`` with a "did you mean"
suggestion. A parameter given as ``None`` counts as not given.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from typing import Any, Callable

from . import _core

__all__ = ["MODEL", "attach", "method_name", "python_type"]

#: The service model (parsed once).
MODEL: dict[str, Any] = json.loads(_core.service_model_json())

_PRIMITIVE_PY = {
    "String": "str",
    "Timestamp": "str",
    "Integer": "int",
    "Boolean": "bool",
    "Float": "float",
}


def python_type(member: dict[str, Any]) -> str:
    """The Python spelling of a member's type: ``str``, ``list[Filter]``, ``Placement``."""
    t = _PRIMITIVE_PY.get(member["type"], member["type"])
    return f"list[{t}]" if member["array"] else t


def method_name(action: str) -> str:
    return MODEL["actions"][action]["snake_name"]


def _indent(text: str, n: int = 4) -> str:
    return textwrap.indent(text, " " * n)


def _member_doc(m: dict[str, Any], with_required: bool) -> str:
    head = f"{m['name']} : {python_type(m)}"
    if with_required:
        head += "" if m.get("required") else ", optional"
    body = m["description"] or "(undocumented)"
    return head + "\n" + _indent(body)


def docstring(action: dict[str, Any]) -> str:
    """The docstring of an action's method (numpydoc sections, plain text)."""
    parts = [f"{action['name']}: {action['summary']}.", "", action["description"]]
    parts += ["", "Parameters", "----------"]
    if action["inputs"]:
        parts += [_member_doc(m, True) for m in action["inputs"]]
    else:
        parts.append("This action takes no parameters.")
    parts += [
        "",
        "Returns",
        "-------",
        "dict",
        _indent("The object inside ``Response``:"),
    ]
    parts += [_indent(_member_doc(m, False)) for m in action["outputs"]]
    notes = [f"Rate limit: {action['rate_limit']} requests per second."]
    pag = action.get("paginator")
    if pag:
        limit = ""
        if pag.get("default_limit") or pag.get("max_limit"):
            limit = f" (default {pag.get('default_limit')}, at most {pag.get('max_limit')} per page)"
        notes.append(
            f"Paginated by {pag['offset']}/{pag['limit']}{limit} over {pag['result']}: "
            f"client.paginate({action['name']!r}, ...) iterates over every item."
        )
    if action["client_token"]:
        notes.append(
            "Takes a ClientToken: the request is safe to retry with the same token."
        )
    if action["finance_regions"]:
        notes.append(
            "Supported in the finance regions (ap-shanghai-fsi, ap-shenzhen-fsi)."
        )
    if action["errors"]:
        notes.append(
            "Documented error codes: "
            + ", ".join(e["code"] for e in action["errors"])
            + "."
        )
    parts += ["", "Notes", "-----"] + notes
    parts += [
        "",
        "Raises",
        "------",
        "ParamValidationError",
        _indent(
            "Before anything is sent, for an unknown parameter, a wrong type or a missing required one."
        ),
        "TencentCloudError",
        _indent(
            "The service answered with an error (``code``, ``message``, ``request_id``)."
        ),
        "TransportError",
        _indent("The request could not be completed once retries are exhausted."),
    ]
    return "\n".join(parts)


def _signature(action: dict[str, Any]) -> inspect.Signature:
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for m in action["inputs"]:
        params.append(
            inspect.Parameter(
                m["name"],
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if m.get("required") else None,
                annotation=python_type(m)
                if m["required"]
                else f"{python_type(m)} | None",
            )
        )
    ret = "dict[str, Any]"
    return inspect.Signature(params, return_annotation=ret)


def _make(action: dict[str, Any], asynchronous: bool) -> Callable[..., Any]:
    name = action["name"]

    if asynchronous:

        async def method(self: Any, **params: Any) -> Any:
            return await self._invoke(
                name, {k: v for k, v in params.items() if v is not None}
            )

    else:

        def method(self: Any, **params: Any) -> Any:
            return self._invoke(
                name, {k: v for k, v in params.items() if v is not None}
            )

    method.__name__ = action["snake_name"]
    method.__doc__ = docstring(action)
    method.__signature__ = _signature(action)  # type: ignore[attr-defined]
    method.__annotations__ = {}
    method._tccvm_action = name  # type: ignore[attr-defined]
    return method


def attach(cls: type, asynchronous: bool) -> type:
    """Define one method per action of the model on ``cls`` (coroutine functions when
    ``asynchronous``). ``cls`` must provide ``_invoke(action, params)``."""
    for action in MODEL["actions"].values():
        fn = _make(action, asynchronous)
        fn.__qualname__ = f"{cls.__name__}.{fn.__name__}"
        fn.__module__ = cls.__module__
        setattr(cls, fn.__name__, fn)
    return cls


def _attach_to_clients() -> bool:
    try:
        from ._client import AsyncClient, Client
    except ImportError:  # the client classes are not part of this build
        return False
    attach(Client, asynchronous=False)
    attach(AsyncClient, asynchronous=True)
    return True


_attach_to_clients()
