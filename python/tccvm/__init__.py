from . import _methods as _methods  # attaches one method per action to the clients
from ._client import AsyncClient, Client

# The clients are public here: ``tccvm.Client`` in reprs and pickles, and IPython's completer
# (jedi), finding no class named Client in tccvm/__init__.py, reads the stubs
# (python/tccvm/_client.pyi, one method per action) instead of _client.py, where the per-action
# methods are not written out: so ``client.run_instances(Pla<TAB>`` offers ``Placement=``.
Client.__module__ = AsyncClient.__module__ = __name__
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
