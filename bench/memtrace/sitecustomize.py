"""Traces the Python allocations of a benchmark's API process (``bench/load.py --trace-memory``).

Put on the process's ``PYTHONPATH`` (Python imports ``sitecustomize`` at start), it does nothing
unless ``BENCH_TRACE_MEMORY`` names a directory and the process is ``assetlink serve``. Then,
``BENCH_TRACE_AFTER_S`` seconds in (after the start-up and warm-up, whose allocations stay), it
starts ``tracemalloc`` and writes a snapshot there every ``BENCH_TRACE_EVERY_S`` seconds, after a
full collection: what is still alive and where it was allocated.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

FRAMES = 12


def _trace(directory: Path, after_s: float, every_s: float) -> None:
    time.sleep(after_s)
    tracemalloc.start(FRAMES)
    for number in range(10**6):
        time.sleep(every_s)
        gc.collect()
        tracemalloc.take_snapshot().dump(str(directory / f"snapshot-{number:04d}.pickle"))


_directory = os.environ.get("BENCH_TRACE_MEMORY")
if _directory and "serve" in sys.argv:
    threading.Thread(
        target=_trace,
        args=(
            Path(_directory),
            float(os.environ.get("BENCH_TRACE_AFTER_S", "100")),
            float(os.environ.get("BENCH_TRACE_EVERY_S", "60")),
        ),
        daemon=True,
    ).start()
