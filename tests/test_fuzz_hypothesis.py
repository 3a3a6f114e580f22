"""Hostile input (hypothesis): arbitrary nested Python values into the typed methods and into
``call``, arbitrary bytes and JSON into the core's decoder, arbitrary values into the flattener
and the signers. Only documented tccvm exceptions (or success) come out; the interpreter never
crashes; a Rust panic at the boundary becomes a Python exception."""

from __future__ import annotations

import json
import math

import pytest
import tccvm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tccvm import _core
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(120)

MODEL = json.loads(_core.service_model_json())
ACTIONS = sorted(MODEL["actions"])
PARAM_NAMES = sorted(
    {i["name"] for a in MODEL["actions"].values() for i in a.get("inputs", [])}
)
DOCUMENTED = (
    tccvm.TccvmError,
)  # TencentCloudError, ParamValidationError, TransportError...
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


class Weird:
    def __repr__(self) -> str:
        return "Weird()"


class BadStr(str):
    def __str__(self) -> str:
        raise RuntimeError("hostile __str__")


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.binary(max_size=8),
    st.just(Weird()),
    st.just(BadStr("x")),
    st.just(float("nan")),
    st.just(2**64),
    st.just(-(2**63) - 1),
    st.complex_numbers(allow_nan=False, max_magnitude=10),
)
keys = st.one_of(st.sampled_from(PARAM_NAMES), st.text(max_size=10))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.frozensets(st.integers(), max_size=3),
        st.dictionaries(keys, inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=2),
    ),
    max_leaves=12,
)
params = st.dictionaries(keys, values, max_size=5)


@pytest.fixture(scope="module")
def emu():
    with Emulator(seed=9, transition_seconds=0.0) as e:
        yield e


@pytest.fixture(scope="module")
def client(emu):
    c = tccvm.Client(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region="ap-guangzhou",
        endpoint=emu.endpoint,
        max_attempts=1,
        timeout=10.0,
    )
    yield c
    c.close()


def snake(action: str) -> str:
    return MODEL["actions"][action]["snake_name"]


@SETTINGS
@given(action=st.sampled_from(ACTIONS), kwargs=params)
def test_typed_methods_only_raise_documented_errors(client, action, kwargs):
    method = getattr(client, snake(action))
    kwargs = dict(kwargs)
    kwargs.setdefault("self", None)  # a keyword like any other (refused by validation)
    kwargs = {
        k: v for k, v in kwargs.items() if isinstance(k, str) and k.isidentifier()
    }
    try:
        out = method(**kwargs)
    except DOCUMENTED:
        return
    assert isinstance(out, dict) and "RequestId" in out


@SETTINGS
@given(action=st.one_of(st.sampled_from(ACTIONS), st.text(max_size=20)), p=params)
def test_call_only_raises_documented_errors(client, action, p):
    try:
        out = client.call(action, p)
    except DOCUMENTED:
        return
    assert isinstance(out, dict) and "RequestId" in out


@SETTINGS
@given(p=st.one_of(values, params))
def test_call_with_any_params_object(client, p):
    try:
        client.call("DescribeZones", p)
    except DOCUMENTED:
        pass


@pytest.fixture(scope="module")
def aclient(emu):
    return tccvm.AsyncClient(
        secret_id=emu.secret_id,
        secret_key=emu.secret_key,
        region="ap-guangzhou",
        endpoint=emu.endpoint,
        max_attempts=1,
    )


@settings(SETTINGS, max_examples=60)
@given(action=st.sampled_from(ACTIONS), p=params)
def test_async_call_only_raises_documented_errors(aclient, action, p):
    import asyncio

    ac = aclient

    async def go():
        try:
            await ac.call(action, p)
        except DOCUMENTED:
            pass
        try:
            await getattr(ac, snake(action))(
                **{
                    k: v
                    for k, v in p.items()
                    if isinstance(k, str) and k.isidentifier()
                }
            )
        except DOCUMENTED:
            pass

    asyncio.run(go())


@SETTINGS
@given(p=params)
def test_flatten_only_raises_validation_errors(p):
    try:
        pairs = _core.flatten_params(p)
    except tccvm.ParamValidationError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in pairs)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=8), inner, max_size=5),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(v=json_values)
def test_decoder_matches_json_loads(v):
    data = json.dumps(v).encode()
    assert _same(_core.loads(data), json.loads(data))
    # And as an answer: a Response object is built exactly like json.loads would.
    body = json.dumps({"Response": {"RequestId": "r", "V": v}}).encode()
    assert _same(_core.loads(body), json.loads(body))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=100).map(str.encode)))
def test_decoder_on_arbitrary_bytes(data):
    try:
        _core.loads(data)
    except ValueError:
        pass


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    key=st.text(max_size=30),
    host=st.text(max_size=30),
    path=st.text(max_size=30),
    pairs=st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=6),
    ts=st.integers(min_value=-(2**62), max_value=2**62),
    payload=st.binary(max_size=64),
)
def test_signers_on_arbitrary_input(key, host, path, pairs, ts, payload):
    for m in ("HmacSHA1", "HmacSHA256"):
        for verb in ("GET", "POST", "x"):
            _core.sign_v1(m, key, verb, host, path, pairs)
    _core.sign_tc3(
        "AKID",
        key,
        "POST",
        path,
        "",
        [("content-type", "application/json"), ("host", host)],
        payload,
        ts,
    )


def test_answers_that_are_not_the_api(recording_server):
    """Hostile answers from the network: every one is a TransportError or TencentCloudError."""
    bodies = [
        b"",
        b"[{}]",
        b'{"Response": ["r"]}',
        b'{"Response": {"RequestId": 5}}',
        b'{"Response": {"Error": ["c"]}}',
        b'{"Response": {"Error": {"Code": 1}}}',
        b"\xff\xfe\x00",
        b'{"Response": {"RequestId": "r", "X": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"Response": {"RequestId": "r", "X": 1e999}}',
        b'{"Response": {"RequestId": "r"}} trailing',
        b"null",
        b"1" * 1000,
    ]
    c = tccvm.Client(
        secret_id="id",
        secret_key="key",
        region="ap-guangzhou",
        endpoint=recording_server.endpoint,
        max_attempts=1,
    )
    outcomes = []
    for b in bodies:
        recording_server.push(
            status=200, body=b, headers={"Content-Type": "application/json"}
        )
        try:
            outcomes.append(type(c.call("DescribeZones")).__name__)
        except (tccvm.TransportError, tccvm.TencentCloudError) as e:
            outcomes.append(type(e).__name__)
    assert outcomes[:6] == ["TransportError"] * 6, outcomes


@pytest.mark.parametrize("in_runtime", [False, True])
def test_rust_panic_becomes_a_python_exception(in_runtime):
    hook = getattr(_core, "_check_panic_boundary", None)
    if hook is None:
        pytest.skip("no panic hook in this build")
    with pytest.raises(tccvm.TccvmError) as ei:
        hook(in_runtime)
    assert "panic" in str(ei.value)
    # The interpreter and the runtime are still fine afterwards.
    assert _core.loads(b'{"a": 1}') == {"a": 1}


_chars = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),  # lone surrogates
    st.sampled_from('"\\/\b\f\n\r\t\x00\x1f\x7f'),
)
_rich_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.floats(min_value=-1e-300, max_value=1e-300),
        st.text(_chars, max_size=40),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=6),
        st.dictionaries(st.text(_chars, max_size=12), inner, max_size=6),
    ),
    max_leaves=60,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    v=_rich_values,
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2, "\t"]),
)
def test_decoder_matches_json_loads_rich(v, ensure_ascii, indent):
    try:
        text = json.dumps(v, ensure_ascii=ensure_ascii, indent=indent)
        data = text.encode()
    except UnicodeEncodeError:  # lone surrogates cannot be UTF-8 unescaped
        data = json.dumps(v, indent=indent).encode()
    assert _same(_core.loads(data), json.loads(data))
    body = b'{"Other": [1], "Response": ' + data + b', "Z": {"a": "b"}}'
    assert _same(_core.loads(body), json.loads(body))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    v=_rich_values,
    cut=st.integers(min_value=0, max_value=10_000),
    junk=st.binary(max_size=3),
)
def test_decoder_on_damaged_json_agrees_with_json_loads(v, cut, junk):
    data = json.dumps({"Response": v}).encode()
    damaged = data[: cut % (len(data) + 1)] + junk + data[cut % (len(data) + 1) + 1 :]
    if json.detect_encoding(damaged) not in ("utf-8", "utf-8-sig"):
        return
    try:
        want = json.loads(damaged)
    except ValueError:
        with pytest.raises(ValueError):
            _core.loads(damaged)
        return
    if b"\xed" in junk:  # raw encoded surrogates: json.loads takes them, tccvm does not
        return
    assert _same(_core.loads(damaged), want)


# Parameters are converted by a direct path (the common types) and by pythonize for anything
# else: where the direct path converts, it must give exactly what pythonize gives.
class IntSub(int):
    pass


class DictSub(dict):
    pass


plain_values = st.recursive(
    st.one_of(
        scalars,
        st.integers(min_value=-(2**64), max_value=2**65),
        st.just(True),
        st.just(IntSub(7)),
        st.just(-0.0),
        st.floats(width=32),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(keys, inner, max_size=4),
        st.dictionaries(keys, inner, max_size=2).map(DictSub),
    ),
    max_leaves=16,
)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(v=plain_values)
def test_direct_params_conversion_matches_pythonize(v):
    direct = _core._params_json(v, True)
    try:
        reference = _core._params_json(v, False)
    except ValueError:
        reference = None
    if direct is not None:
        assert direct == reference
        assert json.loads(direct) is not None or v is None


def test_direct_params_conversion_declines_what_it_does_not_know():
    for v in ({1: 2}, DictSub(a=1), float("nan"), 2**64, b"x", {"a": {"b": [Weird()]}}):
        assert _core._params_json(v, True) is None
    deep: object = 1
    for _ in range(100):
        deep = [deep]
    assert _core._params_json(deep, True) is None
    assert _core._params_json({"a": [1, -2, 2**63, 1.5, True, None, ("x",)]}, True) == (
        '{"a":[1,-2,9223372036854775808,1.5,true,null,["x"]]}'
    )
