"""``tccvm.Client`` and ``tccvm.AsyncClient``: thin Python shells around the Rust core.

Everything that touches the network (signing, sending, retrying, decoding) happens in
``tccvm._core.Core``; these classes resolve the configuration (credentials chain, region from
the environment), hold no secret themselves, and give the Pythonic surface (context managers,
``call``, pickling). The per-action methods are attached from the service model by
``tccvm._methods`` and call :meth:`Client._invoke`.
"""

from __future__ import annotations

import os

from . import _core
from ._logging import call_log_level
from ._mixins import AsyncHelpers, SyncHelpers

# Not typing's TYPE_CHECKING: `import tccvm` does not import typing (type checkers treat any
# name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType
    from typing import Any

    from typing_extensions import Self

    from ._credentials import CredentialProvider

__all__ = ["AsyncClient", "Client"]

_ENV_REGION = "TENCENTCLOUD_REGION"

#: Default ``max_response_bytes``: 64 MiB (100 fully populated instances of DescribeInstances
#: make about 0.2 MiB).
DEFAULT_MAX_RESPONSE_BYTES = 64 << 20
#: Default ``max_connections`` (httpx's and aiohttp's).
DEFAULT_MAX_CONNECTIONS = 100

#: ``with_options``: an argument not given.
_UNSET: Any = object()


def _resolve_provider(
    secret_id: str | None,
    secret_key: str | None,
    token: str | None,
    profile: str | None,
) -> CredentialProvider:
    """The credentials provider: ``tccvm._credentials.resolve`` (the full chain)."""
    # Imported by the first client, not by `import tccvm` (it imports threading).
    from . import _credentials

    return _credentials.resolve(secret_id, secret_key, token, profile)


def _from_arguments(provider: CredentialProvider) -> bool:
    """Whether ``provider`` holds the static credentials given as constructor arguments (the
    only ones ``pickle_credentials=True`` may put in a pickle)."""
    return provider.source == "arguments" and not provider.refreshable


def _refresher(provider: CredentialProvider):
    """A callable for the core: returns (secret_id, secret_key, token, expires_at)."""

    def refresh() -> tuple:
        c = provider.get()
        return (c[0], c[1], c[2], provider.expiry)

    return refresh


class _BaseClient:
    #: Extra keyword arguments for ``_core.Core`` (retry tuning: ``backoff_base``,
    #: ``throttle_base``, ``backoff_cap``, ``retry_budget``, ``client_token_actions``). Tests
    #: set it on a subclass or an instance before the first call; not part of the public API.
    _core_options: Mapping[str, Any] = {}
    #: The event hooks (``tccvm._hooks``), None without any. Not pickled.
    _hooks: Any = None
    _asynchronous = False

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
        verify: bool | str | os.PathLike = True,
        profile: str | None = None,
        rate_limit: bool = False,
        *,
        pickle_credentials: bool = False,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        event_hooks: Mapping[str, Any] | None = None,
    ) -> None:
        """Make a client; every argument is optional (see the README, "Client options").

        Credentials: ``secret_id``/``secret_key``/``token`` when given, else the chain
        (``TENCENTCLOUD_SECRET_ID``/``TENCENTCLOUD_SECRET_KEY``/``TENCENTCLOUD_TOKEN``, the
        credentials file section ``profile``, the CVM role of the machine).

        Pickling (``pickle.dumps``, ``multiprocessing``) keeps the configuration
        (``copy.copy``/``copy.deepcopy`` stay in the process: the copy shares this client's
        credentials and connection pools). By default it never keeps a secret: the unpickled
        client resolves its credentials again through the chain, in whatever process it lands
        (so a worker that only sees credentials given here as arguments raises
        :class:`tccvm.CredentialError`).
        ``pickle_credentials=True`` (keyword only) opts in to carrying the ``secret_id``,
        ``secret_key`` and ``token`` given here as arguments: the unpickled client uses exactly
        them. **Such a pickle holds the secret key in clear text**: keep it out of files, logs
        and untrusted hands. Credentials found through the chain (environment, credentials
        file, CVM role: possibly temporary and refreshed) are never pickled, even with the
        opt-in; the unpickled client resolves them again. The flag itself is kept by pickling.
        The same goes for the user name and password of a ``proxy`` URL: a default pickle has
        the URL without them (the unpickled client's proxy then asks for them: HTTP 407).

        Keyword only: ``max_response_bytes`` (an answer longer than this ends its attempt
        with ``TransportError(kind="too_large")``, not retried) and ``max_connections``
        (requests in flight at once for this client, across threads and tasks; calls beyond
        it wait for a turn), ``event_hooks`` (``{"request": [f], "response": [g]}``, called
        for each attempt: see ``tccvm._hooks``; coroutine functions on ``AsyncClient``; what
        a hook raises ends the call; hooks are not pickled).

        Every argument is checked here: a wrong type or value raises TypeError or ValueError
        naming the argument.
        """
        from . import _options as o

        o.flag("pickle_credentials", pickle_credentials)
        o.secret("secret_id", secret_id, controls=False)
        o.secret("secret_key", secret_key, controls=True)
        o.secret("token", token, controls=False)
        if region is None:
            region = os.environ.get(_ENV_REGION) or None
        o.text("region", region)
        o.text("endpoint", endpoint)
        o.text("sign_method", sign_method, optional=False)
        o.text("http_method", http_method, optional=False)
        o.text("language", language)
        o.text("profile", profile)
        proxy_url, proxy_shown = o.proxy(proxy)
        if event_hooks is not None:
            from . import _hooks

            self._hooks = _hooks.make(event_hooks, self._asynchronous)
        # Everything but the secrets: what repr shows and what pickling keeps (the proxy
        # without its userinfo; the core alone holds the whole URL).
        self._config = {
            "region": region.strip() if region else region,
            "endpoint": endpoint.strip() if endpoint else endpoint,
            "sign_method": sign_method,
            "http_method": http_method,
            "language": language,
            "timeout": o.seconds("timeout", timeout),
            "connect_timeout": o.seconds("connect_timeout", connect_timeout),
            "max_attempts": o.integer("max_attempts", max_attempts, 1, o.MAX_ATTEMPTS),
            "proxy": proxy_shown,
            "verify": o.verify(verify),
            "profile": profile,
            # Client-side rate limiting per action at the model's documented requests per
            # second, shared by every thread and task using this client.
            "rate_limit": o.flag("rate_limit", rate_limit),
            "max_response_bytes": o.integer(
                "max_response_bytes", max_response_bytes, 1, o.MAX_RESPONSE_BYTES
            ),
            "max_connections": o.integer(
                "max_connections", max_connections, 1, o.MAX_CONNECTIONS
            ),
        }
        provider = _resolve_provider(secret_id, secret_key, token, profile)
        self._pickle_credentials = pickle_credentials
        self._credentials_from_arguments = _from_arguments(provider)
        self._core = self._make_core(provider, proxy_url)

    def _make_core(self, provider: CredentialProvider, proxy: str | None) -> Any:
        creds = provider.get()
        refreshable = provider.refreshable
        cfg = {k: v for k, v in self._config.items() if k != "profile"}
        cfg["proxy"] = proxy
        return _core.Core(
            creds[0],
            creds[1],
            creds[2],
            expires_at=provider.expiry if refreshable else None,
            refresh=_refresher(provider) if refreshable else None,
            **cfg,
            **dict(self._core_options),
        )

    # -- public surface ------------------------------------------------------------------------

    @property
    def region(self) -> str | None:
        return self._config["region"]

    @property
    def endpoint(self) -> str:
        """The URL requests go to."""
        return self._core.endpoint

    @property
    def exceptions(self) -> ModuleType:
        """:mod:`tccvm.errors`: ``client.exceptions.InvalidInstanceIdNotFound`` (boto3's
        spelling), one class per documented error code, and the base classes."""
        from . import errors

        return errors

    def with_options(
        self,
        *,
        timeout: float = _UNSET,
        connect_timeout: float = _UNSET,
        max_attempts: int = _UNSET,
        region: str | None = _UNSET,
    ) -> Self:
        """A client with these settings changed (those not given are kept), sharing this one's
        credentials (and their refresh), connection pools, retry budget, rate limiter, event
        hooks and ``pickle_credentials``; e.g. ``client.with_options(timeout=5).describe_zones()``.
        Values are checked as the constructor checks them (``region=None``: the environment's,
        as in the constructor). Cheap: nothing is resolved or connected again. A different
        ``connect_timeout`` gets connection pools of its own (a connect timeout belongs to a
        pool's connector); everything else is shared with it too."""
        from . import _options as o

        config = dict(self._config)
        kw: dict[str, Any] = {}
        if timeout is not _UNSET:
            config["timeout"] = kw["timeout"] = o.seconds("timeout", timeout)
        if connect_timeout is not _UNSET:
            config["connect_timeout"] = kw["connect_timeout"] = o.seconds(
                "connect_timeout", connect_timeout
            )
        if max_attempts is not _UNSET:
            config["max_attempts"] = kw["max_attempts"] = o.integer(
                "max_attempts", max_attempts, 1, o.MAX_ATTEMPTS
            )
        if region is not _UNSET:
            if region is None:
                region = os.environ.get(_ENV_REGION) or None
            o.text("region", region)
            config["region"] = region.strip() if region else None
            kw["region"] = config["region"]
            kw["clear_region"] = config["region"] is None
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._config = config
        new._core = self._core.with_options(**kw)
        return new

    @property
    def pickle_credentials(self) -> bool:
        """Whether pickling keeps the credentials given as arguments (see ``__init__``)."""
        return self._pickle_credentials

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(region={self.region!r}, endpoint={self.endpoint!r}, "
            f"sign_method={self._config['sign_method']!r}, "
            f"http_method={self._config['http_method']!r})"
        )

    # -- pickling: the configuration; the secret only when the user opted in -----------------

    def __getstate__(self) -> dict:
        state = {
            "config": dict(self._config),
            "core_options": dict(self._core_options),
            "pickle_credentials": self._pickle_credentials,
        }
        if self._pickle_credentials and self._credentials_from_arguments:
            # Opted in, and the credentials were the constructor's arguments: the core hands
            # them out only here (no Python attribute keeps them). Credentials is the chain's
            # tuple whose repr hides the key and token.
            from ._credentials import Credentials

            state["credentials"] = Credentials(*self._core.export_credentials())
            # The proxy's user name and password go with them (same opt-in, same warning).
            state["proxy"] = self._core.export_proxy()
        return state

    # -- copying: the same client, in the same process ----------------------------------------

    def __copy__(self) -> Self:
        """Another client object with this one's configuration and credentials, sharing its
        connection pools (the core is thread-safe). Unlike a pickle, nothing leaves the process,
        so credentials given as arguments come along without ``pickle_credentials``."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._config = dict(self._config)
        return new

    def __deepcopy__(self, memo: dict) -> Self:
        # A client is a handle on a service: a deep copy is a copy (the config is plain data).
        return self.__copy__()

    def __setstate__(self, state: dict) -> None:
        # Without credentials in the pickle (the default, or credentials that came from the
        # chain) they are resolved again (environment, file, role) in the new process.
        self._config = dict(state["config"])
        if state.get("core_options"):
            self._core_options = state["core_options"]
        self._pickle_credentials = bool(state.get("pickle_credentials", False))
        creds = state.get("credentials")
        if creds is not None:
            provider = _resolve_provider(creds[0], creds[1], creds[2], None)
        else:
            provider = _resolve_provider(None, None, None, self._config.get("profile"))
        self._credentials_from_arguments = _from_arguments(provider)
        self._core = self._make_core(
            provider, state.get("proxy", self._config.get("proxy"))
        )


class Client(SyncHelpers, _BaseClient):
    """Synchronous client for Tencent Cloud CVM (API 2017-03-12).

    Every method blocks the calling thread only (the GIL is released during network waits),
    and works while an asyncio event loop runs in the same thread (Jupyter).
    """

    def _invoke(self, action: str, params: Mapping[str, Any] | None = None) -> dict:
        """Call ``action`` with ``params`` validated against the service model."""
        return self._core.invoke(action, params, True, call_log_level(), self._hooks)

    def call(self, action: str, params: Mapping[str, Any] | None = None) -> dict:
        """Call any action with a dict of parameters, without model validation.

        Returns the object inside ``"Response"`` (``RequestId`` included).
        """
        return self._core.invoke(action, params, False, call_log_level(), self._hooks)

    def close(self) -> None:
        """Close the connection pool (a later call opens a new one)."""
        self._core.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(AsyncHelpers, _BaseClient):
    """Asynchronous client: the same methods as :class:`Client`, as coroutines.

    The I/O runs on tccvm's own runtime; the event loop is never blocked by network waits.
    """

    _asynchronous = True

    def _bound_hooks(self) -> Any:
        """The hooks for a call made now (on the running loop), None without any."""
        hooks = self._hooks
        if hooks is None:
            return None
        import asyncio

        return hooks.bind(asyncio.get_running_loop())

    async def _invoke(
        self, action: str, params: Mapping[str, Any] | None = None
    ) -> dict:
        """Call ``action`` with ``params`` validated against the service model."""
        return await self._core.invoke_async(
            action, params, True, call_log_level(), self._bound_hooks()
        )

    async def call(self, action: str, params: Mapping[str, Any] | None = None) -> dict:
        """Call any action with a dict of parameters, without model validation."""
        return await self._core.invoke_async(
            action, params, False, call_log_level(), self._bound_hooks()
        )

    async def aclose(self) -> None:
        """Close the connection pool (a later call opens a new one)."""
        self._core.close()

    def close(self) -> None:
        """Synchronous variant of :meth:`aclose`."""
        self._core.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
