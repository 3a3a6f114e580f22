"""The reference's index by family, and the page of the errors every action may raise."""

from __future__ import annotations

from .text import action_path, cell, esc, exception_class, rel


def families(actions: dict) -> dict[str, list[dict]]:
    """Actions by family (the model's ``category``), in the model's order."""
    out: dict[str, list[dict]] = {}
    for a in actions.values():
        out.setdefault(a["category"], []).append(a)
    return out


def index(model: dict, ctx: dict) -> str:
    page = "reference/index.md"
    actions = model["actions"]
    in_ref = sum(1 for a in actions.values() if a["in_reference"])
    meta = model["metadata"]
    out = [ctx["marker"], "# API reference", ""]
    out += [
        (
            f"Every action of CVM API {meta['api_version']} as the model has it: "
            f"{len(actions)} actions ({in_ref} of the 2017 API reference, "
            f"{len(actions) - in_ref} newer ones from the current published description, "
            f"{ctx['source']}), and their [data types]"
            f"({rel('reference/types/index.md', page)}). "
            "Generated from the service model by `tools/gen_docs.py`: each page is what the "
            "client validates against."
        ),
        "",
        (
            "Each action is a method of `tccvm.Client` and a coroutine of `tccvm.AsyncClient`, "
            "its name in snake case (`DescribeInstances` -> `describe_instances`). "
            f"Errors every action may raise: [common errors]({rel('reference/errors.md', page)})."
        ),
        "",
    ]
    for fam, members in families(actions).items():
        out += [f"## {esc(fam)}", ""]
        out += [
            "| Action | Method | What it does | Rate limit |",
            "| --- | --- | --- | --- |",
        ]
        for a in members:
            what = esc(a["summary"])
            tags = []
            if not a["in_reference"]:
                tags.append("*not in the 2017 reference*")
            if a.get("paginator"):
                tags.append("paginates")
            if a.get("deprecated"):
                tags.append("**deprecated**")
            if tags:
                what += " (" + ", ".join(tags) + ")"
            rate = f"{a['rate_limit']}/s" if a.get("rate_limit") is not None else "-"
            link = f"[{a['name']}]({rel(action_path(a['name']), page)})"
            out.append(f"| {link} | `{a['snake_name']}` | {what} | {rate} |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def errors(model: dict, ctx: dict) -> str:
    out = [ctx["marker"], "# Common errors", ""]
    out += [
        (
            "Any action may answer with these codes (authentication, and the errors common to "
            "the whole API). Each is raised as its own class, named after the code without its "
            "dots, a subclass of `tccvm.TencentCloudError` (so `except tccvm.TencentCloudError:` "
            "catches them all), also reachable as `client.exceptions.<Name>`. The codes of one "
            "action are on its page."
        ),
        "",
        "| Code | Exception class | Description |",
        "| --- | --- | --- |",
    ]
    for e in model["common_errors"]:
        out.append(
            f"| `{e['code']}` | `{exception_class(e['code'])}` | {cell(e['description'])} |"
        )
    out += [
        "",
        (
            "Beside the service's errors: `tccvm.ParamValidationError` (before anything is sent), "
            "`tccvm.TransportError` (no usable answer), `tccvm.CredentialError`, "
            "`tccvm.WaiterError`; see [Errors and retries]"
            f"({rel('guides/errors-and-retries.md', 'reference/errors.md')})."
        ),
    ]
    return "\n".join(out) + "\n"
