"""The hand-written parts of the client stubs (`python/tccvm/_client.pyi`): the shared base
class, the sync and async client classes, and the runtime half's additions (with_options,
client.exceptions, the event hooks' type). tools/gen_stubs.py puts the generated methods and
overloads after them."""

CLIENT_BASE = """
class _BaseClient:
    def __init__(
        self,
        secret_id: str | None = None,
        secret_key: str | None = None,
        token: str | None = None,
        region: str | None = None,
        endpoint: str | None = None,
        sign_method: str = "TC3-HMAC-SHA256",
        http_method: str = "POST",
        language: str | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        max_attempts: int = 3,
        proxy: str | None = None,
        verify: bool | str | os.PathLike[str] = True,
        profile: str | None = None,
        rate_limit: bool = False,
        *,
        pickle_credentials: bool = False,
        event_hooks: EventHooks | None = None,
    ) -> None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def pickle_credentials(self) -> bool: ...
"""

# with_options, client.exceptions and the event hooks' type (issue 16, the runtime half: kept
# in a block of its own). Continues the class body of CLIENT_BASE.
CLIENT_EXTRAS = """
    @property
    def exceptions(self) -> Exceptions: ...
    def with_options(self, *, timeout: float = ..., connect_timeout: float = ...,
        max_attempts: int = ..., region: str | None = ...) -> Self: ...
"""
EXTRAS_IMPORTS = [
    "from ._error_codes import Exceptions",
    "from ._hooks import EventHooks",
]

CLIENT_SYNC = '''
class Client(_BaseClient):
    """Synchronous client for Tencent Cloud CVM (API 2017-03-12)."""

    def _invoke(self, action: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
'''

CLIENT_ASYNC = '''
class AsyncClient(_BaseClient):
    """Asynchronous client: the same methods as Client, as coroutines."""

    async def _invoke(
        self, action: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]: ...
    async def aclose(self) -> None: ...
    def close(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
'''
