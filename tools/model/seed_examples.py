"""The examples of the 2017 reference: code blocks, JSON repair, the flattened Input URLs."""

from __future__ import annotations

import json
import re

from . import SeedError
from .text import Seed, heading


def code_blocks(lines: list[str]) -> list[str]:
    blocks, cur = [], None
    for ln in lines:
        if ln.strip().startswith("```"):
            if cur is None:
                cur = []
            else:
                blocks.append("\n".join(cur))
                cur = None
            continue
        if cur is not None:
            cur.append(ln)
    if cur is not None:
        raise SeedError("unterminated code block")
    return blocks


def repair_json(text: str) -> tuple[object, bool]:
    """Parse an Output example. The extraction loses or repeats closing brackets at page breaks;
    when plain parsing fails, rebuild the bracket structure: a `"key":` met inside a list closes
    the list, a closer right after a comma is a stray, a closer that does not match closes what is open first, closers with nothing open
    are dropped, and whatever is still open at the end is closed."""
    try:
        return json.loads(text), False
    except json.JSONDecodeError:
        pass
    # Long strings broken across lines: join the pieces.
    chars, in_str, esc = [], False, False
    for ch in text:
        if in_str:
            if ch == "\n":
                continue
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        chars.append(ch)
    text = "".join(chars)
    tok_re = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+)')
    toks = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = tok_re.match(text, pos)
        if not m:
            raise json.JSONDecodeError("cannot tokenize", text, pos)
        toks.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    out: list[str] = []
    stack: list[str] = []
    closer = {"{": "}", "[": "]"}
    for i, t in enumerate(toks):
        is_key = t.startswith('"') and i + 1 < len(toks) and toks[i + 1] == ":"
        if is_key and stack and stack[-1] == "[":
            had_comma = bool(out) and out[-1] == ","
            if had_comma:
                out.pop()
            while stack and stack[-1] == "[":
                out.append(closer[stack.pop()])
            out.append(",")
        if t in "{[":
            stack.append(t)
        elif t in "}]":
            if (
                not stack or out[-1] == ","
            ):  # a comma promised more: the closer is a stray
                continue
            while stack and closer[stack[-1]] != t:
                out.append(closer[stack.pop()])
            if not stack:
                continue
            stack.pop()
        out.append(t)
        if not stack and t in "}]":
            break
    while stack:
        out.append(closer[stack.pop()])
    return json.loads(" ".join(out)), True


def parse_input_url(text: str) -> tuple[str, list[list[str]], str | None]:
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    first = lines[0]
    m = re.match(r"https?://[^?]+\?Action=(\w+)$", first)
    if not m:
        raise SeedError(f"input example does not start with the URL: {first!r}")
    pairs, region = [], None
    for ln in lines[1:]:
        ln = ln.lstrip("&").strip()
        if ln.startswith("<Common request parameters>"):
            continue
        if "=" not in ln:
            raise SeedError(f"bad input example line {ln!r} in {text[:60]!r}")
        k, v = ln.split("=", 1)
        if k == "Region":
            region = v
            continue
        pairs.append([k, v])
    return m.group(1), pairs, region


def parse_examples(seed: Seed, action: str, lines: list[str]) -> list[dict]:
    # Split on the 'Example N' headings, then each on its 'Input example' / 'Output example'.
    examples, cur, part = [], None, None
    parts: dict[str, list[str]] = {}
    for ln in lines:
        h = heading(ln)
        bold = re.fullmatch(r"\*\*(.*)\*\*", ln.strip())
        if bold:  # '**Output example**' stands for a heading in two places
            h = bold.group(1).strip()
        if h and re.match(r"Example\s*\d", h):
            cur = {"title": re.sub(r"^Example\s*\d+:?\s*", "", h)}
            parts = {"input": [], "output": []}
            examples.append((cur, parts))
            part = None
            continue
        if h and h.lower() == "input example":
            part = "input"
            continue
        if h and h.lower() == "output example":
            part = "output"
            continue
        if h:
            part = None
            continue
        if part and cur is not None:
            parts[part].append(ln)
    fix = seed.corrections["examples"].get(action, {})
    out = []
    for cur, parts in examples:
        blocks = code_blocks(
            parts["input"]
        )  # page breaks split one URL into several blocks
        if not blocks:
            raise SeedError(f"{action}: input example without a code block")
        url_action, pairs, region = parse_input_url("\n".join(blocks))
        if url_action != action and fix.get("action") != action:
            raise SeedError(f"{action}: example URL says Action={url_action}")
        renames = fix.get("rename_keys", {})
        pairs = [
            [renames.get(k, k), v]
            for k, v in pairs
            if k not in fix.get("drop_keys", [])
        ]
        pairs += [list(kv) for kv in fix.get("add_keys", [])]
        ex = {"title": cur["title"], "input": pairs}
        if region:
            ex["region"] = region
        oblocks = code_blocks(parts["output"])
        if oblocks:
            otext = "\n".join(oblocks)
            for pat, rep in fix.get("output_regex", []):
                otext, n = re.subn(pat, rep, otext)
                if n == 0:
                    raise SeedError(
                        f"{action}: output correction no longer applies: {pat!r}"
                    )
            try:
                ex["output"], repaired = repair_json(otext)
            except json.JSONDecodeError as e:
                raise SeedError(
                    f"{action}: output example {cur['title']!r}: {e}\n"
                    + "\n".join(oblocks)
                )
            if repaired:
                ex["output_repaired"] = True
        else:
            ex["output"] = None
        out.append(ex)
    return out
