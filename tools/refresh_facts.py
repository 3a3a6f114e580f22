#!/usr/bin/env python3
"""Refresh the facts of the current published description of CVM 2017-03-12.

    python tools/refresh_facts.py                  # pip download the pinned tccli wheel, write the facts
    python tools/refresh_facts.py --wheel W.whl    # the same from a wheel already on disk
    python tools/refresh_facts.py --version X.Y.Z  # move to another published tccli (see DEVELOPING.md)

The vendor publishes a machine-readable description of the API inside the ``tccli`` package on
PyPI: ``tccli/services/cvm/v20170312/api.json`` and ``examples.json``. This tool reads both out
of the wheel (never installing or importing it) and writes FACTS ONLY to
``tools/facts/cvm-2017-03-12.json`` (committed): action names and status, the input and output
object of each action, every object's members (name, type, element or object type, list-ness,
required, output_required, value_allowed_null, disabled), the filter names each ``Filters``
parameter lists, the documented default and maximum of each ``Limit``, and the official
examples (request parameters and output). None of the vendor's prose (its descriptions,
titles and summaries are Chinese documentation) and none of its code is copied: the English
descriptions, rate limits and error codes stay those of the seed (tools/seed/).

Only this tool touches the network, and only when run by hand to refresh. Builds and CI use the
committed facts file: ``tools/build_model.py`` merges it with the seed into the model, and
``tools/build_model.py --check`` keeps the two in step offline.

Standard library only (plus ``pip`` itself, to download).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACTS_OUT = ROOT / "tools" / "facts" / "cvm-2017-03-12.json"

#: The published description the committed facts come from. To move on, see DEVELOPING.md.
PACKAGE = "tccli"
VERSION = "3.1.189.1"
#: sha256 of the pinned wheel, checked when it is the one being read (another version is
#: recorded with its own digest in the facts file).
WHEEL_SHA256 = {
    "3.1.189.1": "98ec6fdc56000f0947ae34d601bfb86e49824afe21f6deb03d1b259221bf871c",
}
PREFIX = "tccli/services/cvm/v20170312/"
API_VERSION = "2017-03-12"

#: The member keys kept, as the description names them (``document`` and ``example`` are
#: prose or sample text and are left out).
MEMBER_FACTS = (
    "name",
    "type",
    "member",
    "required",
    "output_required",
    "value_allowed_null",
    "disabled",
)

# The filter names of a Filters parameter are the names its description lists, one per <li>:
# `<li><strong>zone</strong>...` or `<li> key-name - String - ...`.
FILTER_NAME_RE = re.compile(r"<li>\s*(?:<strong>)?\s*([A-Za-z][A-Za-z0-9:_\-]*)")
# The default and maximum of a Limit, as numbers in its description ("default N", "maximum N",
# "range [1-N]"), matched on the Chinese words for them (written as escapes, so that this file
# holds no vendor text).
LIMIT_DEFAULT_RE = re.compile("\u9ed8\u8ba4(?:\u503c)?(?:\u4e3a)?\\s*(\\d+)")
LIMIT_MAX_RE = re.compile(
    "\u6700\u5927(?:\u503c)?(?:\u4e3a)?\\s*(\\d+)"
    "|\u8303\u56f4\u9650\u5236\u4e3a\\s*\\[\\s*\\d+\\s*-\\s*(\\d+)\\s*\\]"
)


class FactsError(Exception):
    pass


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(version: str, into: Path) -> Path:
    """`pip download --no-deps tccli==VERSION` into `into`; the wheel's path."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(into),
        f"{PACKAGE}=={version}",
    ]
    print("refresh_facts: " + " ".join(cmd[2:]), file=sys.stderr)
    subprocess.run(cmd, check=True, timeout=600)
    wheels = sorted(into.glob(f"{PACKAGE}-{version}-*.whl"))
    if len(wheels) != 1:
        raise FactsError(f"expected one {PACKAGE} {version} wheel, got {wheels}")
    return wheels[0]


def member_facts(m: dict) -> dict:
    out = {k: m[k] for k in MEMBER_FACTS if k in m}
    if m.get("member") == "Filter":
        names = FILTER_NAME_RE.findall(m.get("document", ""))
        if len(set(names)) != len(names):
            raise FactsError(f"filter names listed twice in {m['name']}: {names}")
        out["filter_names"] = names
    if m["name"] == "Limit":
        doc = m.get("document", "")
        d = LIMIT_DEFAULT_RE.search(doc)
        x = LIMIT_MAX_RE.search(doc)
        if d:
            out["documented_default"] = int(d.group(1))
        if x:
            out["documented_max"] = int(x.group(1) or x.group(2))
    return out


def parse_example_input(action: str, text: str) -> dict:
    """The request of an example: `POST / HTTP/1.1` + headers + JSON body, or a GET URL with
    no parameters beyond the common ones. Returns {"http", "params", "language"?}."""
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    out: dict = {}
    if lines[0].startswith("POST "):
        out["http"] = "POST"
        headers = {}
        for ln in lines[1:]:
            k, sep, v = ln.partition(":")
            if sep:
                headers[k.strip().lower()] = v.strip()
        if headers.get("x-tc-action") != action:
            raise FactsError(
                f"{action}: example header says {headers.get('x-tc-action')}"
            )
        out["params"] = json.loads(body) if body.strip() else {}
        if "x-tc-language" in headers:
            out["language"] = headers["x-tc-language"]
        if "x-tc-region" in headers:
            out["region"] = headers["x-tc-region"]
    else:
        m = re.match(r"https?://[^/?]+/?\?(.*)$", lines[0])
        if not m:
            raise FactsError(f"{action}: example input is neither POST nor a URL")
        query = m.group(1) + "".join(ln.strip() for ln in lines[1:])
        pairs = [p.split("=", 1) for p in query.split("&") if p and "=" in p]
        got = dict(pairs)
        if got.pop("Action", None) != action:
            raise FactsError(f"{action}: example URL names another action")
        if got:
            # Flat GET parameters would need unflattening by the model; none are published.
            raise FactsError(f"{action}: GET example with parameters {sorted(got)}")
        out["http"] = "GET"
        out["params"] = {}
    return out


def extract(api: dict, examples: dict) -> dict:
    if api.get("metadata", {}).get("apiVersion") != API_VERSION:
        raise FactsError(f"api.json is for {api.get('metadata', {}).get('apiVersion')}")
    actions = {}
    for name in sorted(api["actions"]):
        a = api["actions"][name]
        actions[name] = {
            "status": a["status"],
            "input": a["input"],
            "output": a["output"],
        }
    objects = {}
    for name in sorted(api["objects"]):
        o = api["objects"][name]
        rec: dict = {}
        if "usage" in o:
            rec["usage"] = o["usage"]
        rec["members"] = [member_facts(m) for m in o["members"]]
        objects[name] = rec
    for name, a in actions.items():
        for k in ("input", "output"):
            if a[k] not in objects:
                raise FactsError(f"{name}: {k} object {a[k]} is not described")
    exs = {}
    for name in sorted(examples["actions"]):
        if name not in actions:
            raise FactsError(f"example of an unknown action {name}")
        out = []
        for ex in examples["actions"][name]:
            rec = parse_example_input(name, ex["input"])
            rec["output"] = json.loads(ex["output"]) if ex.get("output") else None
            out.append(rec)
        exs[name] = out
    return {
        "description_version": api.get("version"),
        "api_version": API_VERSION,
        "actions": actions,
        "objects": objects,
        "examples": exs,
    }


def render(facts: dict, source: dict) -> str:
    """The facts file: line one says it is generated, and how."""
    head = {
        "_generated": (
            f"Generated by `python tools/refresh_facts.py --version {source['version']}` "
            f"from {source['package']}=={source['version']} ({PREFIX}api.json, examples.json): "
            "facts only, none of the vendor's prose or code. Do not edit."
        ),
        "source": source,
    }
    body = json.dumps({**head, **facts}, indent=1, ensure_ascii=False, sort_keys=False)
    # `{"_generated": ...,` on the first line.
    first, rest = body.split("\n", 1)
    assert first == "{"
    gen_line, rest = rest.split("\n", 1)
    return "{" + gen_line.strip() + "\n" + rest + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--version", default=VERSION, help=f"tccli version (default {VERSION})"
    )
    ap.add_argument("--wheel", type=Path, help="read this wheel instead of downloading")
    ap.add_argument(
        "--out", type=Path, default=FACTS_OUT, help="where to write the facts"
    )
    args = ap.parse_args()
    try:
        with tempfile.TemporaryDirectory(prefix="tccvm-facts-") as tmp:
            wheel = args.wheel or download(args.version, Path(tmp))
            data = wheel.read_bytes()
            digest = sha256(data)
            pinned = WHEEL_SHA256.get(args.version)
            if pinned and digest != pinned:
                raise FactsError(
                    f"{wheel.name}: sha256 {digest}, expected {pinned} for {args.version}"
                )
            with zipfile.ZipFile(wheel) as z:
                api_raw = z.read(PREFIX + "api.json")
                ex_raw = z.read(PREFIX + "examples.json")
        facts = extract(json.loads(api_raw), json.loads(ex_raw))
    except (FactsError, KeyError, subprocess.CalledProcessError) as e:
        print(f"refresh_facts: {e}", file=sys.stderr)
        return 1
    source = {
        "package": PACKAGE,
        "version": args.version,
        "wheel_sha256": digest,
        "api_json_sha256": sha256(api_raw),
        "examples_json_sha256": sha256(ex_raw),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(facts, source), encoding="utf-8")
    n_ex = sum(len(v) for v in facts["examples"].values())
    print(
        f"{len(facts['actions'])} actions, {len(facts['objects'])} objects, {n_ex} examples "
        f"-> {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
