"""Checks of the merged model: seed examples typed and unflattened, parameters validated as the
core does, the final consistency check."""

from __future__ import annotations

import keyword

from . import PRIMITIVES, SeedError


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
