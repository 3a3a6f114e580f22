"""The current description (tools/facts/, written by tools/refresh_facts.py): read, its members
turned into the model's, the recorded disagreements with the seed, its examples repaired."""

from __future__ import annotations

import json
import re

from . import CORRECTIONS, FACTS, PRIMITIVES, ROOT, SeedError

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
