"""Secrets never show: run every error path (auth, validation, transport, retries with DEBUG
logging, configuration, credentials, panics) and scan everything produced — log records at every
level (message, args and attributes), str/repr of clients and errors, traceback text, pickles,
and what reached stdout/stderr — for the secret keys, the token and every signature that went on
the wire. And TLS: verification on by default; plain http only when the URL says http://."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import logging
import pickle
import re
import ssl
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import tccvm
from conftest import TEST_KEY, closed_port
from tccvm import _core
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(90)

REGION = "ap-guangzhou"
TOKEN = "TOKEN-very-secret-0123456789abcdef"
PROXY_PASSWORD = "proxy-pass-very-secret-42"
FAST: dict = {"backoff_base": 0.001, "throttle_base": 0.001, "backoff_cap": 0.005}


class Fast(tccvm.Client):
    _core_options: ClassVar[dict] = FAST


class AFast(tccvm.AsyncClient):
    _core_options: ClassVar[dict] = FAST


class Sink(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        fmt = logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(pathname)s %(funcName)s"
        )
        out = []
        for r in self.records:
            out.append(fmt.format(r))
            out.append(repr(r.args))
            out.append(repr(vars(r)))
        return out


def exc_texts(e: BaseException) -> list[str]:
    out = [
        str(e),
        repr(e),
        "".join(traceback.format_exception(type(e), e, e.__traceback__)),
    ]
    for a in (
        "code",
        "message",
        "request_id",
        "action",
        "status",
        "kind",
        "path",
        "args",
    ):
        if hasattr(e, a):
            out.append(repr(getattr(e, a)))
    try:
        out.append(repr(pickle.dumps(e)))
    except Exception as pe:  # noqa: BLE001
        out.append(repr(pe))
    return out


def test_every_error_path_is_free_of_secrets(recording_server, capfd):
    texts: list[str] = []
    sink = Sink()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(sink)
    root.setLevel(logging.DEBUG)
    logging.getLogger("tccvm").setLevel(logging.DEBUG)
    # The wire log too: every request and answer, redacted.
    logging.getLogger("tccvm.wire").setLevel(logging.DEBUG)
    # And what event hooks receive.
    hooked: list[dict] = []
    hooks = {"request": [hooked.append], "response": [hooked.append]}

    def attempt(fn: Any) -> None:
        try:
            out = fn()
            texts.append(repr(out))
        except Exception as e:  # noqa: BLE001 - every exception is scanned
            texts.extend(exc_texts(e))

    try:
        with Emulator(seed=1, transition_seconds=0.0) as emu:
            temp = emu.issue_credentials(ttl=3600)
            secrets = [
                emu.secret_key,
                temp["secret_key"],
                temp["token"],
                TOKEN,
                TEST_KEY,
            ]
            base = {
                "region": REGION,
                "endpoint": emu.endpoint,
                "max_attempts": 3,
                "event_hooks": hooks,
            }
            clients = []
            for sign in ("TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"):
                for http in ("POST", "GET"):
                    clients.append(
                        Fast(
                            secret_id=temp["secret_id"],
                            secret_key=temp["secret_key"],
                            token=temp["token"],
                            sign_method=sign,
                            http_method=http,
                            **base,
                        )
                    )
            long_term = Fast(secret_id=emu.secret_id, secret_key=emu.secret_key, **base)
            clients.append(long_term)
            for c in clients:
                texts += [
                    repr(c),
                    str(c),
                    repr(c._core),
                    repr(vars(c)),
                    repr(c.__getstate__()),
                ]
                texts.append(repr(pickle.dumps(c)))
                texts.append(repr(dir(c)))
                # success, with DEBUG logging
                attempt(lambda c=c: c.describe_zones())
                # retries with DEBUG logging: every fault kind, then exhausted retries
                for kind in (
                    "internal_error",
                    "request_limit_exceeded",
                    "http_502",
                    "http_503",
                    "malformed",
                    "truncated",
                    "drop_before",
                    "drop_after",
                ):
                    emu.clear_faults()
                    emu.inject(kind, count=1)
                    attempt(lambda c=c: c.describe_instances(Limit=1))
                    emu.clear_faults()
                    emu.inject(kind, count=5)
                    attempt(lambda c=c: c.describe_instances(Limit=1))
                    attempt(
                        lambda c=c: c.call("StopInstances", {"InstanceIds": ["ins-1"]})
                    )
                emu.clear_faults()
                # API errors: NotFound, UnknownParameter (via call), InvalidParameter
                attempt(
                    lambda c=c: c.call(
                        "StartInstances", {"InstanceIds": ["ins-00000000"]}
                    )
                )
                attempt(lambda c=c: c.call("DescribeInstances", {"Nope": 1}))
                attempt(lambda c=c: c.call("DescribeInstances", {"Limit": 10**6}))
                # validation errors (before any I/O)
                attempt(lambda c=c: c.describe_instances(Limitt=1))
                attempt(lambda c=c: c.describe_instances(Limit="x"))
                attempt(lambda c=c: c.run_instances())
                attempt(lambda c=c: c.call("not an action"))
                attempt(lambda c=c: c.call("DescribeZones", [1, 2]))
            # auth errors
            for sk, tok in ((emu.secret_key + "x", None), (temp["secret_key"], TOKEN)):
                bad = Fast(
                    secret_id=temp["secret_id"], secret_key=sk, token=tok, **base
                )
                attempt(lambda bad=bad: bad.describe_zones())
            for sign in ("TC3-HMAC-SHA256", "HmacSHA1"):
                bad = Fast(
                    secret_id=emu.secret_id,
                    secret_key=TEST_KEY,
                    sign_method=sign,
                    token=TOKEN,
                    **base,
                )
                attempt(lambda bad=bad: bad.describe_zones())
            # clock skew (corrected), then an expired signature that cannot be corrected
            emu.set_clock_offset(-1200)
            attempt(lambda: long_term.describe_zones())
            emu.set_clock_offset(0)
            # async client: the same paths
            ahooked: list[dict] = []

            async def ahook(event: dict) -> None:
                ahooked.append(event)

            ac = AFast(
                secret_id=temp["secret_id"],
                secret_key=temp["secret_key"],
                token=temp["token"],
                **{**base, "event_hooks": {"request": [ahook], "response": [ahook]}},
            )
            texts += [repr(ac), repr(pickle.dumps(ac))]
            emu.inject("http_503", count=5)

            async def async_paths() -> None:
                for coro in (
                    ac.describe_zones(),
                    ac.describe_zones(),
                    ac.call("StartInstances", {"InstanceIds": ["ins-0"]}),
                ):
                    try:
                        texts.append(repr(await coro))
                    except Exception as e:  # noqa: BLE001
                        texts.extend(exc_texts(e))

            asyncio.run(async_paths())
            emu.clear_faults()
            assert ahooked, "the async hooks were called"
            hooked.extend(ahooked)
            secret_ids = [emu.secret_id, temp["secret_id"]]

        # Transport errors: refused, timeout, TLS to a plain server, a scripted server that
        # records what went on the wire (so the signatures are known and can be searched for).
        srv = recording_server
        dead = Fast(
            secret_id="AKIDx",
            secret_key=TEST_KEY,
            token=TOKEN,
            region=REGION,
            endpoint=f"http://127.0.0.1:{closed_port()}",
            http_method="GET",
            sign_method="HmacSHA1",
        )
        attempt(lambda: dead.describe_zones())
        # A proxy with a password (nothing listens there: the attempt fails to connect).
        proxied = Fast(
            secret_id="AKIDx",
            secret_key=TEST_KEY,
            token=TOKEN,
            region=REGION,
            endpoint=srv.endpoint,
            proxy=f"http://user:{PROXY_PASSWORD}@127.0.0.1:{closed_port()}",
            max_attempts=1,
            event_hooks=hooks,
        )
        texts += [repr(proxied), repr(vars(proxied)), repr(pickle.dumps(proxied))]
        attempt(lambda: proxied.describe_zones())
        tls = Fast(
            secret_id="AKIDx",
            secret_key=TEST_KEY,
            token=TOKEN,
            region=REGION,
            endpoint=f"https://{srv.host}",
            max_attempts=1,
        )
        attempt(lambda: tls.describe_zones())
        for sign in ("TC3-HMAC-SHA256", "HmacSHA256", "HmacSHA1"):
            for http in ("POST", "GET"):
                c = Fast(
                    secret_id="AKIDx",
                    secret_key=TEST_KEY,
                    token=TOKEN,
                    region=REGION,
                    endpoint=srv.endpoint,
                    sign_method=sign,
                    http_method=http,
                    timeout=0.5,
                    max_attempts=2,
                    event_hooks=hooks,
                )
                srv.push(status=502, body="<html>bad gateway</html>")
                srv.push(status=200, body='{"Response": {"RequestId": "r", "Err')
                attempt(lambda c=c: c.describe_zones())
                srv.push_error("AuthFailure.SignatureFailure", "sig mismatch")
                attempt(lambda c=c: c.describe_zones())
                srv.push(status=200, body="{}", delay=1.0)
                srv.push(status=200, body="{}", delay=1.0)
                attempt(lambda c=c: c.describe_zones())
                srv.push(drop=True)
                srv.push(drop=True)
                attempt(lambda c=c: c.call("DescribeRegions"))
        # configuration and credential errors
        for bad_kw in (
            {"sign_method": "MD5"},
            {"http_method": "PUT"},
            {"endpoint": "ftp://h"},
            {"verify": "/no/such/ca.pem"},
            {"proxy": "::not a url::"},
            {"timeout": -1},
        ):
            attempt(
                lambda bad_kw=bad_kw: tccvm.Client(
                    secret_id="AKIDx",
                    secret_key=TEST_KEY,
                    token=TOKEN,
                    region=REGION,
                    **bad_kw,
                )
            )
        attempt(
            lambda: tccvm.Client(
                secret_id="AKIDx", secret_key=TEST_KEY, region="bad region!"
            )
        )
        # a panic at the boundary
        if hasattr(_core, "_check_panic_boundary"):
            attempt(lambda: _core._check_panic_boundary(False))
            attempt(lambda: _core._check_panic_boundary(True))
    finally:
        root.removeHandler(sink)
        root.setLevel(old_level)
        logging.getLogger("tccvm").setLevel(logging.NOTSET)
        logging.getLogger("tccvm.wire").setLevel(logging.NOTSET)

    # Everything that went on the wire to the recorder: its signatures.
    signatures = set()
    for r in srv.requests:
        pairs = dict(r.query_pairs) if r.query else {}
        if r.body and r.headers.get("content-type", "").startswith("application/x-www"):
            pairs.update(dict(r.form_pairs))
        if "Signature" in pairs:
            signatures.add(pairs["Signature"])
        auth = r.headers.get("authorization", "")
        if auth:
            signatures.add(auth)
            m = re.search(r"Signature=([0-9a-f]{64})", auth)
            assert m, auth
            signatures.add(m.group(1))
    assert len(signatures) >= 12

    out, err = capfd.readouterr()
    texts += [out, err]
    texts += sink.texts()
    texts += [repr(e) for e in hooked]
    blob = "\n".join(texts)
    assert len(sink.records) >= 0
    # The wire log and the hooks were on: the scan covers them (and they saw every sort of
    # request: TC3 with its Authorization header, v1 with its Signature in the body or URL).
    wire = [r for r in sink.records if r.name == "tccvm.wire"]
    wire_text = "\n".join(r.getMessage() for r in wire)
    assert len(wire) > 100, len(wire)
    assert "authorization: TC3-HMAC-SHA256 Credential=AKID****/" in wire_text
    assert "Signature=<redacted>" in wire_text
    assert "x-tc-token: <redacted>" in wire_text
    assert "Token=<redacted>" in wire_text
    assert "POST http://" in wire_text and "GET http://" in wire_text
    assert " <- 200" in wire_text and " <- 502" in wire_text
    for sid in secret_ids:
        assert sid not in wire_text, "a SecretId's key material in the wire log"
    assert len(hooked) > 100 and {"request_id", "outcome"} <= set(hooked[1])
    secrets.append(PROXY_PASSWORD)
    for s in secrets + sorted(signatures):
        assert s not in blob, f"secret material {s[:6]}... leaked"
        # URL-encoded forms of the signature too (a v1 signature in a logged URL)
        from urllib.parse import quote

        assert quote(s, safe="") not in blob
    # An Authorization header is only ever shown redacted (by the wire log).
    for m in re.finditer(r"TC3-HMAC-SHA256 Credential=[^\n]*", blob):
        assert "Signature=<redacted>" in m.group(0), m.group(0)
    # Sanity: the scan saw real material (errors of every class, a traceback, pickles).
    for needle in (
        "TransportError",
        "InvalidInstanceIdNotFound",  # a TencentCloudError, of its code's class
        "ParamValidationError",
        "Traceback",
        "AuthFailure",
        "SignatureFailure",
    ):
        assert needle in blob, needle


# -- TLS -----------------------------------------------------------------------------------------


def _certs(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tccvm test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path = tmp_path / "server.pem"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path = tmp_path / "server.key"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


class _Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list] = []

    def log_message(self, *a: Any) -> None:
        pass

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        _Api.seen.append(self.path)
        body = json.dumps({"Response": {"RequestId": "tls-ok", "ZoneSet": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def https_server(tmp_path):
    ca_path, cert_path, key_path = _certs(tmp_path)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv.server_address[1], ca_path
    finally:
        srv.shutdown()
        srv.server_close()


def _client(endpoint: str, **kw: Any) -> tccvm.Client:
    return Fast(
        secret_id="AKIDx",
        secret_key=TEST_KEY,
        region=REGION,
        endpoint=endpoint,
        timeout=5.0,
        connect_timeout=2.0,
        max_attempts=1,
        **kw,
    )


def test_tls_verified_by_default(https_server):
    port, ca_path = https_server
    # A host without a scheme means https, verified against the platform's trust store: the
    # self-signed test CA is refused.
    for endpoint in (f"127.0.0.1:{port}", f"https://127.0.0.1:{port}"):
        c = _client(endpoint)
        assert c.endpoint.startswith("https://")
        with pytest.raises(tccvm.TransportError) as ei:
            c.describe_zones()
        assert TEST_KEY not in str(ei.value)
    # verify=True spelled out: refused as well.
    with pytest.raises(tccvm.TransportError):
        _client(f"127.0.0.1:{port}", verify=True).describe_zones()
    # The CA bundle given by path (str or PathLike): accepted.
    assert (
        _client(f"127.0.0.1:{port}", verify=str(ca_path)).describe_zones()["RequestId"]
        == "tls-ok"
    )
    assert (
        _client(f"https://127.0.0.1:{port}", verify=ca_path).describe_zones()[
            "RequestId"
        ]
        == "tls-ok"
    )
    # verify=False: accepted (the user asked for it).
    assert (
        _client(f"127.0.0.1:{port}", verify=False).describe_zones()["RequestId"]
        == "tls-ok"
    )


def test_wrong_ca_refused(https_server, tmp_path):
    port, _ = https_server
    other = tmp_path / "other"
    other.mkdir()
    other_ca, _, _ = _certs(other)
    with pytest.raises(tccvm.TransportError):
        _client(f"127.0.0.1:{port}", verify=str(other_ca)).describe_zones()


def test_plain_http_only_when_the_url_says_so(recording_server):
    srv = recording_server
    # No scheme: https, so a plain-http server sees no readable request and the call fails.
    c = _client(srv.host)
    assert c.endpoint.startswith("https://")
    with pytest.raises(tccvm.TransportError):
        c.describe_zones()
    assert not srv.requests
    # http:// written out: plain http.
    c = _client(f"http://{srv.host}")
    assert c.endpoint.startswith("http://")
    c.describe_zones()
    assert len(srv.requests) == 1
    # The default endpoint is https.
    assert tccvm.Client(
        secret_id="a", secret_key="b", region=REGION
    ).endpoint.startswith("https://cvm.tencentcloudapi.com")
