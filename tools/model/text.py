"""Reading the seed text: text helpers, the `Seed` (sections, corrections), tables and members."""

from __future__ import annotations

import html
import re

from . import SeedError

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
