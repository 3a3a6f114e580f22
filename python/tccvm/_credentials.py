"""The credential chain (see the README, "Credentials").

When a client is built without ``secret_id``/``secret_key``, :func:`resolve` looks, in order, at

1. the ``secret_id`` / ``secret_key`` / ``token`` arguments;
2. ``TENCENTCLOUD_SECRET_ID``, ``TENCENTCLOUD_SECRET_KEY``, ``TENCENTCLOUD_TOKEN``;
3. the INI credentials file ``TENCENTCLOUD_CREDENTIALS_FILE`` (else
   ``~/.tencentcloud/credentials``), section ``profile`` (default ``default``), keys
   ``secret_id``, ``secret_key`` and optional ``token``;
4. the CVM role of the machine, from the metadata service
   (``http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/``, or
   ``TENCENTCLOUD_METADATA_ENDPOINT``), refreshed before it expires.

It returns a provider whose :meth:`~CredentialProvider.get` gives the current
:class:`Credentials`. Nothing found: :class:`tccvm.CredentialError` naming every place tried.
No secret key or token ever appears in a repr, a log record or an exception text.
"""

from __future__ import annotations

import _thread  # threading's Lock, without importing threading (Client() would pay ~2 ms)
import os
import time

from . import _core
from ._core import REFRESH_MARGIN_SECS
from ._logging import active_logger
from .errors import CredentialError

# configparser, urllib.parse and json are imported where they are used: a client built with
# keys never needs them. The metadata service is asked through the core's HTTP client
# (_core.http_get), so no Python HTTP or socket code is loaded either. Nor does this import
# typing or logging (see tccvm._logging); type checkers take any TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NamedTuple

    class _CredentialFields(NamedTuple):
        secret_id: str
        secret_key: str
        token: str | None = None

else:

    class _CredentialFields(tuple):  # type: ignore[type-arg]
        """What ``namedtuple("Credentials", ..., defaults=(None,))`` makes, written out: a
        ``Client()`` with credentials would otherwise import collections (~2 ms) to build it."""

        __slots__ = ()
        _fields = ("secret_id", "secret_key", "token")
        __match_args__ = _fields

        def __new__(cls, secret_id, secret_key, token=None):  # type: ignore[no-untyped-def]
            return tuple.__new__(cls, (secret_id, secret_key, token))

        secret_id = property(lambda self: self[0], doc="The secret id (AKID...).")
        secret_key = property(lambda self: self[1], doc="The secret key.")
        token = property(lambda self: self[2], doc="The session token, if any.")

        def _replace(self, **changes):  # type: ignore[no-untyped-def]
            values = dict(zip(self._fields, self))
            unknown = set(changes) - set(values)
            if unknown:
                raise ValueError(f"Got unexpected field names: {sorted(unknown)!r}")
            values.update(changes)
            return type(self)(**values)

        def _asdict(self):  # type: ignore[no-untyped-def]
            return dict(zip(self._fields, self))

        def __getnewargs__(self):  # type: ignore[no-untyped-def]
            return tuple(self)


__all__ = [
    "CredentialError",
    "CredentialProvider",
    "Credentials",
    "MetadataRoleProvider",
    "StaticProvider",
    "resolve",
]


def _log(level: int, msg: str, *args: object) -> None:
    """Log on the logger ``tccvm`` (nothing while the program has not imported logging)."""
    lg = active_logger()
    if lg is not None:
        lg.log(level, msg, *args, stacklevel=2)


_DEBUG, _WARNING = 10, 30  # logging.DEBUG, logging.WARNING

ENV_ID = "TENCENTCLOUD_SECRET_ID"
ENV_KEY = "TENCENTCLOUD_SECRET_KEY"
ENV_TOKEN = "TENCENTCLOUD_TOKEN"
ENV_FILE = "TENCENTCLOUD_CREDENTIALS_FILE"
ENV_METADATA = "TENCENTCLOUD_METADATA_ENDPOINT"
DEFAULT_FILE = "~/.tencentcloud/credentials"
DEFAULT_METADATA = (
    "http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/"
)
_METADATA_PATH = "/latest/meta-data/cam/security-credentials/"

#: Seconds to wait for the metadata service to accept a connection: short, so that a laptop
#: (where metadata.tencentyun.com does not answer) is not held up.
METADATA_CONNECT_TIMEOUT = 1.0
#: Seconds for the whole metadata exchange (both requests).
METADATA_TIMEOUT = 3.0

# The one refresh rule: role credentials are fetched anew REFRESH_MARGIN_SECS (300) seconds
# before they expire, the margin the core itself applies (it calls the provider back once
# ``now >= expiry - margin``; the constant is the core's, crates/core/src/credentials.rs), so
# that whenever it asks, the provider fetches; tests/test_credentials.py checks the two behave
# alike. (The vendor's SDK uses the same 300 s.)


def refresh_time(expires: float, fetched: float) -> float:
    """When credentials fetched at ``fetched`` (Unix time) and expiring at ``expires`` are
    fetched again: ``REFRESH_MARGIN_SECS`` before they expire, but never sooner than a second
    after the last fetch (credentials issued with less than the margin to live are fetched at
    most once a second until fresher ones come)."""
    return max(expires - REFRESH_MARGIN_SECS, fetched + 1.0)


class Credentials(_CredentialFields):
    """A secret id, a secret key and an optional token. The repr hides the key and token."""

    __slots__ = ()

    def __repr__(self) -> str:
        return (
            f"Credentials(secret_id={self.secret_id!r}, secret_key='***'"
            f"{', token=***' if self.token else ''})"
        )

    __str__ = __repr__


class CredentialProvider:
    """Where credentials come from. :meth:`get` returns the credentials to sign with now."""

    #: Human-readable origin, e.g. ``"environment"`` or ``"credentials file ~/... [default]"``.
    source: str = ""
    #: True when the credentials expire and :meth:`get` may return new ones.
    refreshable: bool = False

    def get(self) -> Credentials:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def expiry(self) -> float | None:
        """Unix time at which the current credentials expire (None: they do not)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(source={self.source!r})"


class StaticProvider(CredentialProvider):
    """Long-term (or caller-managed) credentials that never change."""

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        token: str | None = None,
        source: str = "arguments",
    ) -> None:
        self._creds = Credentials(secret_id, secret_key, token or None)
        self.source = source

    def get(self) -> Credentials:
        return self._creds

    def __repr__(self) -> str:
        return f"StaticProvider(source={self.source!r}, secret_id={self._creds.secret_id!r})"


class _Tried:
    """The places looked at, with why each gave nothing (for CredentialError)."""

    def __init__(self) -> None:
        self.places: list[str] = []

    def add(self, place: str, why: str) -> None:
        self.places.append(f"{place}: {why}")

    def error(self, head: str = "no credentials found") -> CredentialError:
        lines = "\n".join(f"  - {p}" for p in self.places)
        return CredentialError(f"{head}; tried, in order:\n{lines}")


def _from_arguments(
    secret_id: str | None, secret_key: str | None, token: str | None, tried: _Tried
) -> CredentialProvider | None:
    place = "arguments secret_id/secret_key"
    if secret_id and secret_key:
        return StaticProvider(secret_id, secret_key, token, "arguments")
    if secret_id or secret_key:
        missing = "secret_key" if secret_id else "secret_id"
        tried.add(place, f"{missing} is missing")
        raise tried.error(f"incomplete credentials: {missing} not given")
    tried.add(place, "not given")
    return None


def _from_environment(tried: _Tried) -> CredentialProvider | None:
    place = f"environment {ENV_ID}/{ENV_KEY}"
    sid = os.environ.get(ENV_ID, "").strip()
    skey = os.environ.get(ENV_KEY, "").strip()
    if sid and skey:
        token = os.environ.get(ENV_TOKEN, "").strip() or None
        return StaticProvider(sid, skey, token, "environment")
    if sid or skey:
        missing = ENV_KEY if sid else ENV_ID
        tried.add(place, f"{missing} is not set")
        raise tried.error(
            f"incomplete credentials in the environment: {missing} is not set"
        )
    tried.add(place, "not set")
    return None


def credentials_file_path() -> str:
    """The credentials file the chain reads (``TENCENTCLOUD_CREDENTIALS_FILE`` or the default)."""
    return os.path.expanduser(os.environ.get(ENV_FILE) or DEFAULT_FILE)


def _from_file(profile: str | None, tried: _Tried) -> CredentialProvider | None:
    path = credentials_file_path()
    section = profile or "default"
    place = f"credentials file {path} [{section}]"
    if not os.path.isfile(path):
        why = "not found"
        tried.add(place, why)
        if profile is not None or os.environ.get(ENV_FILE):
            # Asked for explicitly: going on to the next source would hide the mistake.
            raise tried.error(f"credentials file {path} not found")
        return None
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except configparser.Error as e:
        # configparser's messages quote the offending line, which may hold a secret.
        line = getattr(e, "lineno", None)
        if line is None and getattr(e, "errors", None):
            line = e.errors[0][0]
        where = f" (line {line})" if line else ""
        tried.add(place, f"cannot be parsed{where}")
        raise tried.error(f"credentials file {path} cannot be parsed{where}") from None
    except (OSError, UnicodeDecodeError) as e:
        tried.add(place, f"cannot be read ({type(e).__name__})")
        raise tried.error(f"credentials file {path} cannot be read") from None
    if not parser.has_section(section):
        sections = ", ".join(parser.sections()) or "none"
        tried.add(place, f"no section [{section}] (sections: {sections})")
        if profile is not None:
            raise tried.error(f"profile {profile!r} not found in {path}")
        return None
    sec = parser[section]
    sid = sec.get("secret_id", "").strip()
    skey = sec.get("secret_key", "").strip()
    if not (sid and skey):
        missing = [k for k, v in (("secret_id", sid), ("secret_key", skey)) if not v]
        tried.add(place, f"missing {', '.join(missing)}")
        raise tried.error(f"incomplete credentials in {path} [{section}]")
    token = sec.get("token", "").strip() or None
    return StaticProvider(sid, skey, token, f"credentials file {path} [{section}]")


def metadata_url() -> str:
    """The metadata URL of the role credentials (``TENCENTCLOUD_METADATA_ENDPOINT`` may give the
    full URL, or just ``http://host:port``)."""
    url = os.environ.get(ENV_METADATA, "").strip() or DEFAULT_METADATA
    if "://" not in url:
        url = "http://" + url
    if "security-credentials" not in url:
        url = url.rstrip("/") + _METADATA_PATH
    if not url.endswith("/"):
        url += "/"
    return url


class MetadataError(Exception):
    """The metadata service did not give role credentials (text is safe to show)."""


def _http_get(url: str, deadline: float) -> str:
    """GET ``url`` through the core's HTTP client (no proxy, no redirect), connecting within
    ``METADATA_CONNECT_TIMEOUT`` (name lookup included) and done by ``deadline``
    (``time.monotonic()``)."""
    scheme = url.partition("://")[0].lower()
    if scheme not in ("http", "https"):
        raise MetadataError(f"unsupported scheme {scheme!r}")
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise MetadataError("timed out")
    try:
        status, body = _core.http_get(
            url, remaining, min(METADATA_CONNECT_TIMEOUT, remaining)
        )
    except ConnectionError as e:  # name lookup, refused, or the connect timed out
        raise MetadataError(f"cannot connect ({e})") from None
    except TimeoutError:
        raise MetadataError("no answer (timed out)") from None
    except OSError as e:  # the answer broke off or was not HTTP
        raise MetadataError(f"no answer ({e})") from None
    if status != 200:
        import urllib.parse

        raise MetadataError(
            f"HTTP {status} for {urllib.parse.urlsplit(url).path or '/'}"
        )
    return body.decode("utf-8", "replace")


class MetadataRoleProvider(CredentialProvider):
    """Temporary credentials of the machine's CVM role, from the metadata service.

    The first :meth:`get` (or :meth:`load`) fetches them; later calls return the cached ones
    until they come within ``REFRESH_MARGIN_SECS`` (5 minutes) of their expiry, then fetch new
    ones (see :func:`refresh_time`). Safe to share between threads: one thread refreshes
    while the others wait. If a refresh fails while the old credentials are still valid they
    are kept (and the failure logged); once expired, :class:`CredentialError` is raised.
    """

    refreshable = True

    def __init__(self, url: str | None = None, role: str | None = None) -> None:
        self.url = url or metadata_url()
        self.role = role
        self.source = f"CVM role from {self.url}"
        self._lock = _thread.allocate_lock()
        self._creds: Credentials | None = None
        self._expires: float = 0.0
        self._refresh_at: float = 0.0
        #: Number of successful fetches (for tests and debugging).
        self.fetches = 0

    @property
    def expiry(self) -> float | None:
        return self._expires if self._creds is not None else None

    def _fetch(self) -> tuple[Credentials, float]:
        import json
        import urllib.parse

        deadline = time.monotonic() + METADATA_TIMEOUT
        role = self.role
        if not role:
            text = _http_get(self.url, deadline).strip()
            role = text.splitlines()[0].strip() if text else ""
            if not role:
                raise MetadataError("no CVM role is bound to this machine")
        body = _http_get(self.url + urllib.parse.quote(role), deadline)
        try:
            doc: Any = json.loads(body)
            sid = doc["TmpSecretId"]
            skey = doc["TmpSecretKey"]
            token = doc.get("Token")
            expires = float(doc["ExpiredTime"])
        except (ValueError, KeyError, TypeError):
            raise MetadataError(f"unexpected answer for role {role!r}") from None
        if not (isinstance(sid, str) and isinstance(skey, str) and sid and skey):
            raise MetadataError(f"unexpected answer for role {role!r}")
        self.role = role
        return Credentials(sid, skey, token or None), expires

    def load(self) -> MetadataRoleProvider:
        """Fetch now (raises :class:`MetadataError` on failure). Returns self."""
        with self._lock:
            self._refresh_locked()
        return self

    def _refresh_locked(self) -> None:
        now = time.time()
        creds, expires = self._fetch()
        self._creds, self._expires = creds, expires
        self._refresh_at = refresh_time(expires, now)
        self.fetches += 1
        _log(
            _DEBUG,
            "tccvm: CVM role %r credentials fetched, expire in %.0f s",
            self.role,
            max(expires - now, 0.0),
        )

    def get(self) -> Credentials:
        creds = self._creds
        if creds is not None and time.time() < self._refresh_at:
            return creds
        with self._lock:
            now = time.time()
            if self._creds is not None and now < self._refresh_at:
                return self._creds
            try:
                self._refresh_locked()
            except MetadataError as e:
                if self._creds is not None and now < self._expires:
                    _log(
                        _WARNING,
                        "tccvm: refreshing CVM role credentials failed (%s); "
                        "keeping the current ones until they expire",
                        e,
                    )
                    self._refresh_at = now + 1.0
                    return self._creds
                raise CredentialError(
                    f"CVM role credentials from {self.url} could not be refreshed: {e}"
                ) from None
            assert self._creds is not None
            return self._creds

    def __getstate__(self) -> dict[str, Any]:
        # Never pickle temporary secrets; the unpickled provider fetches its own.
        return {"url": self.url, "role": self.role}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"], state["role"])  # type: ignore[misc]


def _from_metadata(tried: _Tried) -> CredentialProvider | None:
    provider = MetadataRoleProvider()
    try:
        return provider.load()
    except MetadataError as e:
        tried.add(f"CVM role from metadata service {provider.url}", str(e))
        return None


def resolve(
    secret_id: str | None = None,
    secret_key: str | None = None,
    token: str | None = None,
    profile: str | None = None,
) -> CredentialProvider:
    """Walk the chain and return the first provider that has credentials.

    An explicit ``profile`` selects the credentials file directly (the environment variables
    are skipped), and an explicitly named but missing file or profile is an error rather than a
    reason to go on. Raises :class:`tccvm.CredentialError` listing every place tried.
    """
    tried = _Tried()
    found = _from_arguments(secret_id, secret_key, token, tried)
    if found is None and profile is None:
        found = _from_environment(tried)
    elif found is None:
        tried.add(
            f"environment {ENV_ID}/{ENV_KEY}", f"skipped (profile={profile!r} given)"
        )
    if found is None:
        found = _from_file(profile, tried)
    if found is None:
        found = _from_metadata(tried)
    if found is None:
        raise tried.error()
    _log(_DEBUG, "tccvm: credentials from %s", found.source)
    return found
