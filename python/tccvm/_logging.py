"""Logging through the standard :mod:`logging` module, logger ``"tccvm"``.

- DEBUG: one record per attempt: action, region, endpoint, attempt, HTTP status, latency,
  request id, and the outcome (``ok``, the error code, or the transport failure).
- WARNING: one record per retry (what failed, which attempt, the delay before the next one).

No record ever holds a secret key, a token, a signature or an Authorization header: the core
hands over only the fields above. The level is checked once per call (``call_log_level``); when
the logger is not enabled for DEBUG, the core reports only retries, and nothing at all when
WARNING is off too. Records carry the fields as attributes (``record.action``,
``record.attempt``, ``record.status``, ``record.latency_ms``, ``record.request_id`` ...), for
structured handlers.

    import logging
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("tccvm").setLevel(logging.DEBUG)

The wire log, logger ``"tccvm.wire"`` at DEBUG: each attempt's method, URL, headers and body
as sent, and each answer's status, headers and body, every body cut at ``WIRE_BODY_LIMIT``
bytes (4096; the rest is counted), with the secrets redacted by the core before Python sees
them (the ``Authorization`` header's signature and the SecretId's key material in its
credential, ``X-TC-Token``, v1's ``Signature``, ``Token`` and ``SecretId`` parameters, any
``...Password`` parameter, ``Set-Cookie``; a proxy's user name and password are never on
the wire view at all). It is on only when that logger's own level is DEBUG (setting ``tccvm``
to DEBUG does not dump bodies), and costs nothing otherwise:

    logging.getLogger("tccvm.wire").setLevel(logging.DEBUG)
"""

from __future__ import annotations

import sys
from _thread import allocate_lock  # threading.Lock, without importing threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from typing import Any

# Also `logger` (the logger "tccvm"), produced on first use (__getattr__).
__all__ = [
    "LOG_ATTEMPTS",
    "LOG_OFF",
    "LOG_RETRIES",
    "LOG_WIRE",
    "WIRE_BODY_LIMIT",
    "call_log_level",
    "emit",
    "emit_request",
]

# Bits of what the core reports (LOG_ATTEMPTS includes the retries).
LOG_OFF, LOG_RETRIES, LOG_ATTEMPTS, LOG_WIRE = 0, 1, 3, 4

#: Bytes of a body the wire log shows (``tccvm_core::observe::WIRE_BODY_LIMIT``).
WIRE_BODY_LIMIT = 4096

# tccvm never imports the logging module itself: as long as the program has not imported it,
# no handler can exist and nothing would be shown, so nothing is logged (that is what the
# NullHandler below gives an unconfigured program too). Once logging is imported, the logger
# "tccvm" is set up on the next check (`active_logger`, `call_log_level`).
_logger: logging.Logger | None = None
_wire: logging.Logger | None = None
_setup_lock = allocate_lock()


def get_logger() -> logging.Logger:
    """The logger ``tccvm``, with its NullHandler (added once)."""
    global _logger, _wire
    if _logger is None:
        import logging

        with _setup_lock:
            if _logger is None:
                lg = logging.getLogger("tccvm")
                # A library never configures logging; without this, Python's last-resort
                # handler would print the retry warnings of an unconfigured script on stderr.
                lg.addHandler(logging.NullHandler())
                _wire = logging.getLogger("tccvm.wire")
                _logger = lg
    return _logger


def active_logger() -> logging.Logger | None:
    """The logger ``tccvm``, or None while the program has not imported :mod:`logging`."""
    lg = _logger
    if lg is None and "logging" in sys.modules:
        lg = get_logger()
    return lg


def __getattr__(name: str) -> Any:
    if name == "logger":
        return get_logger()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def call_log_level() -> int:
    """What the core should report for the call about to start (checked once per call)."""
    logger = _logger or active_logger()
    if logger is None:  # logging never imported: no handler could show anything
        return LOG_OFF
    wire = _wire
    # Only the wire logger's own level turns the wire log on (see the module's doc).
    level = LOG_WIRE if wire and wire.level and wire.isEnabledFor(10) else LOG_OFF
    if logger.isEnabledFor(10):  # logging.DEBUG
        return level | LOG_ATTEMPTS
    if logger.isEnabledFor(30):  # logging.WARNING
        return level | LOG_RETRIES
    return level


def _fmt_status(status: Any) -> str:
    return "-" if status is None else str(status)


def emit(rec: dict[str, Any]) -> None:
    """Called by the core (GIL held) for an attempt. ``rec`` keys: action, region, endpoint,
    attempt, max_attempts, status (int or None), latency_ms, request_id (or None), outcome
    (``"ok"``, an error code, or a transport failure kind) and retry_in (seconds before the next
    attempt, None when there is none)."""
    extra = {
        "action": rec.get("action"),
        "region": rec.get("region"),
        "endpoint": rec.get("endpoint"),
        "attempt": rec.get("attempt"),
        "max_attempts": rec.get("max_attempts"),
        "status": rec.get("status"),
        "latency_ms": rec.get("latency_ms"),
        "request_id": rec.get("request_id"),
        "outcome": rec.get("outcome"),
        "retry_in": rec.get("retry_in"),
    }
    logger = _logger or get_logger()
    wire = rec.get("wire")
    if wire is not None:
        _wire_answer(extra, wire)
    if logger.isEnabledFor(10):  # logging.DEBUG
        logger.debug(
            "%s attempt %s/%s region=%s endpoint=%s status=%s latency=%.1fms "
            "request_id=%s outcome=%s",
            extra["action"],
            extra["attempt"],
            extra["max_attempts"],
            extra["region"] or "-",
            extra["endpoint"],
            _fmt_status(extra["status"]),
            float(extra["latency_ms"] or 0.0),
            extra["request_id"] or "-",
            extra["outcome"],
            extra=extra,
        )
    retry_in = extra["retry_in"]
    if retry_in is not None:
        logger.warning(
            "%s attempt %s/%s failed (%s, status %s, request_id %s); retrying in %.2fs",
            extra["action"],
            extra["attempt"],
            extra["max_attempts"],
            extra["outcome"],
            _fmt_status(extra["status"]),
            extra["request_id"] or "-",
            float(retry_in),
            extra=extra,
        )


def _lines(headers: list[tuple[str, str]]) -> str:
    return "".join(f"\n{k}: {v}" for k, v in headers)


def _wire_logger() -> logging.Logger:
    get_logger()
    assert _wire is not None
    return _wire


def _wire_answer(extra: dict[str, Any], wire: dict[str, Any]) -> None:
    lg = _wire_logger()
    if lg.isEnabledFor(10):
        lg.debug(
            "%s attempt %s/%s <- %s%s\n\n%s",
            extra["action"],
            extra["attempt"],
            extra["max_attempts"],
            _fmt_status(extra["status"]),
            _lines(wire["headers"]),
            wire["body"],
            extra={**extra, "wire": wire},
        )


def emit_request(rec: dict[str, Any]) -> None:
    """Called by the core (GIL held) before an attempt when the wire log is on. ``rec``: action,
    region, endpoint, attempt, max_attempts and ``wire`` (method, url, headers as (name, value)
    pairs, body: all redacted, the body cut at ``WIRE_BODY_LIMIT``)."""
    lg = _wire_logger()
    if not lg.isEnabledFor(10):
        return
    wire = rec["wire"]
    lg.debug(
        "%s attempt %s/%s -> %s %s%s\n\n%s",
        rec.get("action"),
        rec.get("attempt"),
        rec.get("max_attempts"),
        wire["method"],
        wire["url"],
        _lines(wire["headers"]),
        wire["body"],
        extra={
            "action": rec.get("action"),
            "region": rec.get("region"),
            "endpoint": rec.get("endpoint"),
            "attempt": rec.get("attempt"),
            "max_attempts": rec.get("max_attempts"),
            "wire": wire,
        },
    )
