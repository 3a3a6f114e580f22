"""`import tccvm` stays cheap: what a fresh interpreter imports (not how long it takes), and the
methods built from the generated table (python/tccvm/_actions.py) are exactly what the model
says: same signature, same docstring as produced from the model JSON."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest
import tccvm
from tccvm import _actions, _core, _docs

pytestmark = pytest.mark.timeout(60)

#: Modules `import tccvm` must not pull in: the event loop (asyncio), the metadata provider's
#: HTTP stack (http.client, ssl, socket, urllib), signature building (inspect), the model
#: JSON parse (json) and logging (set up when the first client is made).
HEAVY = (
    "asyncio",
    "ssl",
    "http.client",
    "socket",
    "urllib.request",
    "inspect",
    "json",
    "logging",
)


def fresh_modules(code: str) -> set[str]:
    r = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return set(r.stdout.split())


def test_import_tccvm_does_not_import_heavy_modules():
    before = fresh_modules("pass")
    after = fresh_modules("import tccvm")
    assert "tccvm._core" in after
    pulled = sorted(m for m in HEAVY if m in after and m not in before)
    assert not pulled, f"import tccvm imports {pulled}"


def test_a_client_with_keys_does_not_import_the_metadata_http_stack():
    before = fresh_modules("pass")
    after = fresh_modules(
        "import tccvm\n"
        "tccvm.Client(secret_id='AKIDx', secret_key='k', region='ap-guangzhou').close()"
    )
    assert "tccvm._credentials" in after
    heavy = ("asyncio", "ssl", "http.client", "socket", "inspect", "logging")
    heavy += ("configparser", "urllib.parse", "email.parser")
    pulled = sorted(m for m in heavy if m in after and m not in before)
    assert not pulled, f"tccvm.Client(...) imports {pulled}"


LOGGER_CODE = """
import tccvm, logging
c = tccvm.Client(secret_id='AKIDx', secret_key='k', region='ap-guangzhou')
print([type(h).__name__ for h in logging.getLogger('tccvm').handlers])
from tccvm import _logging
assert _logging.logger is logging.getLogger('tccvm')
print(_logging.call_log_level())
"""


def test_the_tccvm_logger_has_its_null_handler_once_a_client_exists():
    r = subprocess.run(
        [sys.executable, "-c", LOGGER_CODE],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert r.stdout.split() == ["['NullHandler']", "1"]  # WARNING: retries reported


LATE_LOGGING_CODE = """
import sys, tccvm
from tccvm.emulator import Emulator
with Emulator() as emu:
    c = tccvm.Client(secret_id=emu.secret_id, secret_key=emu.secret_key,
                     region="ap-guangzhou", endpoint=emu.endpoint)
    c.describe_regions()
    print("logging imported before:", "logging" in sys.modules)
    import logging
    logging.basicConfig(level=logging.DEBUG, stream=sys.stdout,
                        format="record %(name)s %(levelname)s %(action)s")
    c.describe_regions()
"""


def test_logging_imported_after_the_client_still_gets_the_records():
    r = subprocess.run(
        [sys.executable, "-c", LATE_LOGGING_CODE],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert "record tccvm DEBUG DescribeRegions" in r.stdout, r.stdout + r.stderr


def test_methods_match_the_model():
    model = json.loads(_core.service_model_json())
    assert list(_actions.ACTIONS) == list(model["actions"])
    assert list(_actions.PAGINATED) == sorted(
        n for n, a in model["actions"].items() if a.get("paginator")
    )
    assert _actions.WAITERS == {
        n: w["operation"] for n, w in sorted(model["waiters"].items())
    }
    for name, action in model["actions"].items():
        want_doc = _docs.docstring(action, model["shapes"])
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        for m in action["inputs"]:
            t = _docs.python_type(m)
            params.append(
                inspect.Parameter(
                    m["name"],
                    inspect.Parameter.KEYWORD_ONLY,
                    default=inspect.Parameter.empty if m["required"] else None,
                    annotation=t if m["required"] else f"{t} | None",
                )
            )
        want_sig = inspect.Signature(params, return_annotation="dict[str, Any]")
        for cls in (tccvm.Client, tccvm.AsyncClient):
            meth = cls.__dict__[action["snake_name"]]
            assert meth.__doc__ == want_doc, name
            assert inspect.signature(meth) == want_sig, name
            assert meth.__name__ == action["snake_name"]
            assert meth.__qualname__ == f"{cls.__name__}.{action['snake_name']}"
            assert meth.__module__ == "tccvm._client"
            assert meth._tccvm_action == name
