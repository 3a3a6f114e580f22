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
from typing import Any, Callable

from . import _core
from ._docs import docstring as _docstring
from ._docs import python_type

__all__ = ["MODEL", "attach", "method_name", "python_type"]

#: The service model (parsed once).
MODEL: dict[str, Any] = json.loads(_core.service_model_json())


def method_name(action: str) -> str:
    return MODEL["actions"][action]["snake_name"]


def docstring(action: dict[str, Any]) -> str:
    """The docstring of an action's method."""
    return _docstring(action, MODEL["shapes"])


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

        async def method(self: Any, /, **params: Any) -> Any:
            return await self._invoke(
                name, {k: v for k, v in params.items() if v is not None}
            )

    else:
        # `self` positional-only: a keyword named "self" is then a parameter like any other
        # (refused by validation), not a TypeError.
        def method(self: Any, /, **params: Any) -> Any:
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
