"""The benchmark sections, in the order they run and are reported.

Each section is a function `(emulator, smoke) -> dict` in a module of its own here, returning
the figures that land under its name in results.json. To add one: write
`sections/<name>.py`, then add it to `REGISTRY` below (its key is the name `--only` takes);
report.py decides what BENCHMARKS.md shows of it.
"""

from __future__ import annotations

from typing import Any, Callable

from common import EmulatorProcess

from .ceiling import bench_ceiling
from .criterion import bench_criterion
from .decode import bench_decode
from .fanout import bench_fanout
from .gc_kept import bench_gc
from .import_time import bench_import
from .memory import bench_memory
from .sequential import bench_sequential
from .threads import bench_threads
from .tls import bench_tls

Section = Callable[[EmulatorProcess, bool], dict[str, Any]]

REGISTRY: dict[str, Section] = {
    "decode": bench_decode,
    "sequential": bench_sequential,
    "threads": bench_threads,
    "fanout": bench_fanout,
    "gc": bench_gc,
    "ceiling": bench_ceiling,
    "import": bench_import,
    "memory": bench_memory,
    "criterion": bench_criterion,
    "tls": bench_tls,
}
