#!/usr/bin/env python3
"""Build the CVM 2017-03-12 service model from the API reference text.

    python tools/build_model.py            # writes crates/core/src/model/cvm-2017-03-12.json and examples.json
    python tools/build_model.py --check    # exits 1 if the committed files differ from a fresh build

Input: tools/seed/cvm-api-2017-03-12.txt (a text extraction of the vendor's PDF, copied into the
repo so the build never depends on anything outside it) and tools/seed_corrections.json (every
extraction slip this tool repairs, recorded as data). Standard library only.

The model (schema described in crates/core/src/model/README.md) is the single source of truth for
validation, the client methods, the stubs, the docstrings and the emulator.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tools" / "seed" / "cvm-api-2017-03-12.txt"
CORRECTIONS = ROOT / "tools" / "seed_corrections.json"
MODEL_OUT = ROOT / "crates" / "core" / "src" / "model" / "cvm-2017-03-12.json"
EXAMPLES_OUT = ROOT / "crates" / "core" / "src" / "model" / "examples.json"

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


def build() -> tuple[dict, dict]:
    corrections = json.loads(CORRECTIONS.read_text(encoding="utf-8"))
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
        "metadata": {
            "service": "cvm",
            "api_version": "2017-03-12",
            "endpoint": "cvm.tencentcloudapi.com",
            "regional_endpoint": "cvm.{region}.tencentcloudapi.com",
            "finance_regions": FINANCE_REGIONS,
            "source": "tools/seed/cvm-api-2017-03-12.txt via tools/build_model.py",
            "primitive_types": list(PRIMITIVES),
        },
        "actions": actions,
        "shapes": parse_shapes(seed),
        "common_errors": common_errors(seed),
        "waiters": waiters(),
    }
    problems = self_check(model, examples)
    if problems:
        raise SeedError("self-check failed:\n  " + "\n  ".join(problems))
    return model, examples


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
