#!/usr/bin/env python3
"""Check that the runtime ``tccvm.types`` are real TypedDicts on this interpreter.

    python tools/check_runtime_types.py [path/to/types.py]

Loads ``python/tccvm/types.py`` by path (it imports nothing of tccvm, so the native extension is
not needed: tests/test_runtime_types.py runs this under every CPython 3.9-3.13 with only
typing_extensions, pydantic and typeguard installed), then for every class: ``get_type_hints``
resolves (no ``NameError``), ``__required_keys__`` is what the annotations say, and pydantic's
``TypeAdapter`` builds; for a few, pydantic and typeguard accept a good value and reject a bad
one. Prints ``ok <n> classes`` and exits 0, or raises.
"""

from __future__ import annotations

import importlib.util
import sys
import typing
from pathlib import Path

TYPES = Path(__file__).resolve().parent.parent / "python" / "tccvm" / "types.py"


def load(path: Path):
    spec = importlib.util.spec_from_file_location("tccvm_types_checked", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # get_type_hints looks the module up by name
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    import pydantic
    import typeguard
    from typing_extensions import Required, get_origin, get_type_hints

    types = load(Path(sys.argv[1]) if len(sys.argv) > 1 else TYPES)
    classes = [
        v
        for v in vars(types).values()
        if isinstance(v, type) and v.__module__ == types.__name__
    ]
    assert len(classes) > 100, len(classes)
    for cls in classes:
        hints = get_type_hints(cls, include_extras=True)  # NameError before the fix
        assert set(hints) == set(cls.__annotations__), cls.__name__
        required = {k for k, t in hints.items() if get_origin(t) is Required}
        assert cls.__required_keys__ == frozenset(required), cls.__name__
        assert cls.__optional_keys__ == frozenset(hints) - required, cls.__name__
        pydantic.TypeAdapter(cls)
    assert types.Placement.__required_keys__ == frozenset({"Zone"})
    assert "RequestId" in types.DescribeInstancesResponse.__required_keys__
    assert get_type_hints(types.Placement)["Zone"] is str
    # typing's own resolves too; before 3.11 it cannot know typing_extensions' Required, which
    # it then leaves on (typing_extensions.get_type_hints strips it on every version).
    zone = typing.get_type_hints(types.Placement)["Zone"]
    assert zone is str if sys.version_info >= (3, 11) else zone == Required[str], zone

    good = {"Zone": "ap-guangzhou-2", "ProjectId": 0}
    ta = pydantic.TypeAdapter(types.Placement)
    assert ta.validate_python(good) == good
    for bad in ({"ProjectId": 0}, {"Zone": "z", "ProjectId": "x"}):
        try:
            ta.validate_python(bad, strict=True)
        except pydantic.ValidationError:
            pass
        else:
            raise AssertionError(f"pydantic accepted {bad}")

    answer = {
        "TotalCount": 1,
        "RequestId": "r-1",
        "InstanceSet": [],
    }
    pydantic.TypeAdapter(types.DescribeInstancesResponse).validate_python(answer)
    typeguard.check_type(good, types.Placement)
    typeguard.check_type(answer, types.DescribeInstancesResponse)
    for bad, cls in (
        ({"ProjectId": 0}, types.Placement),  # Zone is required
        ({"Zone": 1}, types.Placement),  # not a str
        ({"TotalCount": 1, "InstanceSet": []}, types.DescribeInstancesResponse),
    ):
        try:
            typeguard.check_type(bad, cls)
        except typeguard.TypeCheckError:
            pass
        else:
            raise AssertionError(f"typeguard accepted {bad} as {cls.__name__}")
    print(f"ok {len(classes)} classes on Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
