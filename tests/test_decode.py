"""The response decoder (``tccvm._core.loads``, the path every answer takes) against
``json.loads``: same values, same types, same key order, whatever the strings repeat or
collide in its string cache."""

from __future__ import annotations

import json
import math
import random
import sys

import pytest
from tccvm import _core

pytestmark = pytest.mark.timeout(60)


def same(a: object, b: object) -> None:
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert isinstance(b, dict)
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, list):
        assert isinstance(b, list)
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a == b


def test_many_repeated_and_unique_strings() -> None:
    rng = random.Random(7)
    alphabet = 'abcXYZ-_./:é中😀"\\\n\t'
    pool = [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        for _ in range(300)
    ]
    docs = []
    for i in range(2000):
        key = rng.choice(pool)
        docs.append(
            {
                key: rng.choice(pool),
                "Id": f"ins-{i:08x}",
                "State": rng.choice(["RUNNING", "STOPPED", "PENDING"]),
                "RUNNING": key,  # a key that is also a value, and the reverse
                "Long": "x" * (31 + i % 4),  # around the shared-length limit
                "N": [i, -i, i * 0.5, 2**63 + i, None, True, False],
            }
        )
    body = json.dumps({"Response": {"Set": docs, "RequestId": "r"}}, ensure_ascii=False)
    for data in (
        body.encode(),
        json.dumps(json.loads(body)).encode(),
    ):  # raw and \u-escaped
        same(_core.loads(data), json.loads(data))


def test_keys_keep_order_and_duplicates_keep_the_last() -> None:
    data = b'{"b": 1, "a": 2, "b": 3, "c": {"z": [], "y": {}}}'
    same(_core.loads(data), json.loads(data))


@pytest.mark.parametrize(
    "bad", [b"", b"{", b'{"a": 1,}', b"[1, 2", b'"\\x"', b'{"a": 1} x', b"\xff"]
)
def test_invalid_documents_raise(bad: bytes) -> None:
    with pytest.raises(ValueError):
        _core.loads(bad)


# -- numbers -------------------------------------------------------------------------------

INTS = [
    0, 1, -1, 255, 256, -5, -6, 10**18 - 1, 10**18, -(10**18), 2**63 - 1, 2**63, -(2**63),
    -(2**63) - 1, 2**64 - 1, 2**64, -(2**64), 10**19, 10**20, -(10**30), 3**200, -(7**300),
]  # fmt: skip


@pytest.mark.parametrize("n", INTS)
def test_integers_of_any_size_are_exact_ints(n: int) -> None:
    data = str(n).encode()
    same(_core.loads(data), n)
    same(_core.loads(b'{"Response": {"N": [' + data + b"]}}"), {"Response": {"N": [n]}})


@pytest.mark.parametrize(
    "text",
    [
        "0.0", "-0.0", "-0", "1.5", "0.1", "1e5", "1E5", "1e+5", "1e-5", "-1.25e-3", "1e999",
        "-1e999", "1e-400", "5e-324", "2.2250738585072011e-308", "1.7976931348623157e308",
        "1.7976931348623159e308", "0.30000000000000004", "9007199254740993", "9007199254740993.0",
        "123456789012345678901234567890.5", "0." + "0" * 400 + "1", "1" + "0" * 30 + "e-30",
        "2.4703282292062327e-324", "2.4703282292062328e-324", "0e0", "-0e-0", "1.0E+2",
    ],
)  # fmt: skip
def test_floats_round_like_json_loads(text: str) -> None:
    got, want = _core.loads(text.encode()), json.loads(text)
    same(got, want)
    if isinstance(want, float):
        assert math.copysign(1.0, got) == math.copysign(1.0, want)


def test_integer_digit_limit_is_cpythons() -> None:
    data = (
        b"1" * 5000
    )  # beyond sys.get_int_max_str_digits() (4300): json.loads refuses too
    with pytest.raises(ValueError):
        json.loads(data)
    with pytest.raises(ValueError):
        _core.loads(data)


# -- strings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        r'"\"\\\/\b\f\n\r\t"', r'"\u0000\u001f\u007f\u0080\u07ff\u0800\uffff"',
        r'"\ud83d\ude00"', r'"\uD83D\uDE00"', r'"\ud800"', r'"\udc00"', r'"a\ud800b"',
        r'"\ud800\ud800"', r'"\udc00\ud800"', r'"\ud800\u0041"', r'"\ud800\\"', r'"\ud800x"',
        r'"x\ud800"', '"é中😀\\n€"', '"' + "a" * 100 + "\\u00e9" + "é" * 50 + '"', '""',
        r'{"\ud800": 1, "k\u00e9y": 2, "\u0041": 3, "A": 4}',
    ],
)  # fmt: skip
def test_escapes_and_lone_surrogates_like_json_loads(text: str) -> None:
    data = text.encode()
    same(_core.loads(data), json.loads(data))


def test_strings_at_every_length_and_offset() -> None:
    # The scan reads 8 bytes at a time: specials at every position of the word and the tail.
    for n in range(40):
        for special in ["", "\\n", "é", "\\u00e9", "\\\\", '\\"', "😀"]:
            for at in {0, n // 2, n}:
                s = "x" * at + special + "y" * (n - at)
                data = ('["' + s + '", "' + s + '"]').encode()
                same(_core.loads(data), json.loads(data))


def test_keys_are_shared_and_interned() -> None:
    a = _core.loads(b'{"InstanceId": 1, "k\\u00e9y": 2}')
    b = _core.loads(b'[{"InstanceId": 2, "k\\u00e9y": 3}]')[0]
    ka, kb = list(a), list(b)
    assert ka[0] is kb[0] and ka[1] is kb[1]

    assert sys.intern("InstanceId") is ka[0]


# -- structure -------------------------------------------------------------------------------


def test_whitespace_and_bom_like_json_loads() -> None:
    for data in [
        b' \t\r\n{ "a" : [ 1 , 2 ] , "b" : { } , "c" : [ ] } \n',
        b"\xef\xbb\xbf[1]",
        b'\xef\xbb\xbf"x"',
    ]:
        same(_core.loads(data), json.loads(data))


def test_nesting_is_bounded() -> None:
    ok = b"[" * 512 + b"]" * 512
    same(_core.loads(ok), json.loads(ok))
    nested = b'{"a":' * 512 + b"1" + b"}" * 512
    same(_core.loads(nested), json.loads(nested))
    for depth in (513, 100_000):
        with pytest.raises(ValueError, match="nesting too deep"):
            _core.loads(b"[" * depth + b"]" * depth)
        with pytest.raises(ValueError, match="nesting too deep"):
            _core.loads(b'{"a":' * depth + b"1" + b"}" * depth)


INVALID = [
    b"", b" ", b"{", b"[", b'{"a" 1}', b'{"a":}', b"[1,]", b"[,1]", b'{"a":1,}', b"{,}",
    b"01", b"-01", b"1.", b".5", b"1e", b"1e+", b"-", b"+1", b"1.e5", b"0x10", b"1_000",
    b"tru", b"nul", b"truex", b"True", b"None", b"[1 2]", b'{"a":1 "b":2}', b"{1:2}",
    b"{'a':1}", b'"abc', b'"\\', b'"\\u12"', b'"\\u12G4"', b'"\\x41"', b'"\\U0041"', b'"\x01"',
    b'"\x1f"', b'"a\nb"', b'"\t"', b"[1]]", b"{}}", b"1 2", b'"a" "b"', b"\xff",
    b'"\xc3"', b'"\xc3\x28"', b'"\xc0\xaf"', b'"\xe0\x80\xaf"', b'"\xf4\x90\x80\x80"',
    b'"\xf0\x9f\x98"', b"\x00", b"[\x00]", b"//", b"/* */ 1", b"[1,\n2,\n]",
]  # fmt: skip


@pytest.mark.parametrize("bad", INVALID)
def test_invalid_json_raises_like_json_loads(bad: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(bad)
    with pytest.raises(ValueError) as ei:
        _core.loads(bad)
    assert " at line " in str(ei.value)


@pytest.mark.parametrize(
    "bad", [b"NaN", b"Infinity", b"-Infinity", b"[NaN]", b'"\xed\xa0\x80"']
)
def test_documented_rejections(bad: bytes) -> None:
    # Not JSON (json.loads takes NaN/Infinity and raw encoded surrogates; tccvm does not).
    with pytest.raises(ValueError):
        _core.loads(bad)


def test_errors_give_the_position_never_the_text() -> None:
    with pytest.raises(ValueError) as ei:
        _core.loads(b'{"Password": "hunter2-secret",\n "x": hunter3}')
    msg = str(ei.value)
    assert "line 2 column 7" in msg, msg
    assert "hunter" not in msg


def test_truncations_and_mutations_agree_with_json_loads() -> None:
    rng = random.Random(11)
    doc = {
        "Response": {
            "Set": [
                {
                    "Id": f"ins-{i}",
                    "N": [i, -i * 10**20, i / 7, True, None],
                    "S": 'é\n"中',
                }
                for i in range(5)
            ],
            "RequestId": "r",
        }
    }
    for ensure_ascii in (True, False):
        data = json.dumps(doc, ensure_ascii=ensure_ascii).encode()
        for cut in range(len(data)):
            outcome(data[:cut])
        for _ in range(3000):
            m = bytearray(data)
            k = rng.randrange(len(m))
            op = rng.randrange(3)
            if op == 0:
                m[k] = rng.choice(b'{}[]",:\\0123456789.eE+-tfnul \x01\x80\xc3\xff')
            elif op == 1:
                del m[k]
            else:
                m.insert(k, rng.randrange(1, 256))
            outcome(bytes(m))


def outcome(data: bytes) -> None:
    """tccvm and json.loads agree: the same value, or both raise ValueError."""
    if json.detect_encoding(data) not in ("utf-8", "utf-8-sig"):
        return  # json.loads guesses UTF-16/32 from NUL bytes; tccvm takes UTF-8 only
    try:
        want = json.loads(data)
    except ValueError:
        with pytest.raises(ValueError):
            _core.loads(data)
        return
    same(_core.loads(data), want)


def test_values_are_shared_within_a_decode_and_not_kept_after() -> None:
    out = _core.loads(
        b'[{"Zone": "ap-guangzhou-3"}, {"Zone": "ap-guangzhou-3"}, "v-9f2c"]'
    )
    assert out[0]["Zone"] is out[1]["Zone"]
    v = out[2]
    del out
    # Only `v` and getrefcount's argument: the decoder keeps no reference to answer data.
    assert sys.getrefcount(v) == 2
    again = _core.loads(b'["v-9f2c"]')[0]
    assert again == v and again is not v


def test_objects_of_a_known_shape() -> None:
    """Objects with 6 or more members are built from a template of their key sequence: the
    result must be what json.loads builds (values, key order, the last of a repeated key),
    however shapes repeat, reorder, collide or differ by one key, and a decoded dict must be
    independent of the template and of every other answer."""
    rng = random.Random(11)
    names = [f"Key{i}" for i in range(12)]
    objs = []
    for i in range(600):
        kind = i % 6
        keys = names[:8]
        if kind == 1:
            keys = list(reversed(keys))  # same keys, other order
        elif kind == 2:
            keys = names[:7]  # one key fewer
        elif kind == 3:
            keys = [*names[:6], "Key0"]  # a key twice: the last value wins
        elif kind == 4:
            keys = rng.sample(names, rng.randrange(6, 12))
        parts = [
            f"{json.dumps(k)}: {json.dumps(rng.choice([i, str(i), None, [i]]))}"
            for k in keys
        ]
        objs.append("{" + ", ".join(parts) + "}")
    body = (
        '{"Response": {"Set": [' + ", ".join(objs) + '], "RequestId": "r"}}'
    ).encode()
    first = _core.loads(body)
    same(first, json.loads(body))
    # Mutating what one decode returned changes nothing for the next.
    for d in first["Response"]["Set"]:
        d["Key1"] = "changed"
        d["Extra"] = 1
        d.pop("Key2", None)
    same(_core.loads(body), json.loads(body))
    # Keys the cache does not keep (too long) and a shape seen with other key objects.
    long_keys = ["K" * 60 + str(i) for i in range(8)]
    doc = [{k: j for k in long_keys} for j in range(3)]
    data = json.dumps(doc).encode()
    same(_core.loads(data), json.loads(data))


def test_containers_of_plain_values_are_left_out_of_the_cyclic_gc() -> None:
    import gc

    doc = {
        "Ids": ["ins-1", "ins-2"],
        "Empty": [],
        "Disk": {"Type": "CLOUD_SSD", "Size": 50},
        "Disks": [{"Type": "CLOUD_SSD", "Size": 50}],
        "Deep": {"Tags": [{"Key": "k", "Value": None}], "On": True, "Rate": 1.5},
        "Mixed": [1, "a", None, [2, [3]]],
    }
    out = _core.loads(json.dumps(doc).encode())
    assert out == doc
    # Nothing here can be part of a cycle: no container is tracked, the top one included.
    for o in (out, out["Ids"], out["Empty"], out["Disks"], out["Deep"], out["Mixed"]):
        assert not gc.is_tracked(o), o
    # json.loads tracks every list and every dict holding one.
    ref = json.loads(json.dumps(doc))
    assert gc.is_tracked(ref) and gc.is_tracked(ref["Ids"])
    # A dict given a container is tracked again (by CPython), so a cycle through it is seen.
    out["Disk"]["Self"] = out
    assert gc.is_tracked(out["Disk"])


def test_a_calls_answer_is_left_out_of_the_cyclic_gc_too() -> None:
    import asyncio
    import gc

    import tccvm
    from tccvm.emulator import Emulator

    with Emulator() as emu:
        kw = {
            "secret_id": emu.secret_id,
            "secret_key": emu.secret_key,
            "region": "ap-guangzhou",
            "endpoint": emu.endpoint,
        }
        with tccvm.Client(**kw) as c:
            sync = c.describe_zones()

        async def main():
            async with tccvm.AsyncClient(**kw) as c:
                return await c.describe_zones()

        for out in (sync, asyncio.run(main())):
            assert out["ZoneSet"] and not gc.is_tracked(out)
            assert not any(gc.is_tracked(z) for z in out["ZoneSet"])
