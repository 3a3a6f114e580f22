#!/usr/bin/env python3
"""The API reference of the documentation site, generated from the service model
(``tools/docgen/``). MkDocs runs it at every build through ``tools/docgen/mkdocs_hook.py``,
so nothing generated is committed and the reference cannot fall behind the model.

    python tools/gen_docs.py --out DIR       # write the generated Markdown pages under DIR
    python tools/gen_docs.py --check SITE    # exit 1 unless the built site SITE has every
                                             # generated page, each from the current model
    python tools/gen_docs.py --list          # the generated pages' paths

The site: ``mkdocs build --strict`` (config ``mkdocs.yml``, output ``build/docs-site``).
Standard library only (the hook needs MkDocs, which runs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docgen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--out", type=Path, help="write the generated pages under this folder"
    )
    what.add_argument("--check", type=Path, metavar="SITE", help="check a built site")
    what.add_argument("--list", action="store_true", help="list the generated pages")
    args = parser.parse_args()
    pages = docgen.pages()
    if args.list:
        print("\n".join(pages))
        return 0
    if args.out:
        for path, text in pages.items():
            target = args.out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        print(f"wrote {len(pages)} pages under {args.out}")
        return 0
    problems = docgen.check_site(args.check)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(
            f"{len(problems)} of {len(pages)} generated pages missing or stale in "
            f"{args.check}: rebuild the site (mkdocs build --strict)",
            file=sys.stderr,
        )
        return 1
    print(
        f"{args.check}: all {len(pages)} generated pages present, from the current model"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
