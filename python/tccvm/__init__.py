from . import _methods as _methods  # attaches one method per action to the clients
from ._core import __version__

__all__ = ["__version__"]
