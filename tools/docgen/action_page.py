"""One reference page per action of the service model."""

from __future__ import annotations

import json
import pprint

from .text import (
    PRIMITIVES,
    action_path,
    cell,
    esc,
    exception_class,
    paragraphs,
    rel,
    type_link,
)

NOT_IN_REFERENCE = (
    '!!! note "Not in the 2017 API reference"\n'
    "    This action comes from the current published description of the API "
    "({source}), which gives its parameters, fields, types and required flags but no "
    "English description, rate limit or error codes."
)


def signature(stub: str, asynchronous: bool) -> str:
    """The method exactly as the stubs declare it (``gen_stubs.method_stub`` without its
    docstring), inside its class."""
    head = stub.split('"""', 1)[0].rstrip()
    return f"class {'AsyncClient' if asynchronous else 'Client'}:\n{head} ..."


def _member_rows(members: list[dict], page: str, inputs: bool) -> list[str]:
    if inputs:
        rows = [
            "| Parameter | Type | Required | Description |",
            "| --- | --- | --- | --- |",
        ]
    else:
        rows = [
            "| Field | Type | Always present | Description |",
            "| --- | --- | --- | --- |",
        ]
    for m in members:
        name = f"`{m['name']}`"
        notes = []
        if m.get("deprecated"):
            name += " **deprecated**"
            notes.append(
                "**Deprecated** in the current description: still accepted and sent, "
                "with a `DeprecationWarning`."
            )
        if not inputs and m.get("nullable"):
            notes.append("May be `null`.")
        text = cell(m["description"]) or (
            "*Not in the 2017 reference.*" if not m.get("in_reference", True) else ""
        )
        desc = "<br>".join(notes + ([text] if text else []))
        flag = m.get("required") if inputs else m.get("output_required")
        rows.append(
            f"| {name} | {type_link(m, page)} | {'yes' if flag else 'no'} | {desc} |"
        )
    return rows


def _call(snake: str, params: dict, receiver: str = "client") -> str:
    one = ", ".join(f"{k}={v!r}" for k, v in params.items())
    line = f"resp = {receiver}.{snake}({one})"
    if len(line) <= 88:
        return line
    out = [f"resp = {receiver}.{snake}("]
    for k, v in params.items():
        text = pprint.pformat(v, width=80 - len(k), sort_dicts=False)
        text = text.replace("\n", "\n" + " " * (5 + len(k)))
        out.append(f"    {k}={text},")
    out.append(")")
    return "\n".join(out)


def _examples(action: dict, examples: list[dict]) -> list[str]:
    if not examples:
        return ["The model has no example for this action."]
    out: list[str] = []
    for ex in examples:
        out += [f"### {esc(ex['title'])}", ""]
        region = ex.get("region", "ap-guangzhou")
        code = [
            "import tccvm",
            "",
            f'client = tccvm.Client(region="{region}")',
            _call(action["snake_name"], ex.get("params") or {}),
        ]
        out += ["```python", *code, "```", ""]
        if ex.get("output") is not None:
            body = json.dumps(ex["output"], indent=2, ensure_ascii=False)
            out += ['??? example "The answer"', "    ```json"]
            out += ["    " + line for line in body.split("\n")]
            out += ["    ```", ""]
        src = (
            "the 2017 API reference"
            if ex.get("source") == "reference"
            else ("the current published description")
        )
        out += [f"*From {src}.*", ""]
    return out


def _facts(action: dict, waiters: dict, page: str) -> list[str]:
    name = action["name"]
    rate = action.get("rate_limit")
    rows = ["| | |", "| --- | --- |", f"| Family | {esc(action['category'])} |"]
    rows.append(
        f"| Rate limit | {rate} requests per second (`rate_limit=True` holds the client to it) |"
        if rate is not None
        else "| Rate limit | not documented (`rate_limit=True` does not hold it back) |"
    )
    pag = action.get("paginator")
    if pag:
        size = f", at most {pag['max_limit']} a page" if pag.get("max_limit") else ""
        rows.append(
            f'| Paginates | yes: `client.paginate("{name}", ...)` yields the items of '
            f"`{pag['result']}`, page by page over `{pag['offset']}`/`{pag['limit']}`{size} "
            "([Pagination](" + rel("guides/pagination.md", page) + ")) |"
        )
    else:
        rows.append("| Paginates | no |")
    mine = [w for w, spec in waiters.items() if spec["operation"] == name]
    if mine:
        calls = ", ".join(f'`client.wait("{w}", ...)`' for w in mine)
        rows.append(
            f"| Waiters | {calls} ([Waiters](" + rel("guides/waiters.md", page) + ")) |"
        )
    else:
        rows.append("| Waiters | none |")
    retry = (
        "yes (an idempotent action: retried after timeouts and dropped connections too)"
        if action["idempotent"]
        else "only when it surely did not reach the service, or with its `ClientToken`"
        if action["client_token"]
        else "only when it surely did not reach the service (not idempotent)"
    )
    rows.append(f"| Retried | {retry} |")
    if action["client_token"]:
        rows.append(
            "| ClientToken | taken; filled in by the client when not given, and kept "
            "across retries |"
        )
    rows.append(
        f"| Finance regions | {'supported' if action['finance_regions'] else 'not documented'} |"
    )
    rows.append(
        f"| In the 2017 reference | {'yes' if action['in_reference'] else '**no**'} |"
    )
    return rows


def render(action: dict, stubs: tuple[str, str], ctx: dict) -> str:
    """The Markdown of an action's page. ``stubs``: its sync and async method stubs;
    ``ctx``: ``marker``, ``waiters``, ``examples``, ``source``."""
    name = action["name"]
    page = action_path(name)
    out = [ctx["marker"], f"# {name}", ""]
    if action.get("deprecated"):
        out += [
            '!!! warning "Deprecated"',
            (
                f"    The current description gives this action the status "
                f"`{action.get('status')}`."
            ),
            "",
        ]
    if not action["in_reference"]:
        out += [NOT_IN_REFERENCE.format(source=ctx["source"]), ""]
    out += [f"**{esc(action['summary'])}.**", ""]
    if action["in_reference"]:  # outside it, the model's description is the note above
        out += [paragraphs(action["description"]), ""]
    out += _facts(action, ctx["waiters"], page) + [""]
    out += ["## Signature", "", "```python"]
    out += [signature(stubs[0], False), "", signature(stubs[1], True), "```", ""]
    out += [
        (
            f"`types` is `tccvm.types`; the answer is the object inside `Response`, "
            f"a `dict` typed as `types.{name}Response`."
        ),
        f'`client.call("{name}", {{...}})` sends the same request without validation.',
        "",
        "## Parameters",
        "",
    ]
    if action["inputs"]:
        out += _member_rows(action["inputs"], page, inputs=True) + [""]
    else:
        out += ["This action takes no parameters.", ""]
    for param, names in (action.get("filters") or {}).items():
        out += [f"`{param}` names: " + ", ".join(f"`{n}`" for n in names) + ".", ""]
    nested = sorted({m["type"] for m in action["inputs"]} - PRIMITIVES)
    if nested:
        links = ", ".join(
            f"[`{t}`]({rel(f'reference/types/{t}.md', page)})" for t in nested
        )
        out += [f"Data types of the parameters: {links}.", ""]
    out += ["## Response", ""]
    out += _member_rows(action["outputs"], page, inputs=False) + [""]
    out += ["## Errors", ""]
    errors_page = rel("reference/errors.md", page)
    if action["errors"]:
        out += [
            (
                "Each code is raised as its own class, a subclass of `tccvm.TencentCloudError`, "
                "also reachable as `client.exceptions.<Name>`."
            ),
            "",
            "| Code | Exception class | Description |",
            "| --- | --- | --- |",
        ]
        for e in action["errors"]:
            out.append(
                f"| `{e['code']}` | `{exception_class(e['code'])}` | {cell(e['description'])} |"
            )
        out.append("")
    else:
        out += [
            "The 2017 reference documents no error codes of its own for this action.",
            "",
        ]
    out += [f"Every action may also raise the [common errors]({errors_page}).", ""]
    out += ["## Examples", ""] + _examples(action, ctx["examples"].get(name, []))
    return "\n".join(out).rstrip("\n") + "\n"
