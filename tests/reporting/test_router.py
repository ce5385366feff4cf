"""The commissioner reports over HTTP (DESIGN.md section 10; issue 7 "Must show").

Every figure is checked against ``population.facts``: plain Python over the raw rows, then the
disclosure rules of ``app.reporting.disclosure`` (tested on their own in test_disclosure.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.outcomes import instruments
from app.reporting import disclosure
from app.reporting.disclosure import PublishedCount
from tests.conftest import TokenFactory
from tests.reporting import population
from tests.reporting.population import (
    ALL,
    Facts,
    connection,
    facts_of_the_year,
    rollups,
    seeded_connection,
    sort_key,
)

DIMENSIONS = (
    "month",
    "quarter",
    "practice",
    "performer",
    "need",
    "activity_category",
    "imd_quintile",
    "imd_decile",
    "age_band",
    "sex",
)
COUNTS = (
    "received",
    "accepted",
    "rejected",
    "declined",
    "booked",
    "attended",
    "completed",
    "first_contact",
)
WINDOW = {"from": population.FROM.isoformat(), "to": population.AS_OF.isoformat()}
GROUPINGS: list[tuple[str, ...]] = [
    (),
    *((d,) for d in DIMENSIONS),
    ("imd_quintile", "sex"),
    ("month", "need"),
    ("practice", "age_band"),
    ("activity_category", "quarter"),
    ("performer", "imd_decile"),
]
WORD = re.compile(r"[\w'-]+")  # a word of a response: names, numbers, codes, dates
TOLERANCE = 0.011  # statistics are published to 2 decimals; SQL and Python sums may differ by 1e-12


# fixtures: the module's tests share one seeded population, each in a savepoint of its own
__all__ = ["connection", "facts_of_the_year", "seeded_connection"]


@pytest.fixture
def facts(facts_of_the_year: Facts) -> Facts:
    return facts_of_the_year


@pytest.fixture
def commissioner(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.COMMISSIONER, "15N")


async def get(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    report: str,
    dims: Sequence[str],
    window: dict[str, str] | None = None,
) -> dict[str, Any]:
    params = [*(window or WINDOW).items(), *(("group_by", d) for d in dims)]
    response = await client.get(f"/api/v1/reports/{report}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def protect(counts: dict[tuple[str, ...], int], n: int) -> dict[tuple[str, ...], PublishedCount]:
    """The disclosure rules applied to a table of true counts, in the documented label order."""
    if n == 0:
        return {(): disclosure.publish_count(counts.get((), 0))}
    if n == 1:
        ordered = sorted(counts, key=lambda k: sort_key(k[0]))
        one = disclosure.protect_one_way({k[0]: counts[k] for k in ordered})
        return {(k,): v for k, v in one.cells.items()} | {(ALL,): one.total}
    rows = sorted({k[0] for k in counts}, key=sort_key)
    columns = sorted({k[1] for k in counts}, key=sort_key)
    two = disclosure.protect_two_way(
        {(a, b): v for (a, b), v in counts.items()}, rows=rows, columns=columns
    )
    out: dict[tuple[str, ...], PublishedCount] = dict(two.cells)
    out |= {(r, ALL): v for r, v in two.row_totals.items()}
    out |= {(ALL, c): v for c, v in two.column_totals.items()}
    out[(ALL, ALL)] = two.total
    return out


def published(body: dict[str, Any], dims: Sequence[str]) -> dict[tuple[Any, ...], Any]:
    return {
        (*(row["group"][d] for d in dims), row["instrument"], row["measure"]): row["figures"]
        for row in body["rows"]
    }


def assert_statistic(shown: dict[str, Any], value: float | None, n: int) -> None:
    expected = disclosure.publish_statistic(value, n)
    assert shown["suppressed"] == expected.suppressed
    if expected.value is None:
        assert shown["value"] is None
    else:
        assert shown["value"] == pytest.approx(expected.value, abs=TOLERANCE)


async def test_referrals_report_matches_an_independent_computation(
    client: httpx.AsyncClient, commissioner: dict[str, str], facts: Facts
) -> None:
    for dims in GROUPINGS:  # one seeded population for every grouping (seeding is the cost)
        body = await get(client, commissioner, "referrals", dims)
        assert body["group_by"] == list(dims)
        assert body["from"] == WINDOW["from"]
        assert body["to"] == WINDOW["to"]
        assert check_referrals(body, facts, dims) >= 150, dims


def check_referrals(body: dict[str, Any], facts: Facts, dims: Sequence[str]) -> int:
    """Every figure of a referrals report against ``facts``; the number of referrals."""
    counts: dict[str, dict[tuple[str, ...], int]] = {name: defaultdict(int) for name in COUNTS}
    days: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for person in facts.people:
        for key in facts.keys(person, dims):
            for name in COUNTS:
                counts[name][key] += person.flags[name]
            for rolled in rollups(key):
                if person.days is not None:
                    days[rolled].append(person.days)
    shown = published(body, dims)
    tables = {name: protect(dict(counts[name]), len(dims)) for name in COUNTS}
    assert set(shown) == {(*key, None, None) for key in tables["received"]}
    for key in tables["received"]:
        figures = shown[(*key, None, None)]
        for name in COUNTS:
            expected = tables[name][key]
            assert figures[name] == {"value": expected.value, "suppressed": expected.suppressed}, (
                name,
                key,
            )
        found = days.get(key, [])
        median = statistics.median(found) if found else None
        assert_statistic(figures["median_days_to_first_contact"], median, len(found))
    return sum(counts["received"].values())


def measures() -> list[tuple[str, str]]:
    return [
        (code, key)
        for code, spec in instruments.INSTRUMENTS.items()
        for key in spec.change_measures
    ]


OUTCOME_GROUPINGS: list[tuple[str, ...]] = [
    (),
    ("sex",),
    ("imd_quintile",),
    ("need",),
    ("month", "age_band"),
    ("activity_category",),
]


async def test_outcomes_report_matches_an_independent_computation(
    client: httpx.AsyncClient, commissioner: dict[str, str], facts: Facts
) -> None:
    for dims in OUTCOME_GROUPINGS:
        body = await get(client, commissioner, "outcomes", dims)
        check_outcomes(body, facts, dims)


def check_outcomes(body: dict[str, Any], facts: Facts, dims: Sequence[str]) -> None:
    shown = published(body, dims)
    expected_keys = set()
    for code, key in measures():
        pairs: dict[tuple[str, ...], list[tuple[float, float, bool | None]]] = defaultdict(list)
        finest: dict[tuple[str, ...], int] = defaultdict(int)
        for person in facts.people:
            if (code, key) not in person.changes:
                continue
            for group in facts.keys(person, dims):
                finest[group] += 1
                for rolled in rollups(group):
                    pairs[rolled].append(person.changes[(code, key)])
        if not finest:
            continue
        people = protect(dict(finest), len(dims))
        threshold = instruments.INSTRUMENTS[code].reliable_change
        for group in people:
            found = pairs.get(group, [])
            expected_keys.add((*group, code, key))
            figures = shown[(*group, code, key)]
            assert figures["people"] == {
                "value": people[group].value,
                "suppressed": people[group].suppressed,
            }
            flags = [f for _, _, f in found]
            change = disclosure.publish_change(
                [b for b, _, _ in found], [a for _, a, _ in found], [bool(f) for f in flags]
            )
            for name in ("mean_baseline", "mean_follow_up", "mean_change", "ci_lower", "ci_upper"):
                stat = getattr(change, name)
                assert figures[name]["suppressed"] == stat.suppressed, (name, group, code, key)
                if stat.value is None:
                    assert figures[name]["value"] is None
                else:
                    assert figures[name]["value"] == pytest.approx(stat.value, abs=TOLERANCE)
            share = figures["share_reliable_improvement"]
            if threshold is None:  # no reliable-change threshold: absent, not suppressed
                assert share == {"value": None, "suppressed": False}
            else:
                expected = change.share_reliable_improvement
                assert share == {"value": expected.value, "suppressed": expected.suppressed}
    assert set(shown) == expected_keys
    assert ("SWEMWBS", "metric") in {(k[-2], k[-1]) for k in expected_keys}


EQUITY_GROUPINGS: list[tuple[str, ...]] = [
    (),
    ("sex",),
    ("imd_quintile", "month"),
    ("practice",),
    ("need",),
    ("activity_category",),
]


async def test_equity_report_matches_an_independent_computation(
    client: httpx.AsyncClient, commissioner: dict[str, str], facts: Facts
) -> None:
    for dims in EQUITY_GROUPINGS:
        body = await get(client, commissioner, "equity", dims)
        check_equity(body, facts, dims)


EQUITY_COUNTS = ("received", "engaged", "completed")
Changes = dict[tuple[str, ...], list[tuple[float, float, bool | None]]]


def _equity_facts(
    facts: Facts, full: Sequence[str]
) -> tuple[dict[str, dict[tuple[str, ...], int]], Changes]:
    """The true counts per equity cell, and the SWEMWBS metric changes per cell and rollup."""
    counts: dict[str, dict[tuple[str, ...], int]] = {n: defaultdict(int) for n in EQUITY_COUNTS}
    changes: Changes = defaultdict(list)
    for person in facts.people:
        for key in facts.keys(person, full):
            for name in EQUITY_COUNTS:
                counts[name][key] += person.flags[name]
            if ("SWEMWBS", "metric") in person.changes:
                for rolled in rollups(key):
                    changes[rolled].append(person.changes[("SWEMWBS", "metric")])
    return counts, changes


def _rate(num: int, den: int, a: PublishedCount, b: PublishedCount) -> dict[str, Any]:
    if den == 0:
        return {"value": None, "suppressed": False}
    if a.suppressed or b.suppressed:
        return {"value": None, "suppressed": True}
    share = disclosure.publish_share(num, den)
    return {"value": share.value, "suppressed": share.suppressed}


def check_equity(body: dict[str, Any], facts: Facts, dims: Sequence[str]) -> None:
    full = ["imd_quintile", *(d for d in dims if d != "imd_quintile")]
    assert body["group_by"] == full
    names = EQUITY_COUNTS
    counts, changes = _equity_facts(facts, full)
    tables = {n: protect(dict(counts[n]), len(full)) for n in names}
    true = {n: defaultdict(int) for n in names}
    for n in names:
        for key, value in counts[n].items():
            for rolled in rollups(key):
                true[n][rolled] += value

    shown = {tuple(r["group"][d] for d in full): r["figures"] for r in body["rows"]}
    for key in tables["received"]:
        figures = shown[key]
        column = (ALL, *key[1:])
        received = tables["received"]
        assert figures["referrals"] == {
            "value": received[key].value,
            "suppressed": received[key].suppressed,
        }
        assert figures["referral_share"] == _rate(
            true["received"][key], true["received"][column], received[key], received[column]
        )
        for name, rate_name in (("engaged", "engagement_rate"), ("completed", "completion_rate")):
            assert figures[rate_name] == _rate(
                true[name][key], true["received"][key], tables[name][key], received[key]
            )
        found = changes.get(key, [])
        change = disclosure.publish_change(
            [b for b, _, _ in found], [a for _, a, _ in found], [False] * len(found)
        )
        assert_statistic(
            figures["mean_wellbeing_change"],
            statistics.fmean(a - b for b, a, _ in found) if found else None,
            len(found),
        )
        assert figures["mean_wellbeing_change"]["suppressed"] == change.mean_change.suppressed
    # the gap rows: quintile 1 minus quintile 5 of the published figures
    gaps = [r for r in body["rows"] if r["group"]["imd_quintile"] == "gap_1_minus_5"]
    assert gaps
    for gap in gaps:
        rest = {d: v for d, v in gap["group"].items() if d != "imd_quintile"}
        most = shown.get(("1", *rest.values()))
        least = shown.get(("5", *rest.values()))
        for name, figure in gap["figures"].items():
            a = most[name]["value"] if most else None
            b = least[name]["value"] if least else None
            if a is None or b is None:
                assert figure["value"] is None
            else:
                assert figure == {"value": pytest.approx(a - b, abs=1e-9), "suppressed": False}


# Windows that cut months: the whole months come from the monthly partials, the days at the
# edges from the summary rows (docs/reports.md "Monthly partials")
WINDOWS = {
    "mid-month to mid-month": (dt.date(2025, 7, 16), dt.date(2026, 6, 12)),
    "on month boundaries": (dt.date(2025, 8, 1), dt.date(2026, 4, 30)),
    "from the 1st to mid-month": (dt.date(2025, 9, 1), dt.date(2026, 5, 20)),
    "from mid-month to a month's end": (dt.date(2025, 10, 9), dt.date(2026, 3, 31)),
    "inside one month": (dt.date(2026, 2, 3), dt.date(2026, 2, 25)),
}
WINDOW_GROUPINGS: list[tuple[str, ...]] = [
    (),
    *((d,) for d in DIMENSIONS),
    ("month", "imd_quintile"),
    ("practice", "sex"),
    ("need", "age_band"),
    ("activity_category", "imd_decile"),
    ("quarter", "performer"),
    ("need", "activity_category"),
    ("imd_decile", "imd_quintile"),
    ("month", "quarter"),
]


async def test_every_report_over_windows_that_cut_months(
    client: httpx.AsyncClient, commissioner: dict[str, str], session: AsyncSession
) -> None:
    for name, (start, end) in WINDOWS.items():
        facts = await population.facts(session, start, end)
        extra = {"from": start.isoformat(), "to": end.isoformat()}
        received = 0
        for dims in WINDOW_GROUPINGS:
            body = await get(client, commissioner, "referrals", dims, window=extra)
            assert (body["from"], body["to"]) == (extra["from"], extra["to"])
            received = check_referrals(body, facts, dims)
            outcomes = await get(client, commissioner, "outcomes", dims, window=extra)
            check_outcomes(outcomes, facts, dims)
            if len([d for d in dims if d != "imd_quintile"]) <= 1:
                body = await get(client, commissioner, "equity", dims, window=extra)
                check_equity(body, facts, dims)
        assert received >= 10, name  # the window is not empty


async def test_no_identifier_name_birth_date_postcode_or_free_text_in_any_report(
    client: httpx.AsyncClient, commissioner: dict[str, str], facts: Facts
) -> None:
    secrets: set[str] = set()
    for patient in facts.patients:
        secrets |= {patient.nhs_number, patient.postcode, patient.birth_date.isoformat()}
        secrets.add(patient.postcode.replace(" ", ""))
        for name in patient.resource.get("name", []):
            secrets |= {part for part in [*name.get("given", []), name.get("family")] if part}
    for referral in facts.referrals:
        secrets.add(str(referral.id))
        secrets.add(str(referral.patient_id))
        for reason in referral.resource.get("reasonCode", []):
            if reason.get("text"):
                secrets.add(reason["text"])
    for task in facts.tasks:
        if task.status_reason and task.status_reason.get("text"):
            secrets.add(task.status_reason["text"])
    assert len(secrets) > 500
    long_secrets = [s for s in secrets if len(s) >= 6]
    formats = ("application/json", "text/csv")
    # every grouping by at most one dimension in both formats; the pairs in each in turn
    singles = [((), formats), *(((d,), formats) for d in DIMENSIONS)]
    pairs = [(p, (formats[i % 2],)) for i, p in enumerate(itertools.combinations(DIMENSIONS, 2))]
    for report in ("referrals", "outcomes", "equity"):
        for dims, accepts in [*singles, *pairs]:
            if report == "equity" and len([d for d in dims if d != "imd_quintile"]) > 1:
                continue
            params = [*WINDOW.items(), *(("group_by", d) for d in dims)]
            for accept in accepts:
                response = await client.get(
                    f"/api/v1/reports/{report}",
                    params=params,
                    headers=commissioner | {"Accept": accept},
                )
                assert response.status_code == 200, response.text
                words = set(WORD.findall(response.text))
                assert not words & secrets, (report, dims, accept, words & secrets)
                # texts of several words (reason texts), and anything glued to other text
                assert not [s for s in long_secrets if s in response.text], (report, dims)


async def test_csv_carries_the_json_figures_with_a_suppressed_column(
    client: httpx.AsyncClient, commissioner: dict[str, str], facts: Facts
) -> None:
    for report, dims in (("referrals", ("imd_quintile", "sex")), ("outcomes", ("sex",))):
        body = await get(client, commissioner, report, dims)
        params = [*WINDOW.items(), *(("group_by", d) for d in dims)]
        response = await client.get(
            f"/api/v1/reports/{report}",
            params=params,
            headers=commissioner | {"Accept": "text/csv"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(response.text)))
        header = next(csv.reader(io.StringIO(response.text)))
        assert header[: len(dims)] == list(dims)
        assert header[-1] == "suppressed"
        if report == "referrals":  # the documented columns, first contacts after the flags
            assert header[len(dims) : -1] == [*COUNTS, "median_days_to_first_contact"]
        assert len(lines) == len(body["rows"])
        for line, row in zip(lines, body["rows"], strict=True):
            assert [line[d] for d in dims] == [row["group"][d] for d in dims]
            hidden = set(line["suppressed"].split())
            for name, figure in row["figures"].items():
                assert (name in hidden) == figure["suppressed"]
                cell = line[name]
                if figure["value"] is None:
                    assert cell == ""
                else:
                    assert float(cell) == figure["value"]


@pytest.mark.parametrize("report", ["referrals", "outcomes", "equity"])
async def test_only_commissioners_and_admins_read_reports(
    client: httpx.AsyncClient, auth: TokenFactory, report: str
) -> None:
    url = f"/api/v1/reports/{report}"
    assert (await client.get(url)).status_code == 401
    for role, org in (
        (Role.REFERRER, "A81001"),
        (Role.LINK_WORKER, "Y02718"),
        (Role.PROVIDER, "1234567"),
    ):
        response = await client.get(url, headers=auth(role, org))
        assert response.status_code == 403, (role, response.text)
    for role, org in ((Role.COMMISSIONER, "15N"), (Role.ADMIN, "X26")):
        response = await client.get(url, params={"group_by": "sex"}, headers=auth(role, org))
        assert response.status_code == 200, (role, response.text)


@pytest.mark.parametrize(
    "params", [{"from": "1000-01-01", "to": "9998-12-31"}, {"to": "1000-01-01"}]
)
@pytest.mark.parametrize("report", ["referrals", "outcomes", "equity"])
async def test_reports_take_the_first_and_last_report_dates(
    client: httpx.AsyncClient, commissioner: dict[str, str], params: dict[str, str], report: str
) -> None:
    response = await client.get(f"/api/v1/reports/{report}", params=params, headers=commissioner)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "postcode"}, "group_by"),
        ({"group_by": "nhs_number"}, "group_by"),
        ({"group_by": "month,sex,need"}, "group_by"),
        ({"group_by": ["month", "month"]}, "group_by"),
        ({"from": "2026-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "from"),
        # contract fuzzing (issue 17): the default window or the day after overflowed (500)
        ({"to": "0001-01-01"}, "to"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "0999-12-31"}, "from"),
    ],
)
@pytest.mark.parametrize("report", ["referrals", "outcomes", "equity"])
async def test_bad_parameters_are_400_naming_the_parameter(
    client: httpx.AsyncClient,
    commissioner: dict[str, str],
    params: dict[str, Any],
    field: str,
    report: str,
) -> None:
    response = await client.get(f"/api/v1/reports/{report}", params=params, headers=commissioner)
    assert response.status_code == 400, response.text
    assert field in response.text


async def test_equity_takes_at_most_one_dimension_besides_the_quintile(
    client: httpx.AsyncClient, commissioner: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/reports/equity", params={"group_by": "month,sex"}, headers=commissioner
    )
    assert response.status_code == 400
    assert "group_by" in response.text
