"""Bad input is refused clearly and early: NaN/inf in parameters (typed methods and call()), and
every constructor argument at construction, with a message naming it. The proxy URL's userinfo
is a secret: never in repr, vars, a log record, an exception text or a default pickle. Errors
report the attempts actually made and the last status.
"""

from __future__ import annotations

import logging
import math
import pickle

import pytest
import tccvm
from conftest import TEST_ID, TEST_KEY

NAN, INF = math.nan, math.inf


def make(**kw):
    kw.setdefault("secret_id", TEST_ID)
    kw.setdefault("secret_key", TEST_KEY)
    kw.setdefault("region", "ap-guangzhou")
    return tccvm.Client(**kw)


# -- NaN and infinity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"InstanceIds": ["a"], "X": NAN}, "X"),
        (
            {"Filters": [{"Name": "zone", "Values": [1.0, NAN, 3.0]}]},
            "Filters[0].Values[1]",
        ),
        ({"Limit": INF}, "Limit"),
        ({"Deep": {"A": (1, -INF)}}, "Deep.A[1]"),
    ],
)
def test_nan_and_inf_in_call_params_are_refused_naming_the_path(
    recording_server, client_factory, params, path
):
    c = client_factory()
    with pytest.raises(tccvm.ParamValidationError) as e:
        c.call("DescribeInstances", params)
    assert e.value.path == path, e.value
    assert path in str(e.value)
    assert recording_server.requests == []  # nothing sent


def test_nan_in_typed_methods_is_refused_naming_the_path(
    recording_server, client_factory
):
    c = client_factory()
    with pytest.raises(tccvm.ParamValidationError) as e:
        c.describe_instances(Limit=NAN)
    assert e.value.path == "Limit"
    assert "NaN" in str(e.value)
    with pytest.raises(tccvm.ParamValidationError) as e:
        c.describe_instances(Filters=[{"Name": "zone", "Values": ["a", INF]}])
    assert e.value.path == "Filters[0].Values[1]"
    assert recording_server.requests == []


# -- constructor arguments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "exc", "named"),
    [
        ({"endpoint": ""}, ValueError, "endpoint"),
        ({"endpoint": "   "}, ValueError, "endpoint"),
        ({"region": ""}, ValueError, "region"),
        ({"region": "  "}, ValueError, "region"),
        ({"timeout": True}, TypeError, "timeout"),
        ({"connect_timeout": False}, TypeError, "connect_timeout"),
        ({"timeout": NAN}, ValueError, "timeout"),
        ({"timeout": "5"}, TypeError, "timeout"),
        ({"max_attempts": True}, TypeError, "max_attempts"),
        ({"max_attempts": 2**70}, ValueError, "max_attempts"),
        ({"max_attempts": 0}, ValueError, "max_attempts"),
        ({"max_attempts": 2.0}, TypeError, "max_attempts"),
        ({"verify": 0}, TypeError, "verify"),
        ({"verify": ""}, ValueError, "verify"),
        ({"token": "abc\ndef"}, ValueError, "token"),
        ({"language": "en-US\r\nX: y"}, ValueError, "language"),
        ({"language": ""}, ValueError, "language"),
        ({"secret_id": "AKID\x00x"}, ValueError, "secret_id"),
        ({"secret_id": 5}, TypeError, "secret_id"),
        ({"proxy": "socks9://127.0.0.1:1080"}, ValueError, "proxy"),
        ({"proxy": "ftp://127.0.0.1:21"}, ValueError, "proxy"),
        ({"proxy": "127.0.0.1:3128"}, ValueError, "proxy"),
        ({"proxy": ""}, ValueError, "proxy"),
        ({"proxy": "http://"}, ValueError, "proxy"),
        ({"rate_limit": 1}, TypeError, "rate_limit"),
        ({"max_connections": 0}, ValueError, "max_connections"),
        ({"max_connections": True}, TypeError, "max_connections"),
        ({"max_response_bytes": 2**80}, ValueError, "max_response_bytes"),
        ({"max_response_bytes": -1}, ValueError, "max_response_bytes"),
        ({"sign_method": None}, TypeError, "sign_method"),
        ({"profile": 3}, TypeError, "profile"),
    ],
)
def test_every_constructor_argument_is_checked_at_construction(kw, exc, named):
    with pytest.raises(exc) as e:
        make(**kw)
    assert named in str(e.value)
    # A secret is never shown, even when it is the argument refused.
    for v in kw.values():
        if (
            isinstance(v, str)
            and named in ("token", "secret_id", "proxy")
            and v.strip()
        ):
            assert v not in str(e.value)


@pytest.mark.parametrize("cls", [tccvm.Client, tccvm.AsyncClient])
def test_good_arguments_still_work(cls):
    c = cls(
        secret_id=TEST_ID,
        secret_key=TEST_KEY,
        region="ap-guangzhou",
        endpoint="http://127.0.0.1:9",
        timeout=5,
        connect_timeout=1.5,
        max_attempts=100,
        proxy="socks5h://user:pw@127.0.0.1:1080",
        language="en-US",
        max_connections=1,
        max_response_bytes=1,
    )
    assert c.endpoint.rstrip("/") == "http://127.0.0.1:9"
    c.close()


# -- socks5 proxies work ------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["socks5", "socks5h"])
def test_a_socks5_proxy_with_a_password_is_used(monkeypatch, scheme):
    from hostile import Socks5Proxy
    from tccvm.emulator import Emulator

    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with Emulator() as emu, Socks5Proxy(auth=("sockuser", "sock-pw")) as proxy:
        port = int(emu.endpoint.rsplit(":", 1)[1])
        c = tccvm.Client(
            secret_id=emu.secret_id,
            secret_key=emu.secret_key,
            region="ap-guangzhou",
            endpoint=f"http://localhost:{port}",
            proxy=f"{scheme}://sockuser:sock-pw@127.0.0.1:{proxy.port}",
        )
        assert c.describe_zones()["ZoneSet"]
        assert proxy.logins == [("sockuser", "sock-pw")]
        # socks5h: the proxy resolves the name; socks5: the client does.
        host = "localhost" if scheme == "socks5h" else "127.0.0.1"
        assert proxy.targets == [(host, port)]


# -- the proxy's userinfo is a secret ----------------------------------------------------------

PROXY_PW = "proxy-PASSWORD-do-not-leak"
PROXY = f"http://proxyuser:{PROXY_PW}@127.0.0.1:9"


def _everything_shown(c) -> str:
    return " ".join([repr(c), repr(vars(c)), str(c._config), repr(c._core)])


def test_the_proxy_password_is_in_no_repr_vars_or_default_pickle(monkeypatch):
    # The unpickled client finds its credentials in the environment.
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "env-id")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "env-key")
    c = make(proxy=PROXY, endpoint="http://127.0.0.1:9")
    shown = _everything_shown(c)
    assert PROXY_PW not in shown and "proxyuser" not in shown
    assert c._config["proxy"] == "http://127.0.0.1:9"
    blob = pickle.dumps(c)
    assert PROXY_PW.encode() not in blob and b"proxyuser" not in blob
    # The unpickled client keeps the proxy, without its credentials.
    assert pickle.loads(blob)._config["proxy"] == "http://127.0.0.1:9"


def test_the_proxy_password_is_pickled_only_with_the_opt_in():
    c = make(proxy=PROXY, endpoint="http://127.0.0.1:9", pickle_credentials=True)
    blob = pickle.dumps(c)
    assert PROXY_PW.encode() in blob
    restored = pickle.loads(blob)
    assert restored._core.export_proxy() == PROXY
    assert PROXY_PW not in _everything_shown(restored)


def test_the_proxy_password_is_in_no_log_record_or_exception(caplog):
    c = make(proxy=PROXY, endpoint="http://127.0.0.1:9", max_attempts=2, timeout=2)
    with (
        caplog.at_level(logging.DEBUG, logger="tccvm"),
        pytest.raises(tccvm.TransportError) as e,
    ):
        c.describe_zones()
    text = str(e.value) + repr(e.value) + repr(vars(e.value))
    text += " ".join(r.getMessage() + repr(vars(r)) for r in caplog.records)
    assert caplog.records
    assert PROXY_PW not in text and "proxyuser" not in text


def test_a_proxy_refused_at_construction_does_not_show_its_password():
    with pytest.raises(ValueError) as e:
        make(proxy=f"gopher://u:{PROXY_PW}@127.0.0.1:9")
    assert PROXY_PW not in str(e.value)


# -- errors report the attempts made and the last status ---------------------------------------

# A 200 whose Response inspects as a success but cannot be built (an integer of 5,000 digits,
# over CPython's limit for int()): the error comes from building the result.
UNBUILDABLE = b'{"Response": {"RequestId": "r", "Big": 1' + b"0" * 5000 + b"}}"


def test_an_error_building_the_result_reports_the_attempts_and_status(
    recording_server, client_factory
):
    c = client_factory()
    recording_server.push(status=503, body=b"<html>busy</html>")
    recording_server.push(status=200, body=UNBUILDABLE)
    with pytest.raises(tccvm.TransportError) as e:
        c.describe_zones()
    assert len(recording_server.requests) == 2
    assert (e.value.attempts, e.value.status, e.value.kind) == (2, 200, "not_api")


def test_async_errors_building_the_result_report_the_attempts_and_status(
    recording_server, client_factory
):
    import asyncio

    a = client_factory(tccvm.AsyncClient)
    recording_server.push(status=503, body=b"<html>busy</html>")
    recording_server.push(status=200, body=UNBUILDABLE)
    with pytest.raises(tccvm.TransportError) as e:
        asyncio.run(a.describe_zones())
    assert (e.value.attempts, e.value.status) == (2, 200)


def test_transport_errors_carry_the_status_of_the_answer_that_broke(recording_server):
    from hostile import StreamingServer

    with StreamingServer(None) as srv:
        c = make(endpoint=srv.endpoint, max_response_bytes=1024)
        with pytest.raises(tccvm.TransportError) as e:
            c.describe_zones()
        assert (e.value.attempts, e.value.status) == (1, 200)
