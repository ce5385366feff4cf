"""Disclosure control over the API output (issue 7 "Must show"): for random populations, no
published count of 1-7, every count a multiple of 5, and no suppressed cell recoverable from
the other cells and totals of its row or column, by the independent checker of
test_disclosure.py. Each example writes its referrals into a year of its own, and reads that
year back, so the examples of one test do not see each other's rows."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.referrals.models import Patient, Referral, Task
from app.reporting.disclosure import OneWayTable, PublishedCount, TwoWayTable
from tests.conftest import TokenFactory
from tests.reporting.test_disclosure import recoverable_one_way, recoverable_two_way

PRACTICES = ("A00001", "A00002", "A00003", "A00004")
SEXES = ("female", "male", "other")
STATUSES = ("requested", "accepted", "completed", "rejected")

populations = st.dictionaries(
    st.tuples(st.sampled_from(PRACTICES), st.sampled_from(SEXES), st.sampled_from(STATUSES)),
    st.one_of(st.integers(1, 9), st.integers(10, 30)),
    max_size=14,
)


async def add_population(
    session: AsyncSession, year: int, cells: dict[tuple[str, str, str], int], serial: int
) -> None:
    patients, referrals, tasks = [], [], []
    for n, ((practice, sex, status), count) in enumerate(sorted(cells.items())):
        for k in range(count):
            pid, rid = uuid.uuid4(), uuid.uuid4()
            at = dt.datetime(year, 1 + (n + k) % 12, 1 + k % 28, 10, tzinfo=dt.UTC)
            patients.append(
                {
                    "id": pid,
                    "version_id": 1,
                    "nhs_number": f"{serial:04d}{len(patients):06d}",
                    "birth_date": dt.date(1960, 1, 1),
                    "gender": sex,
                    "postcode": "E8 1AA",
                    "resource": {},
                }
            )
            referrals.append(
                {
                    "id": rid,
                    "version_id": 1,
                    "status": "active",
                    "intent": "order",
                    "patient_id": pid,
                    "requester_ods": practice,
                    "performer_ods": "Y02718",
                    "authored_on": at,
                    "preferences": {},
                    "resource": {},
                }
            )
            tasks.append(
                {
                    "id": uuid.uuid4(),
                    "version_id": 1,
                    "referral_id": rid,
                    "patient_id": pid,
                    "status": status,
                    "requester_ods": practice,
                    "owner_ods": "Y02718",
                    "authored_on": at,
                    "output": [],
                    # some taken on have a first contact: a count of its own, protected too
                    "first_contact_at": at + dt.timedelta(days=2)
                    if status in ("accepted", "completed") and k % 3
                    else None,
                }
            )
    if patients:
        await session.execute(insert(Patient), patients)
        await session.execute(insert(Referral), referrals)
        await session.execute(insert(Task), tasks)
        await session.flush()


def check_counts(rows: list[dict[str, Any]], names: tuple[str, ...]) -> None:
    for row in rows:
        for name in names:
            figure = row["figures"][name]
            if figure["suppressed"]:
                assert figure["value"] is None
            else:
                assert not 0 < figure["value"] < 8, (name, row)
                assert figure["value"] % 5 == 0, (name, row)


def as_two_way(rows: list[dict[str, Any]], name: str) -> tuple[TwoWayTable[int, int], int, int]:
    practices = sorted({r["group"]["practice"] for r in rows} - {"all"})
    sexes = sorted({r["group"]["sex"] for r in rows} - {"all"})
    p_index = {p: i for i, p in enumerate(practices)}
    s_index = {s: j for j, s in enumerate(sexes)}
    cells, row_totals, column_totals = {}, {}, {}
    total = PublishedCount(0, False)
    for r in rows:
        p, s = r["group"]["practice"], r["group"]["sex"]
        value = PublishedCount(r["figures"][name]["value"], r["figures"][name]["suppressed"])
        if p != "all" and s != "all":
            cells[(p_index[p], s_index[s])] = value
        elif p != "all":
            row_totals[p_index[p]] = value
        elif s != "all":
            column_totals[s_index[s]] = value
        else:
            total = value
    return TwoWayTable(cells, row_totals, column_totals, total), len(practices), len(sexes)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cells=populations)
async def test_published_counts_obey_the_rules_and_hide_what_they_suppress(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, cells: dict[Any, int]
) -> None:
    headers = auth(Role.COMMISSIONER, "15N")
    year = next(YEARS)
    await add_population(session, year, cells, year - 1000)
    window = {"from": f"{year}-01-01", "to": f"{year}-12-31"}
    counts = ("received", "accepted", "rejected", "completed", "first_contact")
    two = await client.get(
        "/api/v1/reports/referrals",
        params=[*window.items(), ("group_by", "practice"), ("group_by", "sex")],
        headers=headers,
    )
    assert two.status_code == 200, two.text
    rows = two.json()["rows"]
    check_counts(rows, counts)
    if cells:
        for name in counts:
            table, n_rows, n_columns = as_two_way(rows, name)
            assert recoverable_two_way(table, n_rows, n_columns) == set(), name
    one = await client.get(
        "/api/v1/reports/referrals", params=[*window.items(), ("group_by", "sex")], headers=headers
    )
    assert one.status_code == 200
    check_counts(one.json()["rows"], counts)
    for name in counts:
        by = {r["group"]["sex"]: r["figures"][name] for r in one.json()["rows"]}
        table = OneWayTable(
            {k: PublishedCount(v["value"], v["suppressed"]) for k, v in by.items() if k != "all"},
            PublishedCount(by["all"]["value"], by["all"]["suppressed"]),
        )
        assert recoverable_one_way(table) == set(), name


YEARS = itertools.count(1001)
