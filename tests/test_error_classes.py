"""One exception class per documented error code (``tools/gen_errors.py`` -> ``_error_codes.py``):
subclasses of TencentCloudError with a hierarchy on dotted prefixes, raised with the most
specific class by real calls (sync and async, against the emulator), reachable as
``tccvm.errors.<Name>`` and ``client.exceptions.<Name>``, picklable, loaded lazily, and
generated deterministically (collisions and codes that are not identifiers)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import tccvm
import tccvm.errors
from tccvm.emulator import Emulator

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-guangzhou"
MISSING = {"InstanceIds": ["ins-00000000"]}


def gen_errors():
    spec = importlib.util.spec_from_file_location(
        "gen_errors", ROOT / "tools/gen_errors.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def emu():
    with Emulator() as e:
        yield e


def kw(emu):
    return {
        "secret_id": emu.secret_id,
        "secret_key": emu.secret_key,
        "region": REGION,
        "endpoint": emu.endpoint,
    }


def test_a_call_raises_the_class_of_its_code(emu):
    c = tccvm.Client(**kw(emu))
    with pytest.raises(tccvm.errors.InvalidInstanceIdNotFound) as e:
        c.start_instances(**MISSING)
    assert type(e.value) is tccvm.errors.InvalidInstanceIdNotFound
    assert e.value.code == "InvalidInstanceId.NotFound" == type(e.value).CODE
    assert isinstance(e.value, tccvm.TencentCloudError)
    assert e.value.action == "StartInstances" and e.value.request_id
    with pytest.raises(c.exceptions.InvalidInstanceIdNotFound):
        c.start_instances(**MISSING)
    with pytest.raises(tccvm.TencentCloudError):
        c.start_instances(**MISSING)
    assert c.exceptions.TencentCloudError is tccvm.TencentCloudError
    assert "InvalidInstanceIdNotFound" in repr(e.value)


def test_async_calls_raise_it_too(emu):
    async def main():
        async with tccvm.AsyncClient(**kw(emu)) as c:
            with pytest.raises(c.exceptions.InvalidInstanceIdNotFound) as e:
                await c.start_instances(**MISSING)
            return e.value

    err = asyncio.run(main())
    assert type(err).__name__ == "InvalidInstanceIdNotFound"


def test_hierarchy_follows_dotted_codes_that_are_codes_themselves():
    e = tccvm.errors
    assert issubclass(e.AuthFailureSignatureFailure, e.AuthFailure)
    assert issubclass(e.AuthFailure, e.TencentCloudError)
    assert issubclass(e.InvalidParameterValueRange, e.InvalidParameterValue)
    # InvalidInstanceId is not a documented code: no class, the parent is the base.
    assert e.InvalidInstanceIdNotFound.__bases__ == (e.TencentCloudError,)
    with pytest.raises(AttributeError):
        e.InvalidInstanceId  # noqa: B018
    # Constructing the base picks the subclass (as OSError picks FileNotFoundError).
    err = e.TencentCloudError("AuthFailure.SignatureFailure", "m", "r", "A")
    assert type(err) is e.AuthFailureSignatureFailure
    assert type(e.TencentCloudError("Not.A.Documented.Code")) is e.TencentCloudError
    assert "InvalidInstanceIdNotFound" in dir(e)


def test_every_documented_code_has_its_class():
    model = json.loads(
        (ROOT / "crates/core/src/model/cvm-2017-03-12.json").read_text("utf-8")
    )
    codes = {x["code"] for x in model["common_errors"]}
    for a in model["actions"].values():
        codes |= {x["code"] for x in a.get("errors", [])}
    from tccvm import _error_codes

    assert set(_error_codes.BY_CODE) == codes
    for code, cls in _error_codes.BY_CODE.items():
        assert cls.CODE == code and issubclass(cls, tccvm.TencentCloudError)
        assert getattr(tccvm.errors, cls.__name__) is cls
        assert type(tccvm.TencentCloudError(code)) is cls


def test_pickling_keeps_the_class_and_attributes(emu):
    c = tccvm.Client(**kw(emu))
    with pytest.raises(tccvm.TencentCloudError) as e:
        c.start_instances(**MISSING)
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is type(e.value) is tccvm.errors.InvalidInstanceIdNotFound
    for a in ("code", "message", "request_id", "action", "args"):
        assert getattr(back, a) == getattr(e.value, a)


def test_naming_is_deterministic_with_collisions_and_odd_codes():
    g = gen_errors()
    codes = [
        "InvalidKeyPairName.Empty",
        "InvalidKeyPairNameEmpty",
        "A.B-C",
        "A.B_C",
        "9Lives",
        "None",
        "TencentCloudError",
        "X.Y",
        "X",
    ]
    names = g.class_names(codes)
    assert names == g.class_names(list(reversed(codes)))
    assert names["InvalidKeyPairNameEmpty"] == "InvalidKeyPairNameEmpty"
    assert names["InvalidKeyPairName.Empty"] == "InvalidKeyPairName_Empty"
    assert {names["A.B-C"], names["A.B_C"]} == {"A_B_C", "A_B_C_2"}
    assert names["9Lives"] == "E9Lives"
    assert names["None"] == "NoneError"
    assert names["TencentCloudError"] == "TencentCloudErrorError"
    assert names["X.Y"] == "XY"
    assert len(set(names.values())) == len(codes)
    for n in names.values():
        assert n.isidentifier()
    assert g.parent_code("X.Y", set(codes)) == "X"
    assert g.parent_code("A.B-C", set(codes)) is None


def test_generated_files_are_fresh():
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools/gen_errors.py"), "--check"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert (
        "generated"
        in (ROOT / "python/tccvm/_error_codes.py")
        .read_text("utf-8")
        .splitlines()[0]
        .lower()
    )


def test_import_tccvm_does_not_load_the_classes():
    code = (
        "import sys, tccvm\n"
        "print('tccvm._error_codes' in sys.modules)\n"
        "tccvm.errors.InvalidInstanceIdNotFound\n"
        "print('tccvm._error_codes' in sys.modules)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert r.stdout.split() == ["False", "True"]
