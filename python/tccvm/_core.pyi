# The Rust extension module (crates/py/src/lib.rs). Precise types of the classes live with their
# Python wrappers; this stub only lets type checkers import it.
from typing import Any

__version__: str
DEFAULT_HOST: str

#: Seconds before their expiry at which the core asks for new credentials (and, the same rule,
#: tccvm._credentials fetches the CVM role's anew).
REFRESH_MARGIN_SECS: int

def service_model_json() -> str: ...
def validate_params(action: str, params: dict[str, Any] | None = None) -> None: ...
def http_get(
    url: str, timeout: float, connect_timeout: float, max_bytes: int = 1048576
) -> tuple[int, bytes]:
    """GET ``url`` (http or https) with the core's client: no proxy, no redirect, at most
    ``max_bytes`` of body (a longer one is an ``OSError``), the GIL released while it waits.
    ``connect_timeout`` bounds the name lookup and the connect, ``timeout`` the whole exchange.
    Returns ``(status, body)`` for any status. Raises ``ConnectionError(reason)`` when it could
    not connect (lookup failed, refused, or the connect timed out: reason ``"timed out"``),
    ``TimeoutError`` when the answer was not complete in time, ``OSError(reason)`` when it
    broke off or was not HTTP."""

def __getattr__(name: str) -> Any: ...
