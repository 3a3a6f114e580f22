"""One reference page per data type of the service model."""

from __future__ import annotations

from .text import action_path, cell, esc, paragraphs, rel, type_link, type_path

USAGE = {
    "in": "Requests carry it (a parameter, or inside one).",
    "out": "Answers carry it (a field of a response, or inside one).",
    "both": "Requests and answers both carry it.",
}


def render(shape: dict, contained_in: list[str], ctx: dict) -> str:
    """The Markdown of a data type's page; ``contained_in``: the types with a member of it."""
    name = shape["name"]
    page = type_path(name)
    out = [ctx["marker"], f"# {name}", ""]
    if not shape.get("in_reference", True):
        out += [
            '!!! note "Not in the 2017 API reference"',
            (
                "    This data type comes from the current published description of the API "
                f"({ctx['source']}), which gives its members and their types but no English "
                "description."
            ),
            "",
        ]
    if shape.get("description"):
        out += [paragraphs(shape["description"]), ""]
    out += [
        USAGE.get(shape.get("usage", ""), ""),
        f"In Python it is a `dict`, typed as `tccvm.types.{name}`.",
        "",
    ]
    out += ["## Members", ""]
    out += [
        "| Member | Type | Required in a request | Always in an answer | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m in shape["members"]:
        member = f"`{m['name']}`"
        notes = []
        if m.get("deprecated"):
            member += " **deprecated**"
            notes.append("**Deprecated** in the current description: still accepted.")
        if m.get("nullable"):
            notes.append("May be `null` in an answer.")
        text = cell(m["description"]) or (
            "*Not in the 2017 reference.*" if not m.get("in_reference", True) else ""
        )
        desc = "<br>".join(notes + ([text] if text else []))
        req = "yes" if m.get("required") else "no"
        always = "yes" if m.get("output_required") else "no"
        out.append(f"| {member} | {type_link(m, page)} | {req} | {always} | {desc} |")
    out.append("")
    if shape.get("used_by"):
        out += ["## Used by", ""]
        out += [f"- [{a}]({rel(action_path(a), page)})" for a in shape["used_by"]] + [
            ""
        ]
    if contained_in:
        out += ["## Contained in", ""]
        out += [f"- [`{t}`]({rel(type_path(t), page)})" for t in contained_in] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def containers(shapes: dict) -> dict[str, list[str]]:
    """For each type, the types that have a member of it."""
    found: dict[str, set[str]] = {n: set() for n in shapes}
    for outer, s in shapes.items():
        for m in s["members"]:
            if m["type"] in found:
                found[m["type"]].add(outer)
    return {n: sorted(v) for n, v in found.items()}


def index(shapes: dict, ctx: dict) -> str:
    page = "reference/types/index.md"
    out = [ctx["marker"], "# Data types", ""]
    out += [
        (
            f"The {len(shapes)} data types of the model: dicts in Python, each typed in "
            "`tccvm.types`. Primitive types: `String`, `Integer`, `Boolean`, `Float`, "
            "`Timestamp` (a string)."
        ),
        "",
        "| Data type | Description | Used by |",
        "| --- | --- | --- |",
    ]
    for name, s in sorted(shapes.items()):
        desc = (
            esc(s["description"].split("\n", 1)[0])
            if s.get("description")
            else (
                "*Not in the 2017 reference.*"
                if not s.get("in_reference", True)
                else ""
            )
        )
        n = len(s.get("used_by", []))
        link = f"[`{name}`]({rel(type_path(name), page)})"
        out.append(f"| {link} | {desc} | {n} action{'s' if n != 1 else ''} |")
    return "\n".join(out) + "\n"
