"""The parts of tools/build_model.py: where the inputs and outputs live, and the one error.

- text.py: reading the seed text (helpers, the Seed, its tables and members)
- seed.py: the model of the 2017 reference alone (actions, types, common errors, its self-check)
- seed_examples.py: the reference's examples (code blocks, JSON repair, flattened inputs)
- waiters.py: the waiters, as data
- facts.py: the current description (tools/facts/) read, its members and corrections
- merge.py: the seed and the facts merged into the model of the current surface
- check.py: the checks of the merged model and its examples (validation as the core does it)
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The outputs: the one place that says where the model lives (tools/gen_stubs.py and the tests
# read MODEL_OUT from here; the Rust core embeds both files).
MODEL_DIR = ROOT / "crates" / "core" / "src" / "model"
MODEL_OUT = MODEL_DIR / "cvm-2017-03-12.json"
EXAMPLES_OUT = MODEL_DIR / "examples.json"
# The inputs.
SEED = ROOT / "tools" / "seed" / "cvm-api-2017-03-12.txt"
CORRECTIONS = ROOT / "tools" / "seed_corrections.json"
FACTS = ROOT / "tools" / "facts" / "cvm-2017-03-12.json"

PRIMITIVES = ("String", "Integer", "Boolean", "Float", "Timestamp")
COMMON_INPUTS = ("Action", "Version", "Region")
FINANCE_REGIONS = ["ap-shanghai-fsi", "ap-shenzhen-fsi"]


class SeedError(Exception):
    pass
