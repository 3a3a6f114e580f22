# The Rust extension module (src/lib.rs). Precise types of the classes live with their Python
# wrappers; this stub only lets type checkers import it.
from typing import Any

__version__: str

def service_model_json() -> str: ...
def __getattr__(name: str) -> Any: ...
