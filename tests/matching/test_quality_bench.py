"""The matching-quality benchmark (bench/matching_quality/): its directory imports, its labels
name real activities, every persona's ideals pass the hard rules on the run date, the metrics
mean what run.py says, and the script runs end to end on a few personas."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest

from app.directory.oruk import map_service
from bench.matching_quality import check, directory, run
from bench.matching_quality.personas import PERSONAS, referral

SMALL = ("debt-rent-clapton", "bereaved-widower", "women-only-gym")


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'quality.db'}"


def test_the_directory_is_large_enough_and_imports_without_errors() -> None:
    services = directory.services()
    assert len(services) >= 120
    assert len({s["id"] for s in services}) == len(services)
    for i, service in enumerate(services):
        mapped = map_service(i, service, run.RUN_DATE)
        assert mapped.errors == [], service["id"]
        assert mapped.activity is not None


def test_every_label_names_one_activity_of_the_directory_with_a_reason() -> None:
    assert len(PERSONAS) >= 40
    assert check.static_problems(PERSONAS, directory.activity_ids()) == []


def test_the_checker_finds_unknown_and_doubly_labelled_activities() -> None:
    persona = dataclasses.replace(
        PERSONAS[0],
        ideal={"no-such-activity": "typo"},
        never={"rent-bills-line": "twice"},
        accept={"rent-bills-line": ""},
    )
    problems = check.static_problems([persona], directory.activity_ids())
    assert any("'no-such-activity' is not in the directory" in p for p in problems)
    assert any("'rent-bills-line' is both accept and never" in p for p in problems)
    assert any("accept 'rent-bills-line' has no reason" in p for p in problems)


def test_ndcg_recall_and_violations_follow_the_definition() -> None:
    persona = dataclasses.replace(
        PERSONAS[0], ideal={"a": "x"}, accept={"b": "x", "c": "x"}, never={"d": "x"}
    )
    eligible = {f"bench-{x}" for x in "abcdef"}
    best = run.score(persona, ["bench-a", "bench-b", "bench-c", "bench-e"], eligible)
    assert (best.ndcg, best.recall, best.violations) == (1.0, 1.0, 0)
    worst = run.score(persona, ["bench-d", "bench-e", "bench-f"], eligible)
    assert (worst.ndcg, worst.recall, worst.violations) == (0.0, 0.0, 1)
    # the ideal second, after a never: DCG = 3 / log2(3), IDCG = 3 + 1 / log2(3) + 1 / 2
    second = run.score(persona, ["bench-d", "bench-a"], eligible)
    assert second.ndcg == pytest.approx((3 / 1.5849625) / (3 + 1 / 1.5849625 + 0.5))
    assert second.violations == 1
    # a labelled activity outside the eligible set does not count in the ideal DCG
    assert run.score(persona, ["bench-a", "bench-b"], eligible - {"bench-c"}).ndcg == 1.0


def test_every_referral_carries_the_persona() -> None:
    for p in PERSONAS:
        sr = referral(p)
        assert [r["coding"][0]["code"] for r in sr["reasonCode"]] == [n for n, _ in p.needs]
        assert sr["contained"][0]["address"][0]["postalCode"] == p.postcode


async def test_every_ideal_passes_the_hard_rules_on_the_run_date(tmp_path: Path) -> None:
    report = await run.run(_sqlite(tmp_path), PERSONAS, run.RUN_DATE)
    assert report.problems == []
    assert len(report.results) == len(PERSONAS)
    assert all(r.eligible > 0 for r in report.results)


async def test_an_ideal_that_breaks_a_rule_is_reported_with_the_rule(tmp_path: Path) -> None:
    widower = next(p for p in PERSONAS if p.id == "bereaved-widower")
    wrong = dataclasses.replace(
        widower,
        ideal={"full-lunch-club": "full", "widows-lunch": "he is 74", "summer-picnic-club": "over"},
    )
    report = await run.run(_sqlite(tmp_path), [wrong], run.RUN_DATE)
    problems = "\n".join(report.problems)
    assert "'full-lunch-club' breaks a hard rule: rule 3" in problems
    assert "'widows-lunch' breaks a hard rule: rule 2" in problems
    assert "'summer-picnic-club' breaks a hard rule: rule 1" in problems


async def test_the_benchmark_runs_on_a_few_personas_quickly(tmp_path: Path) -> None:
    started = time.perf_counter()
    personas = [p for p in PERSONAS if p.id in SMALL]
    report = await run.run(_sqlite(tmp_path), personas, dt.date(2026, 12, 7))
    assert time.perf_counter() - started < 10
    assert report.problems == []
    assert [r.persona.id for r in report.results] == list(SMALL)
    for result in report.results:
        assert set(result.scores) == set(run.RANKERS)
        assert all(0 <= s.ndcg <= 1 and 0 <= s.recall <= 1 for s in result.scores.values())
    rendered = run.render(report)
    assert "mean nDCG@5" in rendered
    assert "women-only-gym" in rendered
    # deterministic: the same run gives the same figures
    (tmp_path / "again").mkdir()
    again = await run.run(_sqlite(tmp_path / "again"), personas, dt.date(2026, 12, 7))
    assert run.render(again) == rendered
