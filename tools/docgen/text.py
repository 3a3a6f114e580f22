"""Markdown building blocks for the generated reference: escaping the model's plain text,
turning its descriptions into paragraphs and lists, table cells, links to data types, and the
names users write (exception classes, page paths)."""

from __future__ import annotations

import re

PRIMITIVES = {"String", "Integer", "Boolean", "Float", "Timestamp"}

# Characters Markdown (Python-Markdown and its tables) would read as syntax in the model's
# plain text: escaped with a backslash, except < and > (HTML), written as entities.
_SPECIAL = re.compile(r"([\\`*_\[\]{}#+!|~])")


def esc(text: str) -> str:
    """Plain text as Markdown that renders as exactly that text (inline)."""
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def paragraphs(text: str) -> str:
    """A model description (plain lines; list items as "- " lines) as Markdown blocks."""
    out: list[str] = []
    in_list = False
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        item = line.startswith("- ")
        if item:
            if not in_list:
                out.append("")
            out.append("- " + esc(line[2:].strip()))
        else:
            out.append("")
            out.append(esc(line))
        in_list = item
    return "\n".join(out).strip("\n")


def cell(text: str) -> str:
    """Plain text as one Markdown table cell (its lines joined by line breaks)."""
    lines = [esc(x.strip()) for x in text.split("\n") if x.strip()]
    return "<br>".join(lines)


def action_path(name: str) -> str:
    return f"reference/actions/{name}.md"


def type_path(name: str) -> str:
    return f"reference/types/{name}.md"


def rel(target: str, page: str) -> str:
    """The relative link from the page at ``page`` to the page at ``target`` (both paths
    inside the docs folder)."""
    here = page.split("/")[:-1]
    there = target.split("/")
    common = 0
    while common < min(len(here), len(there) - 1) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:])


def type_link(member: dict, page: str) -> str:
    """A member's type: a primitive's name, or a link to the data type's page; a list says so."""
    t = member["type"]
    name = f"`{t}`" if t in PRIMITIVES else f"[`{t}`]({rel(type_path(t), page)})"
    return f"list of {name}" if member["array"] else name


def exception_class(code: str) -> str:
    """The class raised for an error code: the code without its dots, in ``tccvm.errors``
    (``InvalidInstanceId.NotFound`` -> ``tccvm.errors.InvalidInstanceIdNotFound``)."""
    return "tccvm.errors." + code.replace(".", "")


def anchor(text: str) -> str:
    """The id Python-Markdown's toc extension gives a heading (default slugify)."""
    slug = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", slug)
