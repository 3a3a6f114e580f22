"""The model of the 2017 reference alone: actions, data types, common errors, its self-check."""

from __future__ import annotations

import re

from . import COMMON_INPUTS, PRIMITIVES, SEED, SeedError
from .seed_examples import parse_examples
from .text import Seed, cell_name, heading, parse_member, plain, snake_case, table_rows

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
