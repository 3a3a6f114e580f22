"""The exceptions of tccvm. All derive from :class:`TccvmError`.

No exception text, repr or attribute ever holds a secret key, a token or a signature.

Besides the classes below, one subclass of :class:`TencentCloudError` per error code the
service model documents (``InvalidInstanceId.NotFound`` -> ``InvalidInstanceIdNotFound``),
generated into ``_error_codes.py`` by ``tools/gen_errors.py`` and loaded on first use (an
attribute of this module, or the first error the service answers), so that ``import tccvm``
stays cheap.
"""

from __future__ import annotations

__all__ = [
    "CredentialError",
    "ParamValidationError",
    "TccvmError",
    "TencentCloudError",
    "TransportError",
    "WaiterError",
]

# The per-code classes (generated), for type checkers; at run time `__getattr__` below.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._error_codes import *

#: ``_error_codes.BY_CODE`` once loaded.
_by_code: dict | None = None


def _codes() -> dict:
    global _by_code
    if _by_code is None:
        from . import _error_codes

        _by_code = _error_codes.BY_CODE
    return _by_code


def __getattr__(name: str) -> type:
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _error_codes

    try:
        return getattr(_error_codes, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__() -> list[str]:
    from . import _error_codes

    return sorted({*globals(), *_error_codes.__all__})


class TccvmError(Exception):
    """Base class of every tccvm exception (also raised for internal errors: a bug).

    ``client_token``: for a failed call to an action that takes a ``ClientToken``, the token the
    request carried (the caller's, or the one tccvm generated); calling again with
    ``ClientToken=err.client_token`` cannot run the action twice. Else None.
    """

    client_token: str | None = None

    # Pickling (multiprocessing, concurrent.futures) keeps the constructor's arguments and every
    # public attribute set on the exception since (``client_token``, a waiter's ``last_state``,
    # ``__notes__``). Nothing else: no exception of tccvm holds a secret in a public attribute
    # (tests/test_secrets_scan.py), and underscored attributes are internal.
    def _pickle_args(self) -> tuple[object, ...]:
        return tuple(self.args)

    def _pickle_state(self) -> dict[str, object] | None:
        state = {
            k: v
            for k, v in vars(self).items()
            if not k.startswith("_") or k == "__notes__"
        }
        return state or None

    def __reduce__(self):  # type: ignore[override]
        return (type(self), self._pickle_args(), self._pickle_state())


class TencentCloudError(TccvmError):
    """The service answered ``Response.Error``.

    Attributes: ``code`` (e.g. ``"InvalidInstanceId.NotFound"``), ``message`` (the service's
    text), ``request_id`` (for support tickets) and ``action``.

    ``TencentCloudError(code, ...)`` makes an instance of the class of ``code`` when the model
    documents it (``TencentCloudError("InvalidInstanceId.NotFound")`` is an
    ``InvalidInstanceIdNotFound``), as ``OSError`` picks ``FileNotFoundError``: so the errors a
    call raises carry the most specific class. Each such class has ``CODE``, its code.
    """

    def __new__(cls, code: str = "", *args: object, **kwargs: object):  # type: ignore[misc]
        target = cls
        if cls is TencentCloudError and type(code) is str:
            target = (_by_code or _codes()).get(code, cls)
        return super().__new__(target, code, *args, **kwargs)

    def __init__(
        self,
        code: str,
        message: str = "",
        request_id: str | None = None,
        action: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.action = action
        super().__init__(code, message, request_id, action)

    def __str__(self) -> str:
        where = f" (action {self.action})" if self.action else ""
        return (
            f"[{self.code}] {self.message}{where} request id: {self.request_id or '-'}"
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"request_id={self.request_id!r}, action={self.action!r})"
        )

    def _pickle_args(self) -> tuple[object, ...]:
        return (self.code, self.message, self.request_id, self.action)


class ParamValidationError(TccvmError, ValueError):
    """A parameter is unknown, of the wrong type, or missing; raised before any network I/O.

    ``path`` names the parameter, e.g. ``Filters[0].Values[1]`` (empty for the whole call).
    """

    def __init__(self, message: str, path: str = "") -> None:
        self.path = path
        super().__init__(message, path)

    def __str__(self) -> str:
        return str(self.args[0])

    def _pickle_args(self) -> tuple[object, ...]:
        return (self.args[0], self.path)


class TransportError(TccvmError):
    """A connection failure, a timeout, a TLS error, or an answer that is not the API's JSON
    (an HTML error page, an empty or truncated body), once the retries are exhausted.

    ``status`` is the HTTP status when there was an answer (else None); ``kind`` is one of
    ``"connect"``, ``"timeout"``, ``"io"``, ``"not_api"``, ``"request"``; ``attempts`` is how
    many attempts were made.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        kind: str | None = None,
        action: str | None = None,
        attempts: int | None = None,
    ) -> None:
        self.status = status
        self.kind = kind
        self.action = action
        self.attempts = attempts
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def _pickle_args(self) -> tuple[object, ...]:
        return (str(self), self.status, self.kind, self.action, self.attempts)


class CredentialError(TccvmError):
    """No usable credentials were found (the message names every place that was tried)."""


class WaiterError(TccvmError):
    """A waiter timed out or reached a failure state.

    ``waiter`` (its name), ``reason`` (``"timeout"`` or ``"failure"``), ``last_state`` (the
    state seen last, e.g. ``"LAUNCH_FAILED"``; None before any answer), ``polls`` (how many
    polls were made) and ``last_response`` (the last answer, or None).
    """

    # Set by the waiter that raises it (tccvm._waiters); these defaults are what a WaiterError
    # made by hand has.
    waiter: str = ""
    reason: str = ""
    last_state: object = None
    polls: int = 0

    def __init__(self, message: str, last_response: object = None) -> None:
        self.last_response = last_response
        super().__init__(message)
