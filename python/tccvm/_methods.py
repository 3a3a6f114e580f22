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


class _PydocLayout:
    """Between a method and its template (``method.__wrapped__``) before Python 3.13, so that
    ``help()`` shows a long signature one parameter a line, as pydoc itself does from 3.13 on.

    ``inspect.signature`` follows ``__wrapped__`` until it finds an object with a
    ``__signature__``. Asked by pydoc, this object has one: the template's own signature, whose
    ``str()`` puts each parameter on a line of its own when the signature does not fit the line
    (3.13's ``Signature.format(max_width=80 - len(name))``). Asked by anyone else (IPython,
    jedi, ``eval_str=True``, ``typing.get_type_hints``), it has none, and they read the template
    exactly as before: nothing but pydoc's text changes, and nothing is built at import.
    """

    __slots__ = ("__wrapped__", "_width")

    def __init__(self, template: Callable[..., Any]) -> None:
        self.__wrapped__ = template
        self._width = 80 - len(template.__name__)

    @property
    def __signature__(self) -> Any:
        if not _asked_by_pydoc():
            raise AttributeError("__signature__")
        import inspect

        sig = inspect.signature(self.__wrapped__)
        return _wrapping_signature_class()(
            list(sig.parameters.values()),
            return_annotation=sig.return_annotation,
            width=self._width,
        )


def _asked_by_pydoc() -> bool:
    """Whether ``pydoc`` (``help()``) is among the few callers above ``inspect.signature``."""
    f = _sys._getframe(2)
    for _ in range(12):
        if f is None:
            return False
        if f.f_globals.get("__name__") == "pydoc":
            return True
        f = f.f_back
    return False


_WRAPPING: list[type] = []


def _wrapping_signature_class() -> type:
    """An ``inspect.Signature`` whose ``str()`` wraps as 3.13's ``format(max_width=...)``
    (made on first use: ``import tccvm`` does not import ``inspect``)."""
    if _WRAPPING:
        return _WRAPPING[0]
    import inspect

    class WrappingSignature(inspect.Signature):
        __slots__ = ("_width",)

        def __init__(self, *args: Any, width: int = 80, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._width = width

        def replace(self, **kwargs: Any) -> Any:  # keeps the width (bound methods)
            new = super().replace(**kwargs)
            new._width = self._width
            return new

        def __str__(self) -> str:
            P = inspect.Parameter
            parts: list[str] = []
            pos_only = False
            kw_marker = True
            for p in self.parameters.values():
                if p.kind == P.POSITIONAL_ONLY:
                    pos_only = True
                elif pos_only:
                    parts.append("/")
                    pos_only = False
                if p.kind == P.VAR_POSITIONAL:
                    kw_marker = False
                elif p.kind == P.KEYWORD_ONLY and kw_marker:
                    parts.append("*")
                    kw_marker = False
                parts.append(str(p))
            if pos_only:
                parts.append("/")
            text = "({})".format(", ".join(parts))
            if len(text) > self._width:
                text = "(\n    {}\n)".format(",\n    ".join(parts))
            if self.return_annotation is not inspect.Signature.empty:
                text += " -> " + inspect.formatannotation(self.return_annotation)
            return text

    _WRAPPING.append(WrappingSignature)
    return WrappingSignature


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
    # inspect.signature() (and so help(), IDEs, Jupyter) follows __wrapped__ to the template;
    # before 3.13 through a _PydocLayout, which lays out help()'s signature one parameter a line.
    method.__wrapped__ = (  # type: ignore[attr-defined]
        _PydocLayout(template) if _sys.version_info < (3, 13) else template
    )
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
