from . import _methods as _methods  # attaches one method per action to the clients
from ._client import AsyncClient, Client
from ._core import __version__
from .errors import (
    CredentialError,
    ParamValidationError,
    TccvmError,
    TencentCloudError,
    TransportError,
    WaiterError,
)

__all__ = [
    "AsyncClient",
    "Client",
    "CredentialError",
    "ParamValidationError",
    "TccvmError",
    "TencentCloudError",
    "TransportError",
    "WaiterError",
    "__version__",
]
