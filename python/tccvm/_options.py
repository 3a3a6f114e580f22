"""The client's constructor arguments, checked at construction: each wrong one is refused there
with a message that names it (never its value when it may hold a secret), instead of being
accepted and failing (or silently meaning something else) at the first call.

Imported by the first client, not by ``import tccvm``.
"""

from __future__ import annotations

import os

#: Proxy URL schemes the client can use (``socks5h``/``socks4a``: the proxy resolves names).
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h", "socks4", "socks4a")

#: Upper bounds (far beyond any sensible value; what is refused beyond them is a mistake).
MAX_SECONDS = 1e9
MAX_ATTEMPTS = 100
MAX_CONNECTIONS = 1 << 20
MAX_RESPONSE_BYTES = 1 << 40


def _type_name(v: object) -> str:
    return type(v).__name__


def _no_control(name: str, v: str, *, secret: bool = False) -> None:
    bad = next((c for c in v if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0), None)
    if bad is not None:
        shown = "" if secret else f" ({v!r})"
        raise ValueError(f"{name} contains a control character{shown}")


def text(name: str, v: object, *, optional: bool = True, secret: bool = False) -> None:
    """``v`` is None (when optional) or a non-blank str without control characters."""
    if v is None:
        if optional:
            return
        raise TypeError(f"{name} must be a str, not None")
    if not isinstance(v, str):
        raise TypeError(f"{name} must be a str or None, not {_type_name(v)}")
    if not v.strip():
        raise ValueError(f"{name} must not be empty or blank (None means the default)")
    _no_control(name, v, secret=secret)


def secret(name: str, v: object, *, controls: bool) -> None:
    """A credential argument: None or a str (empty: not given, the chain decides), with no
    control character unless ``controls`` (the key is only ever hashed). Never shown."""
    if v is None:
        return
    if not isinstance(v, str):
        raise TypeError(f"{name} must be a str or None, not {_type_name(v)}")
    if not controls:
        _no_control(name, v, secret=True)


def seconds(name: str, v: object) -> float:
    """A positive finite number of seconds (bools refused)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {_type_name(v)}")
    f = float(v)
    # NaN and infinities fail the comparison (so `math`, an extension module, is not needed).
    if not 0 < f < MAX_SECONDS:
        raise ValueError(f"{name} must be a positive number of seconds, not {v!r}")
    return f


def integer(name: str, v: object, low: int, high: int) -> int:
    """An int in ``[low, high]`` (bools refused; out of range is a ValueError)."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"{name} must be an int, not {_type_name(v)}")
    if not low <= v <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {v}")
    return int(v)


def flag(name: str, v: object) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"{name} must be True or False, not {_type_name(v)}")
    return v


def verify(v: object) -> bool | str:
    """True/False, or the path of a CA bundle (str or os.PathLike)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, os.PathLike):
        v = os.fspath(v)
    if isinstance(v, bytes):
        v = os.fsdecode(v)
    if not isinstance(v, str):
        raise TypeError(
            "verify must be True, False or the path of a CA bundle (str or os.PathLike), "
            f"not {_type_name(v)}"
        )
    if not v.strip():
        raise ValueError("verify must be True, False or a path, not an empty string")
    return v


def proxy(v: object) -> tuple[str | None, str | None]:
    """``(the URL to use, the URL to show)``: the second has no user name or password (the
    userinfo of a proxy URL is a secret). Unsupported schemes are refused."""
    if v is None:
        return None, None
    if not isinstance(v, str):
        raise TypeError(f"proxy must be a URL (str) or None, not {_type_name(v)}")
    if not v.strip():
        raise ValueError(
            "proxy must not be empty or blank (None means the environment's)"
        )
    _no_control("proxy", v, secret=True)
    # Only with a proxy: a client with keys and no proxy imports no URL machinery.
    import urllib.parse

    try:
        u = urllib.parse.urlsplit(v.strip())
        port = u.port
        host = u.hostname
    except ValueError:
        raise ValueError("proxy is not a valid URL") from None
    scheme = u.scheme.lower()
    if scheme not in PROXY_SCHEMES:
        shown = f" {scheme!r}" if scheme else ""
        raise ValueError(
            f"proxy scheme{shown} is not supported (use one of {', '.join(PROXY_SCHEMES)}; "
            "e.g. http://host:3128)"
        )
    if not host:
        raise ValueError("proxy URL has no host")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    shown = urllib.parse.urlunsplit((scheme, netloc, u.path, "", ""))
    return v.strip(), shown


def redacted_proxy(v: str | None) -> str | None:
    """The proxy URL without its userinfo (for reprs, logs and errors)."""
    return proxy(v)[1] if v is not None else None
