#!/usr/bin/env python3
"""Build the CVM 2017-03-12 service model from the API reference and the current description.

    python tools/build_model.py            # writes the model and its examples (MODEL_OUT, EXAMPLES_OUT)
    python tools/build_model.py --check    # exits 1 if the committed files differ from a fresh build

Inputs, all committed (the build never depends on anything outside the repo, nor on the network):
- tools/seed/cvm-api-2017-03-12.txt: a text extraction of the vendor's PDF of the 2017 API
  reference, with tools/seed_corrections.json (every extraction slip this tool repairs, recorded
  as data). The source of the English descriptions, the rate limits and the error codes of its
  58 actions, and of its examples.
- tools/facts/cvm-2017-03-12.json: the facts of the vendor's current published description
  (tools/refresh_facts.py writes it from the pinned tccli wheel): its 106 actions, 74 data types,
  every member's type, list-ness, required / output_required / nullable / deprecated flags, the
  filter names, the Limit bounds and the official examples.

The facts decide the shape of the model (which actions, parameters and fields exist, their types
and flags); the seed adds what only it has (descriptions, rate limits, error codes, categories).
Where the two disagree on a fact the current description wins, and every such disagreement must
be recorded, with its reason, under "current" in tools/seed_corrections.json: the build fails on
one that is not recorded, and on a record that no longer applies. Standard library only.

The model (schema described in the README.md beside it) is the single source of truth for
validation, the client methods, the stubs, the docstrings and the emulator.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The outputs: the one place that says where the model lives (tools/gen_stubs.py and the tests
# read MODEL_OUT from here; the Rust core embeds both files). The parts are in tools/model/.
from freshness import write_or_check
from model import (
    CORRECTIONS,
    EXAMPLES_OUT,
    FACTS,
    MODEL_DIR,
    MODEL_OUT,
    ROOT,
    SeedError,
)
from model.facts import load_facts
from model.merge import merge
from model.seed import build_seed

__all__ = [
    "CORRECTIONS",
    "EXAMPLES_OUT",
    "FACTS",
    "MODEL_DIR",
    "MODEL_OUT",
    "build",
    "main",
]


def build() -> tuple[dict, dict]:
    corrections = json.loads(CORRECTIONS.read_text(encoding="utf-8"))
    seed_model, seed_examples = build_seed(corrections)
    return merge(seed_model, seed_examples, load_facts(), corrections)


def dump(obj: object) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--check", action="store_true", help="fail if the committed files are stale"
    )
    args = ap.parse_args()
    try:
        model, examples = build()
    except SeedError as e:
        print(f"build_model: {e}", file=sys.stderr)
        return 1
    outputs = {MODEL_OUT: dump(model), EXAMPLES_OUT: dump(examples)}
    rc = write_or_check("build_model", outputs, args.check)
    if rc or args.check:
        return rc
    n_ex = sum(len(v) for v in examples.values())
    print(
        f"{len(model['actions'])} actions, {len(model['shapes'])} types, {n_ex} examples -> "
        f"{MODEL_OUT.relative_to(ROOT)}, {EXAMPLES_OUT.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
