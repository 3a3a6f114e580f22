"""What a user sees in IPython and help(): parameter completion inside a method call with
IPython's own completer (jedi, its default), and signatures whose annotations read as written."""

from __future__ import annotations

import pydoc
import sys

import pytest
import tccvm

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def shell():
    pytest.importorskip("IPython")  # pinned in the test extra (Python 3.11+)
    pytest.importorskip("jedi")
    from IPython.core.interactiveshell import InteractiveShell

    prompts = {k: getattr(sys, k) for k in ("ps1", "ps2") if hasattr(sys, k)}
    ip = InteractiveShell.instance()
    assert ip.Completer.use_jedi  # IPython's default
    client = tccvm.Client(
        secret_id="AKIDx",
        secret_key="k",
        region="ap-guangzhou",
        endpoint="http://127.0.0.1:9",
    )
    ip.user_ns["client"] = client
    ip.user_ns["aclient"] = tccvm.AsyncClient(
        secret_id="AKIDx",
        secret_key="k",
        region="ap-guangzhou",
        endpoint="http://127.0.0.1:9",
    )
    yield ip
    client.close()
    # Leave no IPython instance behind: `get_ipython()` would then make every later test in
    # this process look interactive (nor `sys.ps1`, which the shell sets) (waiters show progress bars there).
    InteractiveShell.clear_instance()
    for k in (
        "ps1",
        "ps2",
    ):  # the shell sets sys.ps1/ps2, which is how a REPL is recognised
        if k in prompts:
            setattr(sys, k, prompts[k])
        elif hasattr(sys, k):
            delattr(sys, k)


def complete(ip, text: str) -> list[str]:
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [c.text for c in ip.Completer.completions(text, len(text))]


@pytest.mark.parametrize(
    "text, want",
    [
        ("client.run_instances(Pla", "Placement="),
        ("client.describe_instances(Inst", "InstanceIds="),
        ("aclient.describe_images(Ima", "ImageIds="),
        ("client.run_instances(Placement={'Zone': 'z'}, Image", "ImageId="),
    ],
)
def test_ipython_completes_parameter_names(shell, text, want):
    got = complete(shell, text)
    assert want in got, got


def test_help_shows_annotations_unquoted():
    text = pydoc.render_doc(tccvm.Client.run_instances, renderer=pydoc.plaintext)
    head = text.split("RunInstances:", 1)[0]
    assert "Placement: Placement" in head, head
    assert "'Placement'" not in head and "'str | None'" not in head, head
    # One parameter a line on every version (pydoc wraps long signatures itself from 3.13;
    # before, tccvm._methods._PydocLayout does it the same way).
    assert "run_instances(\n    self,\n    *,\n" in head, head
    assert "\n    Placement: Placement | None = None,\n" in head, head
