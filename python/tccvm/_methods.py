"""One method per action of the service model, attached to ``Client`` and ``AsyncClient``.

Each action becomes a real function defined on the class (``dir()``, ``help()``, IDEs and
Jupyter's ``?`` see it): ``DescribeInstances`` -> ``describe_instances``. Its keyword arguments
are the API's own parameter names (``Filters=``, ``InstanceIds=``). Arguments are passed on to
``self._invoke(action, params)``, which validates them against the model in Rust before
anything is sent: a misspelt name raises ``tccvm.ParamValidationError`` with a "did you mean"
suggestion. A parameter given as ``None`` counts as not given.

What the methods need at import comes from ``tccvm._actions``, generated from the model by
``tools/gen_stubs.py``: so ``import tccvm`` neither parses the model JSON nor imports
``inspect``. Each method's ``__wrapped__`` is its action's signature template there (keyword-only
parameters, string annotations), which ``inspect.signature`` and ``help()`` follow, and its
``__doc__`` is the template's (``tccvm._docs.docstring`` of the action).
"""

from __future__ import annotations

from ._actions import ACTIONS

# Not `from typing import TYPE_CHECKING`: `import tccvm` does not import typing (type checkers
# treat any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

# Also MODEL (the parsed service model) and python_type, produced on first use (__getattr__).
__all__ = ["attach", "docstring", "method_name"]


def __getattr__(name: str) -> Any:
    # PEP 562: what needs the parsed model (or _docs) is produced on first use only.
    if name == "MODEL":
        # The service model (parsed once, shared with tccvm._paginate).
        from ._paginate import service_model

        return service_model()
    if name == "python_type":
        from ._docs import python_type

        return python_type
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def method_name(action: str) -> str:
    return ACTIONS[action].__name__


def docstring(action: dict[str, Any]) -> str:
    """The docstring of an action's method (from the model; equal to the generated one)."""
    from ._docs import docstring as _docstring
    from ._paginate import service_model

    return _docstring(action, service_model()["shapes"])


def _make(
    name: str, template: Callable[..., Any], asynchronous: bool
) -> Callable[..., Any]:
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

    method.__name__ = template.__name__
    method.__doc__ = template.__doc__
    # inspect.signature() (and so help(), IDEs, Jupyter) follows __wrapped__ to the template.
    method.__wrapped__ = template  # type: ignore[attr-defined]
    method.__annotations__ = {}
    method._tccvm_action = name  # type: ignore[attr-defined]
    return method


def attach(cls: type, asynchronous: bool) -> type:
    """Define one method per action of the model on ``cls`` (coroutine functions when
    ``asynchronous``). ``cls`` must provide ``_invoke(action, params)``."""
    for name, template in ACTIONS.items():
        fn = _make(name, template, asynchronous)
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
