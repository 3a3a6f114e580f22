"""Every example replayed through the typed method (so it passes validation), checked against
what went on the wire; every Output example served back and returned unchanged. Also:
validation happens before any network I/O.

The examples come from the model's examples.json (tools/build_model.py, with the corrections of
tools/seed_corrections.json): the seed's (the 2017 reference) go as GET + HmacSHA256 so the
query is flat and is compared pair by pair with the reference's flat input; the current
description's go as POST + TC3 and the JSON body is compared with the example's parameters.
The server is a real HTTP server on 127.0.0.1 that records the requests.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import tccvm
from tccvm import _methods

pytestmark = [
    pytest.mark.timeout(60),
    # Some examples pass a deprecated parameter (ForceStop ...): the warning is tested elsewhere.
    pytest.mark.filterwarnings(
        "ignore:.*deprecated in the current description:DeprecationWarning"
    ),
]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
# where the model's examples live
from build_model import EXAMPLES_OUT

MODEL = _methods.MODEL
EXAMPLES = json.loads(EXAMPLES_OUT.read_text(encoding="utf-8"))
CASES = [(a, i) for a, exs in EXAMPLES.items() for i in range(len(exs))]
COMMON = {
    "Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
    "SignatureMethod", "Token", "Language", "RequestClient",
}  # fmt: skip
PRIMITIVE = {"String": str, "Timestamp": str, "Integer": int, "Float": float}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with self.server.lock:
            self.server.requests.append((self.command, self.path, body))
            answer = self.server.answer
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = _handle
    do_POST = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    lock: threading.Lock
    requests: list[tuple[str, str, bytes]]
    answer: bytes


@pytest.fixture(scope="module")
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.lock = threading.Lock()
    srv.requests = []
    srv.answer = b'{"Response": {"RequestId": "default"}}'
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.endpoint = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def fresh(server):
    with server.lock:
        server.requests.clear()
    return server


def client(
    server, cls: Any = None, region: str = "ap-guangzhou", ex: Any = None
) -> Any:
    """GET + HmacSHA256 for a reference example (flat query), POST + TC3 for a current one."""
    post = ex is not None and ex["source"] == "current"
    return (cls or tccvm.Client)(
        secret_id="AKIDexample",
        secret_key="example-secret-key",
        region=region,
        endpoint=server.endpoint,
        sign_method="TC3-HMAC-SHA256" if post else "HmacSHA256",
        http_method="POST" if post else "GET",
        language=(ex or {}).get("language"),
        timeout=10.0,
        max_attempts=1,
    )


def unflatten(action: str, pairs: list[list[str]]) -> dict[str, Any]:
    """`Filters.0.Values.1=x` -> {"Filters": [{"Values": [.., "x"]}]}, values typed by the
    model (booleans written TRUE/FALSE in the seed)."""
    out: dict[str, Any] = {}
    for key, raw in pairs:
        parts = key.split(".")
        members = {m["name"]: m for m in MODEL["actions"][action]["inputs"]}
        container: Any = out
        i = 0
        while True:
            m = members[parts[i]]
            i += 1
            slot_key: Any = m["name"]
            holder = container
            if m["array"]:
                lst = holder.setdefault(m["name"], [])
                idx = int(parts[i])
                i += 1
                while len(lst) <= idx:
                    lst.append(None)
                holder, slot_key = lst, idx
            if i == len(parts):
                t = m["type"]
                holder[slot_key] = (
                    raw.upper() == "TRUE" if t == "Boolean" else PRIMITIVE[t](raw)
                )
                break
            if (
                holder[slot_key] is None
                if isinstance(holder, list)
                else slot_key not in holder
            ):
                holder[slot_key] = {}
            container = holder[slot_key]
            members = {x["name"]: x for x in MODEL["shapes"][m["type"]]["members"]}
    return out


def norm(v: str) -> str:
    return v.lower() if v.upper() in ("TRUE", "FALSE") else v


def wire_pairs(server) -> tuple[dict[str, str], dict[str, str]]:
    assert len(server.requests) == 1, server.requests
    method, path, _ = server.requests[0]
    assert method == "GET"
    pairs = urllib.parse.parse_qsl(
        urllib.parse.urlsplit(path).query, keep_blank_values=True
    )
    common = {k: v for k, v in pairs if k in COMMON}
    params = {k: norm(v) for k, v in pairs if k not in COMMON}
    assert len(params) + len(common) == len(pairs), "a key was sent twice"
    return common, params


def expected_params(
    action: str, ex: dict[str, Any], params: dict[str, str]
) -> dict[str, str]:
    """The example's pairs; for an action that takes a ClientToken the client fills one in
    when the example has none (so that a retry is safe): accept it, non-empty."""
    want = {k: norm(v) for k, v in ex["input"]}
    if MODEL["actions"][action]["client_token"] and "ClientToken" not in want:
        assert params.get("ClientToken"), "no ClientToken filled in"
        want["ClientToken"] = params["ClientToken"]
    return want


def json_body(server) -> dict[str, Any]:
    assert len(server.requests) == 1, server.requests
    method, _, body = server.requests[0]
    assert method == "POST"
    return json.loads(body)


def expected_body(action: str, ex: dict[str, Any], body: dict[str, Any]) -> dict:
    """The example's parameters, plus the ClientToken the client fills in when none is given."""
    want = dict(ex["params"])
    if MODEL["actions"][action]["client_token"] and "ClientToken" not in want:
        assert body.get("ClientToken"), "no ClientToken filled in"
        want["ClientToken"] = body["ClientToken"]
    return want


def check_wire(server, action: str, ex: dict[str, Any]) -> None:
    if ex["source"] == "current":
        body = json_body(server)
        assert body == expected_body(action, ex, body)
        return
    _, params = wire_pairs(server)
    assert params == expected_params(action, ex, params)


def expected_response(ex: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    out = ex["output"] or {"Response": {"RequestId": "no-output-example"}}
    return json.dumps(out).encode(), out["Response"]


def test_cases_cover_every_action_and_example():
    assert len(CASES) == 190  # 67 of the reference, 123 of the current description
    assert {a for a, _ in CASES} == set(MODEL["actions"])
    for action, i in CASES:
        ex = EXAMPLES[action][i]
        if (
            ex["source"] == "reference"
        ):  # the model's typing of the flat input is this one's
            assert ex["params"] == unflatten(action, ex["input"]), (action, i)


@pytest.mark.parametrize(
    ("action", "index"), CASES, ids=[f"{a}-{i + 1}" for a, i in CASES]
)
def test_replay_example_sync(fresh, action: str, index: int):
    ex = EXAMPLES[action][index]
    fresh.answer, want = expected_response(ex)
    kwargs = ex["params"]
    region = ex.get("region", "ap-guangzhou")
    with client(fresh, region=region, ex=ex) as c:
        got = getattr(c, MODEL["actions"][action]["snake_name"])(**kwargs)
    assert got == want
    if ex["source"] == "reference":
        common, _ = wire_pairs(fresh)
        assert common["Action"] == action
        assert common["Version"] == "2017-03-12"
        assert common["Region"] == region
        assert common["SignatureMethod"] == "HmacSHA256"
    check_wire(fresh, action, ex)


@pytest.mark.parametrize(
    ("action", "index"), CASES, ids=[f"{a}-{i + 1}" for a, i in CASES]
)
def test_replay_example_async(fresh, action: str, index: int):
    ex = EXAMPLES[action][index]
    fresh.answer, want = expected_response(ex)
    kwargs = ex["params"]

    async def go() -> Any:
        async with client(fresh, tccvm.AsyncClient, ex=ex) as c:
            return await getattr(c, MODEL["actions"][action]["snake_name"])(**kwargs)

    assert asyncio.run(go()) == want
    check_wire(fresh, action, ex)


def test_unflatten_builds_nested_values():
    kw = unflatten(
        "DescribeInstances",
        [["Filters.0.Name", "zone"], ["Filters.0.Values.0", "a"], ["Filters.0.Values.1", "b"],
         ["Filters.1.Name", "x"], ["Filters.1.Values.0", "c"], ["Limit", "1"]],
    )  # fmt: skip
    assert kw == {
        "Filters": [
            {"Name": "zone", "Values": ["a", "b"]},
            {"Name": "x", "Values": ["c"]},
        ],
        "Limit": 1,
    }
    kw = unflatten("RunInstances", [["InternetAccessible.PublicIpAssigned", "TRUE"]])
    assert kw == {"InternetAccessible": {"PublicIpAssigned": True}}


@pytest.mark.parametrize(
    ("call", "path", "words"),
    [
        (lambda c: c.describe_instances(InstanceID=["i"]), "InstanceID", ["did you mean", "InstanceIds"]),
        (
            lambda c: c.describe_instances(Filters=[{"Name": "a", "Values": ["b"]}, {"Name": "x", "Valeus": []}]),
            "Filters[1].Valeus",
            ["did you mean", "Values"],
        ),
        (lambda c: c.describe_instances(Filters=[{"Name": "a", "Values": ["b", 3]}]), "Filters[0].Values[1]", []),
        (lambda c: c.describe_instances(Limit=True), "Limit", []),
        (lambda c: c.inquiry_price_run_instances(ImageId="img-1"), "Placement", ["missing"]),
        (lambda c: c.describe_instances(Limt=5), "Limt", ["did you mean", "Limit", "not in this version's model", "client.call("]),
        (lambda c: c.run_instances(Placement={"ProjectId": 0}, ImageId="img-1"), "Placement.Zone", ["missing"]),
    ],
)  # fmt: skip
def test_validation_errors_before_any_network_io(
    fresh, call, path: str, words: list[str]
):
    with client(fresh) as c, pytest.raises(tccvm.ParamValidationError) as info:
        call(c)
    text = str(info.value)
    assert path in text
    for w in words:
        assert w in text
    assert fresh.requests == []  # nothing was sent


def test_async_validation_errors_before_any_network_io(fresh):

    async def go() -> None:
        async with client(fresh, tccvm.AsyncClient) as c:
            await c.describe_instances(Filters=[{"Name": "a", "Valeus": ["b"]}])

    with pytest.raises(tccvm.ParamValidationError, match=r"Filters\[0\]\.Valeus"):
        asyncio.run(go())
    assert fresh.requests == []
