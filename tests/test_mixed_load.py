"""bench/load.py's harness runs (so it cannot rot): a few seconds of the mixed load and of the
soak against the real server, a worker and a receiver; every operation is reached, no request
fails and the worker delivers.

PostgreSQL only, on a fresh database of its own; figures are not checked (docs/performance.md).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.conftest import ROOT, postgres_database


def bench_load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_mixed_load_harness_drives_every_operation_without_a_server_error() -> None:
    load = bench_load()
    with postgres_database() as url:
        args = load.parse_args(
            [
                "--database-url", url, "--concurrency", "4", "--seconds", "1", "--soak", "1.5",
                "--soak-concurrency", "2", "--rate", "4", "--sample-s", "0.5", "--drain-s", "0.5",
                "--activities", "100", "--referrals", "20", "--provider-activities", "1",
                "--seed", "1",
            ]
        )  # fmt: skip
        result = load.run(args)

    operations = {
        "intake", "task-read", "caseload", "task-accept", "match", "book", "attendance",
        "outcome", "directory-edit", "directory-read", "report",
    }  # fmt: skip
    assert set(result.warmup.latencies) == operations | {"setup"}, result.warmup.statuses
    [(clients, level)] = result.levels
    assert clients == 4
    for stats in (result.warmup, level, result.soak):
        assert stats.requests > 0
        assert stats.failed() == 0, stats.errors
    assert {name for name, samples in result.memory.items() if len(samples) >= 2} == {
        "api",
        "worker",
    }
    assert all(mb > 0 for samples in result.memory.values() for _, mb in samples)
    assert result.delivered > 0
    assert result.duplicates == 0
