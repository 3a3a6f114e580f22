"""The seed and the facts merged into the model of the current surface."""

from __future__ import annotations

from . import FINANCE_REGIONS, PRIMITIVES, SeedError
from .check import final_check, unflatten
from .facts import (
    NEW_ACTION_DESCRIPTION,
    Disagreements,
    category_of,
    current_examples,
    fact_member,
    merge_members,
    paginator_of,
    reachable,
    summary_of,
)
from .text import snake_case
from .waiters import waiters


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

    problems = dis.problems() + add_errors(actions, corrections)
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


def add_errors(actions: dict, corrections: dict) -> list[str]:
    """The error codes of the current service an action answers that the reference predates
    (corrections' `errors`), added to its documented codes; a record that names an unknown
    action or a code already documented is a problem (it no longer applies)."""
    problems = []
    for name, rec in corrections.get("errors", {}).items():
        if name == "_doc":
            continue
        a = actions.get(name)
        if a is None:
            problems.append(f"errors correction for unknown action {name}")
            continue
        have = {e["code"] for e in a["errors"]}
        for e in rec["add"]:
            if e["code"] in have:
                problems.append(f"{name}: error {e['code']} is documented already")
                continue
            a["errors"].append({"code": e["code"], "description": e["description"]})
        a["errors"].sort(key=lambda e: e["code"])
    return problems
