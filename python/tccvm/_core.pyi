# The Rust extension module (crates/py/src/lib.rs). Precise types of the classes live with their
# Python wrappers; this stub only lets type checkers import it.
from typing import Any

__version__: str
DEFAULT_HOST: str
REFRESH_MARGIN_SECS: int

def service_model_json() -> str: ...
def validate_params(action: str, params: dict[str, Any] | None = None) -> None: ...
def http_get(
    url: str,
    timeout: float,
    connect_timeout: float,
    max_bytes: int = 1048576,
) -> tuple[int, bytes]: ...
def __getattr__(name: str) -> Any: ...
