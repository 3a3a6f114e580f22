"""MkDocs hook (``hooks:`` in mkdocs.yml): the API reference is generated from the service
model at every build, as files MkDocs holds in memory, and put in the navigation. Nothing
generated is written into ``docs/``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mkdocs.structure.files import File

import docgen


def on_config(config):
    nav = config["nav"]
    if nav is not None and docgen.nav() not in nav:
        at = next(
            (
                i
                for i, item in enumerate(nav)
                if isinstance(item, dict) and "Changelog" in item
            ),
            len(nav),
        )
        nav.insert(at, docgen.nav())
    return config


def on_files(files, config):
    for path, text in docgen.pages().items():
        files.append(File.generated(config, path, content=text))
    return files
