"""The response decoder (``tccvm._core.loads``, the path every answer takes) against
``json.loads``: same values, same types, same key order, whatever the strings repeat or
collide in its string cache."""

from __future__ import annotations

import json
import random

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
    alphabet = "abcXYZ-_./:é中😀\"\\\n\t"
    pool = [
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
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
    for data in (body.encode(), json.dumps(json.loads(body)).encode()):  # raw and \u-escaped
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
