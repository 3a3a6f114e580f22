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
``__doc__`` is the template's (``tccvm._docs.docstring`` of the action). The template is
re-bound to globals that resolve its annotations on first use (``_AnnotationNames``), so that
``inspect.signature(m, eval_str=True)`` and ``typing.get_type_hints(m)`` give real types.
"""

from __future__ import annotations

import sys as _sys

from ._actions import ACTIONS, DEPRECATED

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


class _AnnotationNames(dict):  # type: ignore[type-arg]
    """The globals of the signature templates, as ``inspect.signature(..., eval_str=True)`` and
    ``typing.get_type_hints`` see them when they evaluate the string annotations.

    ``_actions`` imports the names its annotations use (``Any``, ``Placement`` ...) for type
    checkers only, so its own globals cannot resolve them. Here each name is looked up on first
    use: ``Any`` from typing, a data type from ``tccvm.types``; builtins (``str``, ``dict``)
    fall through to the builtins. Nothing is imported until an annotation is evaluated, so
    ``import tccvm`` stays cheap. (Names missing from a ``dict`` subclass used as the
    namespace of ``eval`` go through ``__missing__``.)
    """

    def __missing__(self, name: str) -> Any:
        import builtins

        if name.startswith("_") or hasattr(builtins, name):
            raise KeyError(name)
        if name == "Any":
            from typing import Any as value
        else:
            from . import types

            value = types.__dict__.get(name)
            if getattr(value, "__module__", None) != types.__name__:
                raise KeyError(name)
        self[name] = value
        return value


_NAMES = _AnnotationNames(__name__=f"{__package__}._actions")


class _Hint(str):
    """A string annotation that ``help()``, ``inspect.signature`` and IPython show as written
    (``Placement: Placement``, not ``Placement: 'Placement'``): ``inspect`` formats a string
    annotation with ``repr``. Still a ``str``, so ``eval_str=True`` and ``get_type_hints``
    evaluate it as before."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str.__str__(self)


def _resolvable(template: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of ``template`` whose globals resolve its string annotations (never called)."""
    fn = type(template)(  # types.FunctionType, without importing types
        template.__code__, _NAMES, template.__name__, template.__defaults__
    )
    fn.__kwdefaults__ = template.__kwdefaults__
    fn.__annotations__ = {k: _Hint(v) for k, v in template.__annotations__.items()}
    fn.__doc__ = template.__doc__
    fn.__qualname__ = template.__qualname__
    fn.__module__ = template.__module__
    return fn


def _warn_deprecated(action: str, names: tuple[str, ...], params: dict) -> None:
    """A DeprecationWarning for each deprecated parameter given (the call goes on: the service
    still accepts them), pointing at the caller's line."""
    import warnings

    for n in names:
        if params.get(n) is not None:
            warnings.warn(
                f"{action}: parameter {n} is deprecated in the current description of the "
                "API; it is still sent",
                DeprecationWarning,
                stacklevel=3,
            )


def _make(
    name: str, template: Callable[..., Any], asynchronous: bool
) -> Callable[..., Any]:
    deprecated = DEPRECATED.get(name)
    if deprecated and asynchronous:

        async def method(self: Any, /, **params: Any) -> Any:
            _warn_deprecated(name, deprecated, params)
            return await self._invoke(
                name, {k: v for k, v in params.items() if v is not None}
            )

    elif deprecated:

        def method(self: Any, /, **params: Any) -> Any:
            _warn_deprecated(name, deprecated, params)
            return self._invoke(
                name, {k: v for k, v in params.items() if v is not None}
            )

    elif asynchronous:

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
    # typing.get_type_hints(method) evaluates these in the globals of __wrapped__ (above).
    # Python 3.9 cannot evaluate ``X | None``: there the method keeps no annotations.
    method.__annotations__ = (
        template.__annotations__ if _sys.version_info >= (3, 10) else {}
    )
    method._tccvm_action = name  # type: ignore[attr-defined]
    return method


def attach(cls: type, asynchronous: bool) -> type:
    """Define one method per action of the model on ``cls`` (coroutine functions when
    ``asynchronous``). ``cls`` must provide ``_invoke(action, params)``."""
    for name, template in ACTIONS.items():
        fn = _make(name, _TEMPLATES.get(name) or template, asynchronous)
        fn.__qualname__ = f"{cls.__name__}.{fn.__name__}"
        fn.__module__ = cls.__module__
        setattr(cls, fn.__name__, fn)
    return cls


#: API action name -> its template with resolvable annotations (shared by both clients).
_TEMPLATES = {name: _resolvable(t) for name, t in ACTIONS.items()}


def _attach_to_clients() -> None:
    from ._client import AsyncClient, Client

    attach(Client, asynchronous=False)
    attach(AsyncClient, asynchronous=True)


_attach_to_clients()
