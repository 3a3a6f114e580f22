"""The credential chain: each provider, the order between them, the errors (never a secret),
and the CVM role end to end against the emulator's metadata service."""

from __future__ import annotations

import contextlib
import logging
import pickle
import socket
import threading
import time

import pytest
from tccvm import _credentials as cr
from tccvm._credentials import CredentialError, Credentials, resolve
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

ID, KEY, TOKEN = "AKIDexample0000000000", "s3cr3t-key-VALUE-9876", "tok3n-VALUE-5555"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No ambient credentials: empty HOME, no variables, metadata on a closed port."""
    for var in (cr.ENV_ID, cr.ENV_KEY, cr.ENV_TOKEN, cr.ENV_FILE, cr.ENV_METADATA):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(cr.ENV_METADATA, f"http://127.0.0.1:{closed_port()}")


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_file(tmp_path, text, name="credentials"):
    p = tmp_path / name
    p.write_text(text)
    return p


def no_secret(text: str) -> None:
    assert KEY not in text and TOKEN not in text


# -- explicit arguments ----------------------------------------------------------------------


def test_arguments_first(monkeypatch):
    monkeypatch.setenv(cr.ENV_ID, "env-id")
    monkeypatch.setenv(cr.ENV_KEY, "env-key")
    p = resolve(ID, KEY, TOKEN)
    assert p.get() == Credentials(ID, KEY, TOKEN)
    assert p.source == "arguments" and not p.refreshable and p.expiry is None


def test_arguments_incomplete_is_an_error():
    with pytest.raises(CredentialError, match="secret_key not given"):
        resolve(ID, None)
    with pytest.raises(CredentialError, match="secret_id not given") as ei:
        resolve(None, KEY)
    no_secret(str(ei.value))


# -- environment -------------------------------------------------------------------------------


def test_environment(monkeypatch):
    monkeypatch.setenv(cr.ENV_ID, ID)
    monkeypatch.setenv(cr.ENV_KEY, KEY)
    p = resolve()
    assert p.get() == Credentials(ID, KEY, None) and p.source == "environment"
    monkeypatch.setenv(cr.ENV_TOKEN, TOKEN)
    assert resolve().get().token == TOKEN


def test_environment_incomplete(monkeypatch):
    monkeypatch.setenv(cr.ENV_KEY, KEY)
    with pytest.raises(
        CredentialError, match="TENCENTCLOUD_SECRET_ID is not set"
    ) as ei:
        resolve()
    no_secret(str(ei.value))


def test_environment_beats_file(monkeypatch, tmp_path):
    f = write_file(tmp_path, "[default]\nsecret_id = file-id\nsecret_key = file-key\n")
    monkeypatch.setenv(cr.ENV_FILE, str(f))
    monkeypatch.setenv(cr.ENV_ID, ID)
    monkeypatch.setenv(cr.ENV_KEY, KEY)
    assert resolve().get().secret_id == ID
    # An explicit profile picks the file even when the environment has credentials.
    assert resolve(profile="default").get().secret_id == "file-id"


# -- credentials file --------------------------------------------------------------------------


def test_file_default_profile_and_named_profile(monkeypatch, tmp_path):
    f = write_file(
        tmp_path,
        f"[default]\nsecret_id = {ID}\nsecret_key = {KEY}\n\n"
        f"[prod]\nsecret_id = prod-id\nsecret_key = prod-key\ntoken = {TOKEN}\n",
    )
    monkeypatch.setenv(cr.ENV_FILE, str(f))
    p = resolve()
    assert p.get() == Credentials(ID, KEY, None)
    assert p.source == f"credentials file {f} [default]"
    assert resolve(profile="prod").get() == Credentials("prod-id", "prod-key", TOKEN)


def test_file_in_home(monkeypatch, tmp_path):
    home = tmp_path / "home"
    (home / ".tencentcloud").mkdir(parents=True)
    (home / ".tencentcloud" / "credentials").write_text(
        f"[default]\nsecret_id={ID}\nsecret_key={KEY}\n"
    )
    assert resolve().get().secret_key == KEY


def test_file_missing_profile_is_an_error(monkeypatch, tmp_path):
    f = write_file(tmp_path, f"[default]\nsecret_id = {ID}\nsecret_key = {KEY}\n")
    monkeypatch.setenv(cr.ENV_FILE, str(f))
    with pytest.raises(CredentialError, match="profile 'staging' not found") as ei:
        resolve(profile="staging")
    assert "no section [staging] (sections: default)" in str(ei.value)
    no_secret(str(ei.value))


def test_file_named_but_absent_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv(cr.ENV_FILE, str(tmp_path / "nope"))
    with pytest.raises(CredentialError, match="not found"):
        resolve()


def test_file_unparsable_never_quotes_the_line(monkeypatch, tmp_path):
    f = write_file(tmp_path, f"secret_key = {KEY}\n[default]\n")
    monkeypatch.setenv(cr.ENV_FILE, str(f))
    with pytest.raises(CredentialError, match="cannot be parsed") as ei:
        resolve()
    no_secret(str(ei.value))
    no_secret(repr(ei.value))


def test_file_incomplete_section(monkeypatch, tmp_path):
    f = write_file(tmp_path, f"[default]\nsecret_id = {ID}\n")
    monkeypatch.setenv(cr.ENV_FILE, str(f))
    with pytest.raises(CredentialError, match="missing secret_key"):
        resolve()


# -- nothing anywhere ---------------------------------------------------------------------------


def test_nothing_found_lists_every_place_quickly():
    t = time.monotonic()
    with pytest.raises(CredentialError) as ei:
        resolve()
    assert time.monotonic() - t < 3
    text = str(ei.value)
    for place in (
        "arguments secret_id/secret_key: not given",
        "environment TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY: not set",
        ".tencentcloud/credentials [default]: not found",
        "CVM role from metadata service http://127.0.0.1:",
        "cannot connect",
    ):
        assert place in text, (place, text)
    import tccvm

    assert isinstance(ei.value, tccvm.CredentialError)


def test_metadata_that_never_answers_is_bounded(monkeypatch):
    """A server that accepts and then says nothing (a black hole) does not hang the chain."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    try:
        monkeypatch.setenv(cr.ENV_METADATA, f"http://127.0.0.1:{srv.getsockname()[1]}")
        t = time.monotonic()
        with pytest.raises(CredentialError, match="timed out"):
            resolve()
        assert time.monotonic() - t < cr.METADATA_TIMEOUT + 1
    finally:
        stop.set()
        th.join(2)
        for c in held:
            c.close()
        srv.close()


# -- the CVM role, end to end against the emulator -------------------------------------------


@pytest.fixture
def emu():
    with Emulator() as e:
        yield e


def signed_call_works(emu: Emulator, creds: Credentials) -> bool:
    """Sign a real call with these credentials and let the emulator judge it."""
    import tccvm

    with tccvm.Client(
        secret_id=creds.secret_id,
        secret_key=creds.secret_key,
        token=creds.token,
        region="ap-guangzhou",
        endpoint=emu.endpoint,
        max_attempts=1,
    ) as c:
        return c.call("DescribeZones")["TotalCount"] >= 1


@pytest.mark.parametrize("form", ["base", "full"])
def test_metadata_role_end_to_end(monkeypatch, emu, form):
    url = emu.endpoint if form == "base" else emu.metadata_endpoint
    monkeypatch.setenv(cr.ENV_METADATA, url)
    p = resolve()
    assert isinstance(p, cr.MetadataRoleProvider) and p.refreshable
    assert p.role == "tccvm-emulator-role"
    creds = p.get()
    assert creds.token and creds.secret_id.startswith("AKID")
    assert p.expiry is not None and p.expiry > time.time() + 3600
    assert signed_call_works(emu, creds)
    # Cached: no refetch while far from expiry.
    assert p.get() is creds and p.fetches == 1
    # Nothing secret in the repr of the provider or the credentials, nor in a pickle.
    for text in (repr(p), repr(creds), str(creds)):
        assert creds.secret_key not in text and creds.token not in text
    blob = pickle.dumps(p)
    assert creds.secret_key.encode() not in blob and creds.token.encode() not in blob
    assert pickle.loads(blob).get().secret_id  # fetches its own


def test_metadata_refreshed_before_expiry(monkeypatch, emu):
    # The emulator renews its role credentials once less than a third of their life is left.
    emu.set_metadata(role="app-role", ttl=6)
    monkeypatch.setenv(cr.ENV_METADATA, emu.endpoint)
    p = resolve()
    first = p.get()
    first_expiry = p.expiry
    assert p.role == "app-role"
    assert p._refresh_at < first_expiry  # refresh is planned before expiry
    second = first
    while second.secret_id == first.secret_id and time.time() < first_expiry + 2:
        time.sleep(0.05)
        second = p.get()
    assert second.secret_id != first.secret_id
    assert (
        time.time() < first_expiry
    )  # new credentials in hand before the old ones expired
    assert signed_call_works(emu, second)


def test_metadata_refresh_is_thread_safe(monkeypatch, emu):
    emu.set_metadata(ttl=2)
    monkeypatch.setenv(cr.ENV_METADATA, emu.endpoint)
    p = resolve()
    while time.time() < p._refresh_at:
        time.sleep(0.05)
    got, barrier = [], threading.Barrier(16)

    def worker():
        barrier.wait()
        got.append(p.get())

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == 16 and len({c.secret_id for c in got}) == 1
    assert p.fetches == 2  # one refresh for sixteen callers


def test_role_credentials_are_refetched_the_margin_before_they_expire(monkeypatch, emu):
    monkeypatch.setenv(cr.ENV_METADATA, emu.endpoint)
    p = resolve()
    assert p._expires > time.time() + 2 * cr.REFRESH_MARGIN_SECS
    assert p._refresh_at == p._expires - cr.REFRESH_MARGIN_SECS
    # Issued with less than the margin to live: fetched again a second later, not at once.
    assert cr.refresh_time(expires=1000.0, fetched=900.0) == 901.0


@pytest.mark.parametrize("left", [30, -30])
def test_the_core_asks_for_credentials_exactly_when_the_provider_fetches(emu, left):
    """One refresh rule: the core calls the provider back (``refresh``) at the moment the
    provider's rule fetches new credentials: not later, nor sooner (a call per request for
    nothing). Fails if crates/core/src/credentials.rs's margin and REFRESH_MARGIN_SECS differ."""
    from tccvm import _core

    now = time.time()
    expires = now + cr.REFRESH_MARGIN_SECS + left
    due = now >= cr.refresh_time(expires, fetched=now - 60)
    asked = []

    def refresh():
        asked.append(True)
        return (emu.secret_id, emu.secret_key, None, time.time() + 3600)

    core = _core.Core(
        emu.secret_id,
        emu.secret_key,
        None,
        region="ap-guangzhou",
        endpoint=emu.endpoint,
        expires_at=expires,
        refresh=refresh,
    )
    assert core.invoke("DescribeZones", None, False, 0)["TotalCount"] >= 1
    assert bool(asked) == due == (left < 0)


def test_metadata_failed_refresh_keeps_valid_credentials(monkeypatch, emu, caplog):
    monkeypatch.setenv(cr.ENV_METADATA, emu.endpoint)
    p = resolve()
    creds = p.get()
    p._refresh_at = 0  # due for refresh ...
    p.url = (
        f"http://127.0.0.1:{closed_port()}/latest/meta-data/cam/security-credentials/"
    )
    with caplog.at_level(logging.WARNING, logger="tccvm"):
        assert p.get() == creds  # ... but the service is gone: keep the valid ones
    assert "keeping the current ones" in caplog.text
    p._refresh_at = p._expires = 0  # now expired too
    with pytest.raises(CredentialError, match="could not be refreshed"):
        p.get()


@contextlib.contextmanager
def metadata_answering(status: int, headers: dict[str, str] | None = None):
    """A metadata service on 127.0.0.1 that answers every GET with ``status`` and no body;
    yields its base URL."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def test_metadata_no_role(monkeypatch):
    """A metadata service with no role bound (an empty role list) is reported as such."""
    with metadata_answering(200) as url:
        monkeypatch.setenv(cr.ENV_METADATA, url)
        with pytest.raises(CredentialError, match="no CVM role is bound"):
            resolve()


def test_metadata_ignores_proxy_settings(monkeypatch, emu):
    """The metadata service is on the machine's own network: never reached through a proxy."""
    dead = f"http://127.0.0.1:{closed_port()}"
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, dead)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv(cr.ENV_METADATA, emu.endpoint)
    assert resolve().get().token


def test_metadata_redirect_is_not_followed(monkeypatch, emu):
    """A redirect is an answer that is not the credentials, not a place to go."""
    with metadata_answering(302, {"Location": emu.metadata_endpoint}) as url:
        monkeypatch.setenv(cr.ENV_METADATA, url)
        with pytest.raises(CredentialError, match="HTTP 302 for /latest/meta-data/"):
            resolve()


def test_metadata_by_host_name(monkeypatch, emu):
    """A host name (resolved by the core's client, every address tried) works like an address."""
    monkeypatch.setenv(cr.ENV_METADATA, f"http://localhost:{emu.port}")
    p = resolve()
    assert isinstance(p, cr.MetadataRoleProvider) and p.get().token


def test_unresolvable_metadata_host_fails_within_the_connect_timeout(monkeypatch):
    """A name that does not resolve is a connect failure, reported within the connect timeout,
    which bounds the name lookup too (getaddrinfo has no time limit of its own: without a
    reachable DNS server it can block for many seconds). A slow resolver cannot be produced on
    loopback, so only the failure and its promptness are checked here."""
    monkeypatch.setenv(cr.ENV_METADATA, "http://metadata.invalid")
    t = time.monotonic()
    with pytest.raises(CredentialError, match=r"cannot connect \("):
        resolve()
    assert time.monotonic() - t < cr.METADATA_CONNECT_TIMEOUT + 1
