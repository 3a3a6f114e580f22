"""Docstrings of the per-action methods, from the service model (pure functions: used at run
time by ``tccvm._methods`` and by ``tools/gen_stubs.py`` for the stubs)."""

from __future__ import annotations

import textwrap
from typing import Any

__all__ = ["docstring", "python_type"]

_PRIMITIVE_PY = {
    "String": "str",
    "Timestamp": "str",
    "Integer": "int",
    "Boolean": "bool",
    "Float": "float",
}


def python_type(member: dict[str, Any]) -> str:
    """The Python spelling of a member's type: ``str``, ``list[Filter]``, ``Placement``."""
    t = _PRIMITIVE_PY.get(member["type"], member["type"])
    return f"list[{t}]" if member["array"] else t


def _indent(text: str, n: int = 4) -> str:
    return textwrap.indent(text, " " * n)


def _first_sentence(text: str) -> str:
    line = text.split("\n", 1)[0].strip()
    cut = line.find(". ")
    return line[: cut + 1] if cut > 0 else line


#: What a member outside the 2017 reference says instead of a description.
NOT_IN_REFERENCE = "Not in the 2017 reference (from the current description)."
DEPRECATED = (
    "Deprecated in the current description: still accepted, with a DeprecationWarning."
)


def _description(m: dict[str, Any]) -> str:
    text = m["description"] or (
        NOT_IN_REFERENCE if not m.get("in_reference", True) else "(undocumented)"
    )
    if m.get("deprecated"):
        text = DEPRECATED + "\n" + text
    return text


def _member_doc(
    m: dict[str, Any], with_required: bool, shapes: dict[str, Any] | None = None
) -> str:
    head = f"{m['name']} : {python_type(m)}"
    if with_required:
        head += "" if m.get("required") else ", optional"
    body = _description(m)
    shape = (shapes or {}).get(m["type"])
    if shape and with_required:
        keys = []
        for x in shape["members"]:
            req = ", required" if x.get("required") else ""
            what = _first_sentence(x["description"]) or (
                "not in the 2017 reference" if not x.get("in_reference", True) else ""
            )
            if x.get("deprecated"):
                what = "deprecated; " + what
            keys.append(f"- {x['name']} ({python_type(x)}{req}): {what}")
        body += f"\nKeys of {m['type']} (a dict):\n" + "\n".join(keys)
    return head + "\n" + _indent(body)


def docstring(action: dict[str, Any], shapes: dict[str, Any] | None = None) -> str:
    """The docstring of an action's method (numpydoc sections, plain text)."""
    parts = [f"{action['name']}: {action['summary']}.", "", action["description"]]
    parts += ["", "Parameters", "----------"]
    if action["inputs"]:
        parts += [_member_doc(m, True, shapes) for m in action["inputs"]]
    else:
        parts.append("This action takes no parameters.")
    parts += [
        "",
        "Returns",
        "-------",
        "dict",
        _indent("The object inside ``Response``:"),
    ]
    parts += [_indent(_member_doc(m, False)) for m in action["outputs"]]
    if action.get("rate_limit") is None:
        notes = [
            (
                "Rate limit: not documented (the action is not in the 2017 reference), "
                "so rate_limit=True does not hold it back."
            )
        ]
    else:
        notes = [f"Rate limit: {action['rate_limit']} requests per second."]
    for param, names in (action.get("filters") or {}).items():
        notes.append(f"{param} names: " + ", ".join(names) + ".")
    pag = action.get("paginator")
    if pag:
        limit = ""
        if pag.get("default_limit") or pag.get("max_limit"):
            limit = f" (default {pag.get('default_limit')}, at most {pag.get('max_limit')} per page)"
        notes.append(
            f"Paginated by {pag['offset']}/{pag['limit']}{limit} over {pag['result']}: "
            f"client.paginate({action['name']!r}, ...) iterates over every item."
        )
    if action["client_token"]:
        notes.append(
            "Takes a ClientToken: the request is safe to retry with the same token."
        )
    if action["finance_regions"]:
        notes.append(
            "Supported in the finance regions (ap-shanghai-fsi, ap-shenzhen-fsi)."
        )
    if action["errors"]:
        notes.append(
            "Documented error codes: "
            + ", ".join(e["code"] for e in action["errors"])
            + "."
        )
    parts += ["", "Notes", "-----"] + notes
    parts += [
        "",
        "Raises",
        "------",
        "ParamValidationError",
        _indent(
            "Before anything is sent, for an unknown parameter, a wrong type or a missing required one."
        ),
        "TencentCloudError",
        _indent(
            "The service answered with an error (``code``, ``message``, ``request_id``)."
        ),
        "TransportError",
        _indent("The request could not be completed once retries are exhausted."),
    ]
    return "\n".join(parts)
