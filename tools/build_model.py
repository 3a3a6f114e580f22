#!/usr/bin/env python3
"""Build the CVM 2017-03-12 service model from the API reference and the current description.

    python tools/build_model.py            # writes the model and its examples (MODEL_OUT, EXAMPLES_OUT)
    python tools/build_model.py --check    # exits 1 if the committed files differ from a fresh build

Inputs, all committed (the build never depends on anything outside the repo, nor on the network):
- tools/seed/cvm-api-2017-03-12.txt: a text extraction of the vendor's PDF of the 2017 API
  reference, with tools/seed_corrections.json (every extraction slip this tool repairs, recorded
  as data). The source of the English descriptions, the rate limits and the error codes of its
  58 actions, and of its examples.
- tools/facts/cvm-2017-03-12.json: the facts of the vendor's current published description
  (tools/refresh_facts.py writes it from the pinned tccli wheel): its 106 actions, 74 data types,
  every member's type, list-ness, required / output_required / nullable / deprecated flags, the
  filter names, the Limit bounds and the official examples.

The facts decide the shape of the model (which actions, parameters and fields exist, their types
and flags); the seed adds what only it has (descriptions, rate limits, error codes, categories).
Where the two disagree on a fact the current description wins, and every such disagreement must
be recorded, with its reason, under "current" in tools/seed_corrections.json: the build fails on
one that is not recorded, and on a record that no longer applies. Standard library only.

The model (schema described in the README.md beside it) is the single source of truth for
validation, the client methods, the stubs, the docstrings and the emulator.
"""

from __future__ import annotations

import argparse
import html
import json
import keyword
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The outputs: the one place that says where the model lives (tools/gen_stubs.py and the tests
# read MODEL_OUT from here; the Rust core embeds both files).
MODEL_DIR = ROOT / "crates" / "core" / "src" / "model"
MODEL_OUT = MODEL_DIR / "cvm-2017-03-12.json"
EXAMPLES_OUT = MODEL_DIR / "examples.json"
# The inputs.
SEED = ROOT / "tools" / "seed" / "cvm-api-2017-03-12.txt"
CORRECTIONS = ROOT / "tools" / "seed_corrections.json"
FACTS = ROOT / "tools" / "facts" / "cvm-2017-03-12.json"

PRIMITIVES = ("String", "Integer", "Boolean", "Float", "Timestamp")
COMMON_INPUTS = ("Action", "Version", "Region")
FINANCE_REGIONS = ["ap-shanghai-fsi", "ap-shenzhen-fsi"]


class SeedError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# text helpers


def snake_case(name: str) -> str:
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def plain(text: str) -> str:
    """HTML / markdown fragment of the seed -> plain text (list items become '- ' lines)."""
    t = text
    t = re.sub(r"<li[^>]*>\s*(?:•\s*)?", "\n- ", t)
    t = re.sub(r"</(?:p|ul|ol)>", "\n", t)
    t = re.sub(r"<(?:p|ul|ol)[^>]*>", "\n", t)
    t = re.sub(r"<br\s*/?>", "\n", t)
    t = re.sub(r"<[^>]+>", "", t)
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", t)  # markdown links
    t = t.replace("`", "").replace("**", "")
    t = re.sub(r"\\+([\\`*_{}\[\]()#+\-.!$|])", r"\1", t)  # markdown escapes: \$ \_ \\_
    t = html.unescape(html.unescape(t))
    lines = [re.sub(r"[ \t\u00a0]+", " ", ln).strip() for ln in t.split("\n")]
    lines = [ln for ln in lines if ln]
    out = "\n".join(lines)
    out = re.sub(r" ([.,;:)])", r"\1", out)
    out = re.sub(r"\( ", "(", out)
    return out.strip()


def cell_name(cell: str) -> str:
    return plain(cell).replace(" ", "")


def parse_type(cell: str) -> tuple[str, bool]:
    """'Array of <a href="#">Filter</a>' -> ('Filter', True)."""
    t = plain(cell)
    array = False
    m = re.match(r"Array of\s+(.*)$", t)
    if m:
        array, t = True, m.group(1)
    t = t.strip().replace(" ", "")
    return t, array


def heading(line: str) -> str | None:
    m = re.match(r"^#+\s*(.*?)\s*$", line)
    if not m:
        return None
    return m.group(1).strip("* ")


# ---------------------------------------------------------------------------------------------
# parsing


class Seed:
    def __init__(self, text: str, corrections: dict):
        self.corrections = corrections
        for fix in sorted(corrections["text"], key=lambda f: -len(f["find"])):
            if fix["find"] not in text:
                raise SeedError(f"correction no longer applies: {fix['find']!r}")
            text = text.replace(fix["find"], fix["replace"])
        self.lines = [ln.rstrip() for ln in text.split("\n")]

    # -- API Category: the authoritative list of actions and their categories
    def categories(self) -> list[tuple[str, str, str]]:
        start = self.lines.index("# API Category")
        end = self.lines.index("# Making API Requests")
        out, cat = [], None
        for ln in self.lines[start:end]:
            h = heading(ln)
            if h and h != "API Category":
                cat = h.replace(" APIs", "").replace("-related", "")
                cat = {"CDH": "Dedicated Host"}.get(cat, cat)
                continue
            if "\t" in ln and cat:
                name, feature = ln.split("\t", 1)
                if name == "API Name":
                    continue
                if not re.fullmatch(r"[A-Z][A-Za-z]+", name):
                    raise SeedError(f"bad action name in API Category: {name!r}")
                out.append((name, cat, feature.strip()))
        return out

    def section_bounds(self, names: list[str]) -> dict[str, tuple[int, int]]:
        nameset = set(names)
        first = self.lines.index("# Region-related APIs")
        marks = []
        for i in range(first, len(self.lines)):
            h = heading(self.lines[i])
            if h is None:
                continue
            if h in nameset or h.endswith("APIs") or h == "Data Types":
                marks.append((i, h))
        bounds = {}
        for k, (i, h) in enumerate(marks):
            if h in nameset:
                if h in bounds:
                    raise SeedError(f"action {h} documented twice")
                bounds[h] = (
                    i,
                    marks[k + 1][0] if k + 1 < len(marks) else len(self.lines),
                )
        missing = nameset - set(bounds)
        if missing:
            raise SeedError(f"actions without a section: {sorted(missing)}")
        return bounds

    @staticmethod
    def subsections(lines: list[str]) -> dict[str, list[str]]:
        """Split an action section on its numbered headings ('1. API Description', ...)."""
        out: dict[str, list[str]] = {}
        cur = None
        for ln in lines[1:]:
            h = heading(ln)
            m = re.match(r"(\d)\.\s*(.*)", h) if h else None
            if m:
                cur = m.group(1)
                out[cur] = []
                continue
            if cur:
                out[cur].append(ln)
        return out


def table_rows(lines: list[str]) -> list[dict[str, str]]:
    """Rows of the tab-separated tables in `lines`, keyed by their header (repeated header rows of
    tables split across pages are skipped)."""
    rows, header = [], None
    for ln in lines:
        if "\t" not in ln:
            continue
        cells = ln.split("\t")
        first = cell_name(cells[0])
        second = cell_name(cells[1]) if len(cells) >= 2 else ""
        if first in ("ParameterName", "Name", "ErrorCode") and second in (
            "Required",
            "Type",
            "Description",
            "ErrorDescription",
        ):
            header = [cell_name(c) for c in cells]
            continue
        if set(ln.replace("\t", "")) <= {"-", " "}:
            continue
        if header is None:
            raise SeedError(f"table row without header: {ln[:80]!r}")
        if len(cells) != len(header):
            raise SeedError(
                f"row has {len(cells)} cells, header {len(header)}: {ln[:80]!r}"
            )
        rows.append(dict(zip(header, cells)))
    return rows


def parse_member(row: dict[str, str], with_required: bool) -> dict:
    if "Type" not in row or "Description" not in row:
        raise SeedError(f"not a parameter row: {row}")
    raw = cell_name(row.get("ParameterName") or row["Name"])
    name, dotted_array = raw, False
    if name.endswith(".N"):
        name, dotted_array = name[:-2], True
    typ, array = parse_type(row["Type"])
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
        raise SeedError(f"bad member name {raw!r}")
    m = {"name": name, "type": typ, "array": array or dotted_array}
    if with_required:
        req = plain(row["Required"])
        if req not in ("Yes", "No"):
            raise SeedError(f"bad Required cell {req!r} for {name}")
        m["required"] = req == "Yes"
    m["description"] = plain(row["Description"])
    return m


RATE_RE = re.compile(
    r"A maximum of (\d+) requests? (?:can be initiated )?per second", re.IGNORECASE
)


def parse_action(
    seed: Seed, name: str, category: str, feature: str, lines: list[str]
) -> tuple[dict, list]:
    sub = Seed.subsections(lines)
    for k in "1234":
        if k not in sub:
            raise SeedError(f"{name}: no section {k}")
    desc_lines, rate, finance = [], None, False
    in_code, code = False, []
    for ln in sub["1"]:
        s = ln.strip()
        if s.startswith(
            "```"
        ):  # a code block: one line (the extraction breaks long URLs)
            if in_code:
                desc_lines.append("".join(code))
                code = []
            in_code = not in_code
            continue
        if in_code:
            code.append(s)
            continue
        if not s or s.startswith("Domain name for API request"):
            continue
        m = RATE_RE.search(s)
        if m:
            rate = int(m.group(1))
            continue
        if "supports Finance regions" in s:
            finance = True
            continue
        desc_lines.append(ln)
    fix = seed.corrections["rate_limits"].get(name)
    if fix:
        rate = fix["value"]
    if rate is None:
        raise SeedError(f"{name}: no rate limit")
    description = plain("\n".join(desc_lines))

    inputs, region_required = [], True
    for row in table_rows(sub["2"]):
        m = parse_member(row, with_required=True)
        if m["name"] in COMMON_INPUTS:
            if m["name"] == "Region":
                region_required = m["required"]
            continue
        inputs.append(m)
    renames = seed.corrections.get("inputs", {}).get(name, {}).get("rename", {})
    for m in inputs:
        if m["name"] in renames:
            m["name"] = renames.pop(m["name"])
    if renames:
        raise SeedError(
            f"{name}: input correction no longer applies: {sorted(renames)}"
        )
    outputs = [parse_member(r, with_required=False) for r in table_rows(sub["3"])]
    errors = []
    for row in table_rows(sub["4"]):
        code = cell_name(row["ErrorCode"])
        errors.append({"code": code, "description": plain(row["Description"])})

    in_names = {p["name"]: p for p in inputs}
    out_names = {p["name"]: p for p in outputs}
    paginator = None
    if "Offset" in in_names and "Limit" in in_names and "TotalCount" in out_names:
        sets = [p["name"] for p in outputs if p["array"] and p["name"].endswith("Set")]
        if len(sets) != 1:
            raise SeedError(f"{name}: paginated, but result sets are {sets}")
        ldesc = in_names["Limit"]["description"]
        dm = re.search(r"[Dd]efault(?: value)?(?: is|:)?\s*(\d+)", ldesc)
        mm = re.search(r"[Mm]aximum(?: value)?(?: is|:)?\s*(\d+)", ldesc)
        paginator = {
            "offset": "Offset",
            "limit": "Limit",
            "total_count": "TotalCount",
            "result": sets[0],
            "default_limit": int(dm.group(1)) if dm else None,
            "max_limit": int(mm.group(1)) if mm else None,
        }
    action = {
        "name": name,
        "snake_name": snake_case(name),
        "category": category,
        "summary": feature,
        "description": description,
        "rate_limit": rate,
        "finance_regions": finance,
        "region_required": region_required,
        "client_token": "ClientToken" in in_names,
        "idempotent": name.startswith(("Describe", "Inquiry")),
        "paginator": paginator,
        "inputs": inputs,
        "outputs": outputs,
        "errors": errors,
    }
    return action, parse_examples(seed, name, sub.get("5", []))


def code_blocks(lines: list[str]) -> list[str]:
    blocks, cur = [], None
    for ln in lines:
        if ln.strip().startswith("```"):
            if cur is None:
                cur = []
            else:
                blocks.append("\n".join(cur))
                cur = None
            continue
        if cur is not None:
            cur.append(ln)
    if cur is not None:
        raise SeedError("unterminated code block")
    return blocks


def repair_json(text: str) -> tuple[object, bool]:
    """Parse an Output example. The extraction loses or repeats closing brackets at page breaks;
    when plain parsing fails, rebuild the bracket structure: a `"key":` met inside a list closes
    the list, a closer right after a comma is a stray, a closer that does not match closes what is open first, closers with nothing open
    are dropped, and whatever is still open at the end is closed."""
    try:
        return json.loads(text), False
    except json.JSONDecodeError:
        pass
    # Long strings broken across lines: join the pieces.
    chars, in_str, esc = [], False, False
    for ch in text:
        if in_str:
            if ch == "\n":
                continue
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        chars.append(ch)
    text = "".join(chars)
    tok_re = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+)')
    toks = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = tok_re.match(text, pos)
        if not m:
            raise json.JSONDecodeError("cannot tokenize", text, pos)
        toks.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    out: list[str] = []
    stack: list[str] = []
    closer = {"{": "}", "[": "]"}
    for i, t in enumerate(toks):
        is_key = t.startswith('"') and i + 1 < len(toks) and toks[i + 1] == ":"
        if is_key and stack and stack[-1] == "[":
            had_comma = bool(out) and out[-1] == ","
            if had_comma:
                out.pop()
            while stack and stack[-1] == "[":
                out.append(closer[stack.pop()])
            out.append(",")
        if t in "{[":
            stack.append(t)
        elif t in "}]":
            if (
                not stack or out[-1] == ","
            ):  # a comma promised more: the closer is a stray
                continue
            while stack and closer[stack[-1]] != t:
                out.append(closer[stack.pop()])
            if not stack:
                continue
            stack.pop()
        out.append(t)
        if not stack and t in "}]":
            break
    while stack:
        out.append(closer[stack.pop()])
    return json.loads(" ".join(out)), True


def parse_input_url(text: str) -> tuple[str, list[list[str]], str | None]:
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    first = lines[0]
    m = re.match(r"https?://[^?]+\?Action=(\w+)$", first)
    if not m:
        raise SeedError(f"input example does not start with the URL: {first!r}")
    pairs, region = [], None
    for ln in lines[1:]:
        ln = ln.lstrip("&").strip()
        if ln.startswith("<Common request parameters>"):
            continue
        if "=" not in ln:
            raise SeedError(f"bad input example line {ln!r} in {text[:60]!r}")
        k, v = ln.split("=", 1)
        if k == "Region":
            region = v
            continue
        pairs.append([k, v])
    return m.group(1), pairs, region


def parse_examples(seed: Seed, action: str, lines: list[str]) -> list[dict]:
    # Split on the 'Example N' headings, then each on its 'Input example' / 'Output example'.
    examples, cur, part = [], None, None
    parts: dict[str, list[str]] = {}
    for ln in lines:
        h = heading(ln)
        bold = re.fullmatch(r"\*\*(.*)\*\*", ln.strip())
        if bold:  # '**Output example**' stands for a heading in two places
            h = bold.group(1).strip()
        if h and re.match(r"Example\s*\d", h):
            cur = {"title": re.sub(r"^Example\s*\d+:?\s*", "", h)}
            parts = {"input": [], "output": []}
            examples.append((cur, parts))
            part = None
            continue
        if h and h.lower() == "input example":
            part = "input"
            continue
        if h and h.lower() == "output example":
            part = "output"
            continue
        if h:
            part = None
            continue
        if part and cur is not None:
            parts[part].append(ln)
    fix = seed.corrections["examples"].get(action, {})
    out = []
    for cur, parts in examples:
        blocks = code_blocks(
            parts["input"]
        )  # page breaks split one URL into several blocks
        if not blocks:
            raise SeedError(f"{action}: input example without a code block")
        url_action, pairs, region = parse_input_url("\n".join(blocks))
        if url_action != action and fix.get("action") != action:
            raise SeedError(f"{action}: example URL says Action={url_action}")
        renames = fix.get("rename_keys", {})
        pairs = [
            [renames.get(k, k), v]
            for k, v in pairs
            if k not in fix.get("drop_keys", [])
        ]
        pairs += [list(kv) for kv in fix.get("add_keys", [])]
        ex = {"title": cur["title"], "input": pairs}
        if region:
            ex["region"] = region
        oblocks = code_blocks(parts["output"])
        if oblocks:
            otext = "\n".join(oblocks)
            for pat, rep in fix.get("output_regex", []):
                otext, n = re.subn(pat, rep, otext)
                if n == 0:
                    raise SeedError(
                        f"{action}: output correction no longer applies: {pat!r}"
                    )
            try:
                ex["output"], repaired = repair_json(otext)
            except json.JSONDecodeError as e:
                raise SeedError(
                    f"{action}: output example {cur['title']!r}: {e}\n"
                    + "\n".join(oblocks)
                )
            if repaired:
                ex["output_repaired"] = True
        else:
            ex["output"] = None
        out.append(ex)
    return out


def parse_shapes(seed: Seed) -> dict[str, dict]:
    start = seed.lines.index("# Data Types")
    shapes: dict[str, dict] = {}
    cur, body = None, []

    def flush():
        if cur is None:
            return
        rows = table_rows(body)
        with_req = bool(rows) and "Required" in rows[0]
        desc, used_by = [], []
        for ln in body:
            if "\t" in ln:
                break
            m = re.match(r"Used by actions:\s*(.*)$", ln.strip())
            if m:
                used_by = [cell_name(a) for a in m.group(1).rstrip(".").split(",")]
                continue
            if ln.strip() and not ln.startswith("Last updated"):
                desc.append(ln)
        shapes[cur] = {
            "name": cur,
            "description": plain("\n".join(desc)),
            "used_by": used_by,
            "members": [parse_member(r, with_required=with_req) for r in rows],
        }

    for ln in seed.lines[start + 1 :]:
        h = heading(ln)
        if (
            h is not None
            and ln.startswith("## ")
            and re.fullmatch(r"[A-Z][A-Za-z]+", h)
        ):
            flush()
            cur, body = h, []
            continue
        if h is not None and cur is not None:
            body.append(h)  # sub-headings inside a type are its description
            continue
        body.append(ln)
    flush()
    return shapes


def common_errors(seed: Seed) -> list[dict]:
    out = []
    for title in ("### 4. Authentication Failure", "## Common Error Codes"):
        i = seed.lines.index(title)
        j = i + 1
        while j < len(seed.lines) and not (
            seed.lines[j].startswith("#") and "Error" not in seed.lines[j]
        ):
            j += 1
        for row in table_rows(seed.lines[i + 1 : j]):
            out.append(
                {
                    "code": cell_name(row["ErrorCode"]),
                    "description": plain(row["ErrorDescription"]),
                }
            )
    return out


INSTANCE_STATES = [
    "PENDING",
    "LAUNCH_FAILED",
    "RUNNING",
    "STOPPED",
    "STARTING",
    "STOPPING",
    "REBOOTING",
    "SHUTDOWN",
    "TERMINATING",
]


def waiters() -> dict:
    """Waiters as data (botocore waiters-2 style). Matchers:
    - pathAll: every element the path selects equals `expected` (false when nothing is selected)
    - pathAny: some element the path selects equals `expected`
    - path:    the single value at the path equals `expected`
    - error:   the call failed with error code `expected`
    Paths are dotted with `[]` to project over a list: `InstanceStatusSet[].InstanceState`.
    The waiter's parameters are passed to `operation` unchanged."""
    ist = "InstanceSet[].InstanceState"
    return {
        "instance_running": {
            "operation": "DescribeInstances",
            "delay": 5,
            "max_attempts": 40,
            "acceptors": [
                {
                    "matcher": "pathAll",
                    "path": ist,
                    "expected": "RUNNING",
                    "state": "success",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "LAUNCH_FAILED",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "SHUTDOWN",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "TERMINATING",
                    "state": "failure",
                },
            ],
        },
        "instance_stopped": {
            "operation": "DescribeInstances",
            "delay": 5,
            "max_attempts": 40,
            "acceptors": [
                {
                    "matcher": "pathAll",
                    "path": ist,
                    "expected": "STOPPED",
                    "state": "success",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "LAUNCH_FAILED",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "SHUTDOWN",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": ist,
                    "expected": "TERMINATING",
                    "state": "failure",
                },
            ],
        },
        "instance_terminated": {
            "operation": "DescribeInstances",
            "delay": 5,
            "max_attempts": 60,
            "acceptors": [
                {
                    "matcher": "path",
                    "path": "TotalCount",
                    "expected": 0,
                    "state": "success",
                },
                {
                    "matcher": "error",
                    "path": None,
                    "expected": "InvalidInstanceId.NotFound",
                    "state": "success",
                },
            ],
        },
        "image_normal": {
            "operation": "DescribeImages",
            "delay": 5,
            "max_attempts": 60,
            "acceptors": [
                {
                    "matcher": "pathAll",
                    "path": "ImageSet[].ImageState",
                    "expected": "NORMAL",
                    "state": "success",
                },
                # Not in the seed (which names only NORMAL): the vendor's failure states.
                {
                    "matcher": "pathAny",
                    "path": "ImageSet[].ImageState",
                    "expected": "CREATEFAILED",
                    "state": "failure",
                },
                {
                    "matcher": "pathAny",
                    "path": "ImageSet[].ImageState",
                    "expected": "IMPORTFAILED",
                    "state": "failure",
                },
            ],
        },
    }


# ---------------------------------------------------------------------------------------------
# self-check


def example_key_known(model: dict, action: dict, key: str) -> str | None:
    """None if the flattened key `Filters.0.Values.1` is a path through the model, else why not."""
    parts = key.split(".")
    members = {m["name"]: m for m in action["inputs"]}
    i = 0
    while i < len(parts):
        m = members.get(parts[i])
        if m is None:
            return f"unknown parameter {parts[i]!r} in {key!r}"
        i += 1
        if m["array"]:
            if i >= len(parts) or not parts[i].isdigit():
                return f"{key!r}: {m['name']} is an array, index expected"
            i += 1
        if m["type"] in PRIMITIVES:
            return None if i == len(parts) else f"{key!r}: {m['name']} is a {m['type']}"
        if i == len(parts):
            return f"{key!r}: {m['name']} is a structure"
        members = {x["name"]: x for x in model["shapes"][m["type"]]["members"]}
    return None


def self_check(model: dict, examples: dict) -> list[str]:
    problems = []
    if len(model["actions"]) != 58:
        problems.append(f"{len(model['actions'])} actions, expected 58")
    for a in model["actions"].values():
        for m in a["inputs"] + a["outputs"]:
            if m["type"] not in PRIMITIVES and m["type"] not in model["shapes"]:
                problems.append(f"{a['name']}.{m['name']}: undefined type {m['type']}")
    for s in model["shapes"].values():
        for m in s["members"]:
            if m["type"] not in PRIMITIVES and m["type"] not in model["shapes"]:
                problems.append(f"{s['name']}.{m['name']}: undefined type {m['type']}")
        for u in s["used_by"]:
            if u not in model["actions"]:
                problems.append(f"{s['name']}: used by unknown action {u}")
    for name, exs in examples.items():
        for ex in exs:
            for k, _ in ex["input"]:
                why = example_key_known(model, model["actions"][name], k)
                if why:
                    problems.append(f"{name} example {ex['title']!r}: {why}")
            given = {k.split(".")[0] for k, _ in ex["input"]}
            for m in model["actions"][name]["inputs"]:
                if m["required"] and m["name"] not in given:
                    problems.append(
                        f"{name} example {ex['title']!r}: lacks required {m['name']}"
                    )
            out = ex["output"]
            if out is not None and not (
                isinstance(out, dict) and "RequestId" in out.get("Response", {})
            ):
                problems.append(
                    f"{name} example {ex['title']!r}: output has no Response.RequestId"
                )
    snake = [a["snake_name"] for a in model["actions"].values()]
    if len(set(snake)) != len(snake):
        problems.append("snake_case names collide")
    return problems


def build_seed(corrections: dict) -> tuple[dict, dict]:
    """The model of the 2017 reference alone (58 actions), checked on its own."""
    seed = Seed(SEED.read_text(encoding="utf-8"), corrections)
    cats = seed.categories()
    bounds = seed.section_bounds([c[0] for c in cats])
    actions, examples = {}, {}
    for name, cat, feature in cats:
        i, j = bounds[name]
        actions[name], examples[name] = parse_action(
            seed, name, cat, feature, seed.lines[i:j]
        )
    model = {
        "actions": actions,
        "shapes": parse_shapes(seed),
        "common_errors": common_errors(seed),
    }
    problems = self_check(model, examples)
    if problems:
        raise SeedError("self-check of the seed failed:\n  " + "\n  ".join(problems))
    return model, examples


# ---------------------------------------------------------------------------------------------
# the current description (tools/facts/, written by tools/refresh_facts.py), merged with the seed

#: The description's element types -> the model's primitive types.
FACT_TYPES = {
    "string": "String",
    "int64": "Integer",
    "uint64": "Integer",
    "bool": "Boolean",
    "float": "Float",
    "datetime": "Timestamp",
    "datetime_iso": "Timestamp",
}
#: The scalar kinds each element type may be written as (the description's `type`).
FACT_KINDS = {
    "String": "string",
    "Timestamp": "string",
    "Integer": "int",
    "Boolean": "bool",
    "Float": "float",
}

#: The category of an action the reference does not have: the first of these words in its
#: name (the reference's own categories where the family is one of them), else "Instance".
NEW_CATEGORIES = [
    ("LaunchTemplate", "Launch Template"),
    ("HpcCluster", "HPC Cluster"),
    ("Chc", "CHC Host"),
    ("ResourcePool", "Resource Pool Pack"),
    ("DisasterRecover", "Instance"),
    ("Host", "Dedicated Host"),
    ("KeyPair", "Key"),
    ("Image", "Image"),
    ("Task", "Maintenance Task"),
]
#: How the words of an action's name are written in the summary made from it.
ACRONYMS = {
    "Chc": "CHC",
    "Hpc": "HPC",
    "Vpc": "VPC",
    "Fpga": "FPGA",
    "Os": "OS",
    "Vnc": "VNC",
}
NEW_ACTION_DESCRIPTION = (
    "Not in the 2017 reference: this action comes from the current published description of "
    "the API ({package} {version}), which gives its parameters and fields (listed below, with "
    "their types and required flags) but no English description."
)


def load_facts() -> dict:
    text = FACTS.read_text(encoding="utf-8")
    if not text.startswith('{"_generated": '):
        raise SeedError(
            f"{FACTS.relative_to(ROOT)}: not written by tools/refresh_facts.py"
        )
    return json.loads(text)


def category_of(name: str) -> str:
    for word, cat in NEW_CATEGORIES:
        if word in name:
            return cat
    return "Instance"


def summary_of(name: str) -> str:
    """`DescribeLaunchTemplates` -> `Describe launch templates` (made from the name only)."""
    words = re.findall(r"[A-Z][a-z0-9]*", name)
    out = [words[0]] + [ACRONYMS.get(w, w.lower()) for w in words[1:]]
    return " ".join(out)


def reachable(objects: dict, roots: list[str]) -> set[str]:
    """The data types reachable from the objects `roots` (through members, at any depth)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        for m in objects[todo.pop()]["members"]:
            t = m["member"]
            if t in objects and t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def fact_member(m: dict, where: str, as_input: bool, as_output: bool) -> dict:
    """One member of the description -> a model member (description filled in later)."""
    el = m["member"]
    ty = FACT_TYPES.get(el, el)
    if m["type"] == "object":
        if ty in PRIMITIVES:
            raise SeedError(f"{where}.{m['name']}: an object of {el}")
    elif m["type"] != "list" and FACT_KINDS.get(ty) != m["type"]:
        raise SeedError(f"{where}.{m['name']}: type {m['type']} of {el}")
    out_req = bool(m.get("output_required"))
    if m["name"] == "RequestId" and where.endswith(".outputs"):
        out_req = True  # every answer carries one; the description leaves it unflagged
    return {
        "name": m["name"],
        "type": ty,
        "array": m["type"] == "list",
        "required": bool(m.get("required")) if as_input else False,
        "output_required": out_req if as_output else False,
        "nullable": bool(m.get("value_allowed_null")),
        "deprecated": bool(m.get("disabled")),
        "in_reference": False,
        "description": "",
    }


def type_text(m: dict) -> str:
    return f"list of {m['type']}" if m["array"] else m["type"]


class Disagreements:
    """What the seed and the current description say differently, each a (where, fact) key
    with both values; checked against the "current" records of the corrections file."""

    def __init__(self, records: list[dict]):
        self.records = {(r["at"], r["fact"]): r for r in records}
        if len(self.records) != len(records):
            raise SeedError("corrections: a 'current' record is listed twice")
        self.found: dict[tuple[str, str], tuple] = {}

    def renamed(self, where: str) -> dict[str, str]:
        """Seed name -> current name of the renamed members of one container."""
        return {
            at.rsplit(".", 1)[1]: r["current"]
            for (at, fact), r in self.records.items()
            if fact == "renamed" and at.rsplit(".", 1)[0] == where
        }

    def add(self, at: str, fact: str, reference: object, current: object) -> None:
        self.found[(at, fact)] = (reference, current)

    def problems(self) -> list[str]:
        out = []
        for key, (ref, cur) in self.found.items():
            r = self.records.get(key)
            if r is None:
                rec = {"at": key[0], "fact": key[1], "reference": ref, "current": cur}
                out.append(
                    "unrecorded disagreement (add it, with its reason, under 'current' in "
                    f"{CORRECTIONS.relative_to(ROOT)}): {json.dumps(rec)}"
                )
            elif (r.get("reference"), r.get("current")) != (ref, cur):
                out.append(
                    f"'current' record {key} says reference={r.get('reference')!r}, "
                    f"current={r.get('current')!r}; the sources say {ref!r}, {cur!r}"
                )
            elif not r.get("why"):
                out.append(f"'current' record {key} gives no reason")
        for key in self.records:
            if key not in self.found:
                out.append(f"'current' record {key} no longer applies: remove it")
        return out


def merge_members(
    where: str,
    seed_members: list[dict] | None,
    members: list[dict],
    compare_required: bool,
    dis: Disagreements,
) -> list[dict]:
    """The current members, each with the seed's description where the reference has it;
    every disagreement with the seed noted in `dis`."""
    if seed_members is None:
        return members
    renames = dis.renamed(where)
    by_name = {}
    for sm in seed_members:
        cur = renames.pop(sm["name"], None)
        if cur is not None:
            dis.add(f"{where}.{sm['name']}", "renamed", sm["name"], cur)
        by_name[cur or sm["name"]] = sm
    for m in members:
        sm = by_name.pop(m["name"], None)
        if sm is None:
            continue
        m["in_reference"] = True
        m["description"] = sm["description"]
        at = f"{where}.{m['name']}"
        if (sm["type"], sm["array"]) != (m["type"], m["array"]):
            dis.add(at, "type", type_text(sm), type_text(m))
        if compare_required and "required" in sm and sm["required"] != m["required"]:
            dis.add(at, "required", sm["required"], m["required"])
    for sm in by_name.values():
        dis.add(f"{where}.{sm['name']}", "removed", type_text(sm), None)
    return members


def paginator_of(
    name: str, inputs: list[dict], outputs: list[dict], limit: dict | None
):
    """Offset/Limit pagination of a Describe action, or None."""
    ins = {m["name"] for m in inputs}
    if not (name.startswith("Describe") and {"Offset", "Limit"} <= ins):
        return None
    outs = {m["name"]: m for m in outputs}
    sets = [m["name"] for m in outputs if m["array"] and m["name"].endswith("Set")]
    if "TotalCount" not in outs or len(sets) != 1:
        raise SeedError(f"{name}: Offset/Limit, but TotalCount / result sets {sets}")
    return {
        "offset": "Offset",
        "limit": "Limit",
        "total_count": "TotalCount",
        "result": sets[0],
        "default_limit": (limit or {}).get("documented_default"),
        "max_limit": (limit or {}).get("documented_max"),
    }


def typed(ty: str, raw: str, where: str) -> object:
    """A flat value of a seed example (a string) as the model's type."""
    try:
        if ty == "Boolean":
            if raw.upper() not in ("TRUE", "FALSE"):
                raise ValueError(raw)
            return raw.upper() == "TRUE"
        if ty == "Integer":
            return int(raw)
        if ty == "Float":
            return float(raw)
    except ValueError:
        raise SeedError(f"{where}: {raw!r} is not a {ty}") from None
    return raw


def unflatten(model: dict, action: str, pairs: list[list[str]]) -> dict:
    """`Filters.0.Values.1=x` pairs of a seed example -> the parameters as JSON, typed by the
    model (the request a client method is called with)."""
    out: dict = {}
    for key, raw in pairs:
        where = f"{action} example key {key!r}"
        parts = key.split(".")
        members = {m["name"]: m for m in model["actions"][action]["inputs"]}
        obj = out  # the structure the next name is a member of
        i = 0
        while True:
            m = members.get(parts[i])
            if m is None:
                raise SeedError(f"{where}: {parts[i]!r} is not in the model")
            i += 1
            container: dict | list = obj
            slot: str | int = m["name"]
            if m["array"]:
                if i >= len(parts) or not parts[i].isdigit():
                    raise SeedError(f"{where}: {m['name']} is a list, index expected")
                container, slot = obj.setdefault(m["name"], []), int(parts[i])
                i += 1
                while len(container) <= slot:
                    container.append(None)
            primitive = m["type"] in PRIMITIVES
            if i == len(parts) or primitive:
                if not (i == len(parts) and primitive):
                    raise SeedError(f"{where}: {m['name']} is a {m['type']}")
                container[slot] = typed(m["type"], raw, where)
                break
            cur = (
                container[slot] if isinstance(container, list) else container.get(slot)
            )
            if cur is None:
                cur = container[slot] = {}
            obj = cur
            members = {x["name"]: x for x in model["shapes"][m["type"]]["members"]}
    return out


def validate(model: dict, members: list[dict], value: object, path: str) -> list[str]:
    """What the core's validation would say of `value` (a dict of parameters), as a list."""
    if not isinstance(value, dict):
        return [f"{path or 'parameters'}: not an object"]
    by = {m["name"]: m for m in members}
    out = []
    for k, v in value.items():
        p = f"{path}.{k}" if path else k
        m = by.get(k)
        if m is None:
            out.append(f"{p}: unknown parameter")
            continue
        items = v if m["array"] else [v]
        if m["array"] and not isinstance(v, list):
            out.append(f"{p}: expected a list")
            continue
        for i, x in enumerate(items):
            q = f"{p}[{i}]" if m["array"] else p
            t = m["type"]
            ok = {
                "String": lambda x: isinstance(x, str),
                "Timestamp": lambda x: isinstance(x, str),
                "Integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
                "Float": lambda x: (
                    isinstance(x, (int, float)) and not isinstance(x, bool)
                ),
                "Boolean": lambda x: isinstance(x, bool),
            }.get(t)
            if ok is not None:
                if not ok(x):
                    out.append(f"{q}: expected {t}, got {type(x).__name__}")
            else:
                out += validate(model, model["shapes"][t]["members"], x, q)
    for m in members:
        if m["required"] and m["name"] not in value:
            out.append(f"{path + '.' if path else ''}{m['name']}: missing required")
    return out


def current_examples(facts: dict, corrections: dict) -> dict[str, list[dict]]:
    """The description's examples, with the vendor's slips repaired as recorded."""
    fixes = corrections.get("current_examples", {})
    unknown = set(fixes) - set(facts["examples"])
    if unknown:
        raise SeedError(f"current_examples corrections for unknown actions {unknown}")
    out = {}
    for action, exs in facts["examples"].items():
        exs = json.loads(json.dumps(exs))  # a copy
        for fix in fixes.get(action, {}).get("set", []):
            ex = exs[fix["example"] - 1]
            *parents, last = fix["path"].split(".")
            holder = ex["params"]
            for p in parents:
                holder = holder[int(p)] if isinstance(holder, list) else holder[p]
            if holder.get(last) != fix["was"]:
                raise SeedError(
                    f"{action} example {fix['example']}: {fix['path']} is "
                    f"{holder.get(last)!r}, not {fix['was']!r}: the correction no longer applies"
                )
            holder[last] = fix["value"]
        recs = []
        for i, ex in enumerate(exs):
            rec = {
                "title": f"Current description, example {i + 1}",
                "source": "current",
            }
            rec["params"] = ex["params"]
            for k in ("http", "language", "region"):
                if k in ex:
                    rec[k] = ex[k]
            rec["output"] = ex["output"]
            recs.append(rec)
        out[action] = recs
    return out


def merge(seed_model: dict, seed_examples: dict, facts: dict, corrections: dict):
    """The model of the current surface: the facts' actions and types, the seed's words."""
    dis = Disagreements(corrections.get("current", []))
    objects = facts["objects"]
    fact_actions = facts["actions"]
    in_types = reachable(objects, [a["input"] for a in fact_actions.values()])
    out_types = reachable(objects, [a["output"] for a in fact_actions.values()])
    shape_names = sorted(n for n, o in objects.items() if "usage" in o)
    if set(shape_names) != in_types | out_types:
        raise SeedError(
            f"data types used and described differ: {sorted(set(shape_names) ^ (in_types | out_types))}"
        )
    src = facts["source"]
    gone = [a for a in seed_model["actions"] if a not in fact_actions]
    for a in gone:
        dis.add(a, "removed", "action", None)

    order = [a for a in seed_model["actions"] if a in fact_actions]
    cat_rank = {}
    for a in seed_model["actions"].values():
        cat_rank.setdefault(a["category"], len(cat_rank))
    new = sorted(
        (a for a in fact_actions if a not in seed_model["actions"]),
        key=lambda a: (cat_rank.get(category_of(a), len(cat_rank)), category_of(a), a),
    )
    actions = {}
    for name in order + new:
        fa = fact_actions[name]
        sa = seed_model["actions"].get(name)
        req_obj, resp_obj = objects[fa["input"]], objects[fa["output"]]
        inputs = [
            fact_member(m, f"{name}.inputs", True, False) for m in req_obj["members"]
        ]
        outputs = [
            fact_member(m, f"{name}.outputs", False, True) for m in resp_obj["members"]
        ]
        inputs = merge_members(f"{name}.inputs", sa and sa["inputs"], inputs, True, dis)
        outputs = merge_members(
            f"{name}.outputs", sa and sa["outputs"], outputs, False, dis
        )
        limit = next((m for m in req_obj["members"] if m["name"] == "Limit"), None)
        pag = paginator_of(name, inputs, outputs, limit)
        if sa and sa["paginator"] and pag:
            for k in ("default_limit", "max_limit"):
                if sa["paginator"][k] != pag[k]:
                    dis.add(f"{name}.paginator", k, sa["paginator"][k], pag[k])
        filters = {
            m["name"]: m["filter_names"]
            for m in req_obj["members"]
            if "filter_names" in m
        }
        a = {
            "name": name,
            "snake_name": snake_case(name),
            "category": sa["category"] if sa else category_of(name),
            "summary": sa["summary"] if sa else summary_of(name),
            "description": sa["description"]
            if sa
            else NEW_ACTION_DESCRIPTION.format(**src),
            "in_reference": sa is not None,
            "status": fa["status"],
            "deprecated": fa["status"] != "online",
            "rate_limit": sa["rate_limit"] if sa else None,
            "finance_regions": sa["finance_regions"] if sa else False,
            "region_required": sa["region_required"] if sa else True,
            "client_token": any(m["name"] == "ClientToken" for m in inputs),
            "idempotent": name.startswith(("Describe", "Inquiry", "Inquire")),
            "paginator": pag,
            "filters": filters,
            "inputs": inputs,
            "outputs": outputs,
            "errors": sa["errors"] if sa else [],
        }
        actions[name] = a

    for name, o in objects.items():
        if "usage" not in o:
            for m in o["members"]:
                if "filter_names" in m and not (
                    name.endswith("Request") and name[:-7] in fact_actions
                ):
                    raise SeedError(
                        f"{name}.{m['name']}: filter names of a nested Filter"
                    )

    shapes = {}
    for name in shape_names:
        o = objects[name]
        ss = seed_model["shapes"].get(name)
        members = [
            fact_member(m, name, name in in_types, name in out_types)
            for m in o["members"]
        ]
        members = merge_members(
            f"{name}.members", ss and ss["members"], members, name in in_types, dis
        )
        shapes[name] = {
            "name": name,
            "description": ss["description"] if ss else "",
            "in_reference": ss is not None,
            "usage": o["usage"],
            "used_by": [],
            "members": members,
        }
    for name in seed_model["shapes"]:
        if name not in shapes:
            dis.add(name, "removed", "data type", None)
    # used_by: the actions whose parameters or answer reach the type.
    for name, fa in fact_actions.items():
        for t in sorted(reachable(objects, [fa["input"], fa["output"]])):
            shapes[t]["used_by"].append(name)
    for s in shapes.values():
        s["used_by"].sort(key=list(actions).index)

    problems = dis.problems()
    model = {
        "metadata": {
            "service": "cvm",
            "api_version": "2017-03-12",
            "endpoint": "cvm.tencentcloudapi.com",
            "regional_endpoint": "cvm.{region}.tencentcloudapi.com",
            "finance_regions": FINANCE_REGIONS,
            "source": (
                "tools/seed/cvm-api-2017-03-12.txt (the 2017 reference) + "
                f"tools/facts/cvm-2017-03-12.json ({src['package']} {src['version']}) "
                "via tools/build_model.py"
            ),
            "description": {
                "package": src["package"],
                "version": src["version"],
                "description_version": facts["description_version"],
            },
            "primitive_types": list(PRIMITIVES),
        },
        "actions": actions,
        "shapes": shapes,
        "common_errors": seed_model["common_errors"],
        "waiters": waiters(),
    }
    examples: dict[str, list[dict]] = {}
    cur = current_examples(facts, corrections)
    for name in actions:
        exs = []
        for ex in seed_examples.get(name, []):
            try:
                params = unflatten(model, name, ex["input"])
            except SeedError as e:
                problems.append(f"reference example {ex['title']!r}: {e}")
                continue
            rec = {"title": ex["title"], "source": "reference"}
            rec.update({k: v for k, v in ex.items() if k != "title"})
            rec["params"] = params
            exs.append(rec)
        exs += cur.get(name, [])
        examples[name] = exs
    problems += final_check(model, examples, facts)
    if problems:
        raise SeedError("merge failed:\n  " + "\n  ".join(problems))
    return model, examples


def final_check(model: dict, examples: dict, facts: dict) -> list[str]:
    problems = []
    if set(model["actions"]) != set(facts["actions"]):
        problems.append("the model's actions are not the description's")
    for a in model["actions"].values():
        for m in a["inputs"] + a["outputs"]:
            if m["type"] not in PRIMITIVES and m["type"] not in model["shapes"]:
                problems.append(f"{a['name']}.{m['name']}: undefined type {m['type']}")
        for m in a["inputs"]:
            if not m["name"].isidentifier() or keyword.iskeyword(m["name"]):
                problems.append(f"{a['name']}.{m['name']}: not a Python identifier")
    for s in model["shapes"].values():
        for m in s["members"]:
            if m["type"] not in PRIMITIVES and m["type"] not in model["shapes"]:
                problems.append(f"{s['name']}.{m['name']}: undefined type {m['type']}")
    snake = [a["snake_name"] for a in model["actions"].values()]
    if len(set(snake)) != len(snake):
        problems.append("snake_case names collide")
    for name, exs in examples.items():
        inputs = model["actions"][name]["inputs"]
        for ex in exs:
            for p in validate(model, inputs, ex["params"], ""):
                problems.append(f"{name} example {ex['title']!r}: {p}")
            out = ex["output"]
            if out is not None and not (
                isinstance(out, dict) and "RequestId" in out.get("Response", {})
            ):
                problems.append(
                    f"{name} example {ex['title']!r}: output has no Response.RequestId"
                )
    return problems


def build() -> tuple[dict, dict]:
    corrections = json.loads(CORRECTIONS.read_text(encoding="utf-8"))
    seed_model, seed_examples = build_seed(corrections)
    return merge(seed_model, seed_examples, load_facts(), corrections)


def dump(obj: object) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--check", action="store_true", help="fail if the committed files are stale"
    )
    args = ap.parse_args()
    try:
        model, examples = build()
    except SeedError as e:
        print(f"build_model: {e}", file=sys.stderr)
        return 1
    outputs = {MODEL_OUT: dump(model), EXAMPLES_OUT: dump(examples)}
    if args.check:
        stale = [
            str(p.relative_to(ROOT))
            for p, text in outputs.items()
            if not p.exists() or p.read_text(encoding="utf-8") != text
        ]
        if stale:
            print(
                "build_model: stale, run tools/build_model.py: " + ", ".join(stale),
                file=sys.stderr,
            )
            return 1
        return 0
    for p, text in outputs.items():
        p.write_text(text, encoding="utf-8")
    n_ex = sum(len(v) for v in examples.values())
    print(
        f"{len(model['actions'])} actions, {len(model['shapes'])} types, {n_ex} examples -> "
        f"{MODEL_OUT.relative_to(ROOT)}, {EXAMPLES_OUT.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
