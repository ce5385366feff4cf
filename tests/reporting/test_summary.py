"""The reports follow every change between two requests (docs/reports.md "Summary tables").

The reports aggregate summary tables that triggers mark out of date and each report refreshes
first. Here data changes through the API (a new referral, Task moves, bookings, attendance,
cancellation, a decline, outcome records) and through plain SQL statements (Core updates and
deletes, as a bulk loader writes), and each next report must show the change. Disclosure
control is switched off (suppress below 1, round to 1, statistics from 1 person) so every
published figure is the true one. Each test ends by rebuilding the summaries from scratch
(``refresh(everything=True)``): the report must not change.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.models import LsoaDeprivation, Postcode
from app.auth.principal import Role
from app.config import Settings
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.referrals.fhir import STAGE_SYSTEM
from app.referrals.lifecycle import DECLINED
from app.referrals.models import Patient, Referral, Task
from app.reporting import summary
from tests.conftest import TokenFactory, make_settings
from tests.directory.conftest import admin, create_activity
from tests.outcomes.conftest import outcome
from tests.referrals import factories

__all__ = ["admin", "create_activity"]

PERFORMER = "Y02718"  # the default performer in the test settings
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


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url,
        disclosure_suppress_below=1,
        disclosure_round_to=1,
        disclosure_min_n=1,
    )


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, PERFORMER)


@pytest.fixture
def commissioner(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.COMMISSIONER, "15N")


class Reports:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client = client
        self.headers = headers

    async def body(self, report: str, *dims: str) -> dict[str, Any]:
        params = [("group_by", d) for d in dims]
        response = await self.client.get(
            f"/api/v1/reports/{report}", params=params, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def cells(self, report: str, *dims: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        """(labels..., instrument, measure) -> {figure: value}."""
        body = await self.body(report, *dims)
        return {
            (*(row["group"][d] for d in dims), row["instrument"], row["measure"]): {
                name: figure["value"] for name, figure in row["figures"].items()
            }
            for row in body["rows"]
        }

    async def counts(self) -> dict[str, int]:
        figures = (await self.cells("referrals"))[(None, None)]
        return {name: int(figures[name] or 0) for name in COUNTS}


@pytest.fixture
def reports(client: httpx.AsyncClient, commissioner: dict[str, str]) -> Reports:
    return Reports(client, commissioner)


async def new_referral(client: httpx.AsyncClient, auth: TokenFactory) -> dict[str, Any]:
    response = await client.post(
        "/fhir/ServiceRequest",
        json=factories.service_request(),
        headers=auth(Role.REFERRER, "A81001"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def task_of(client: httpx.AsyncClient, lw: dict[str, str], referral_id: str) -> Any:
    bundle = (await client.get(f"/fhir/Task?focus={referral_id}", headers=lw)).json()
    return bundle["entry"][0]["resource"]


async def move(
    client: httpx.AsyncClient, lw: dict[str, str], referral_id: str, status: str, **more: Any
) -> None:
    task = await task_of(client, lw, referral_id)
    body = {k: v for k, v in task.items() if k not in ("meta", "lastModified", "statusReason")}
    body.update(status=status, **more)
    moved = await client.put(f"/fhir/Task/{task['id']}", json=body, headers=lw)
    assert moved.status_code == 200, moved.text


def stage(code: str) -> dict[str, Any]:
    return {"coding": [{"system": STAGE_SYSTEM, "code": code}]}


async def book(
    client: httpx.AsyncClient, lw: dict[str, str], referral_id: str, activity: str
) -> str:
    response = await client.post(
        f"/api/v1/referrals/{referral_id}/bookings", json={"activity_id": activity}, headers=lw
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def mark(client: httpx.AsyncClient, lw: dict[str, str], booking: str, status: str) -> None:
    response = await client.patch(
        f"/api/v1/bookings/{booking}", json={"status": status}, headers=lw
    )
    assert response.status_code == 200, response.text


PARTIALS = {
    "report_month": (
        (),
        (
            "received",
            "accepted",
            "rejected",
            "declined",
            "booked",
            "attended",
            "completed",
            "engaged",
            "with_first_contact",
        ),
        (),
    ),
    "report_month_change": (
        ("instrument", "measure"),
        ("n", "improved"),
        ("sum_baseline", "sum_follow_up", "sum_change", "sum_squares"),
    ),
}
PARTIAL_KEY = (
    "dims",
    "month",
    "quarter",
    "practice",
    "performer",
    "imd_decile",
    "age_band",
    "sex",
    "need",
    "category",
)


async def partial_rows(session: AsyncSession) -> dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]:
    """Every row of the monthly partials with a count: key -> (counts..., sums...)."""
    found: dict[str, dict[tuple[Any, ...], tuple[Any, ...]]] = {}
    for table, (extra, counts, sums) in PARTIALS.items():
        key = (*PARTIAL_KEY, *extra)
        rows = await session.execute(
            text(f"SELECT {', '.join((*key, *counts, *sums))} FROM {table}")  # noqa: S608
        )
        # a group emptied by a refresh stays as a row of zeros, which the reports skip
        found[table] = {tuple(r[: len(key)]): tuple(r[len(key) :]) for r in rows if r[len(key)]}
    return found


async def assert_partials_match_a_rebuild(app: Any, session: AsyncSession) -> None:
    """The partials kept by difference since the last rebuild equal a rebuild from scratch
    (counts exactly, sums of scores to 1e-9: the order of the additions differs)."""
    await summary.refresh(app.state.sessionmaker)
    kept = await partial_rows(session)
    await summary.refresh(app.state.sessionmaker, everything=True)
    rebuilt = await partial_rows(session)
    assert rebuilt["report_month"], "no partials at all"
    for table, (_, counts, _) in PARTIALS.items():
        assert set(kept[table]) == set(rebuilt[table]), table
        for key, values in rebuilt[table].items():
            mine = kept[table][key]
            assert mine[: len(counts)] == values[: len(counts)], (table, key)
            assert mine[len(counts) :] == pytest.approx(values[len(counts) :], rel=1e-9), key


async def assert_same_after_full_rebuild(
    app: Any, reports: Reports, checks: list[tuple[str, tuple[str, ...]]]
) -> None:
    before = [await reports.body(report, *dims) for report, dims in checks]
    rebuilt = await summary.refresh(app.state.sessionmaker, everything=True)
    assert rebuilt.referrals > 0
    assert [await reports.body(report, *dims) for report, dims in checks] == before


async def test_referral_figures_follow_intake_task_moves_and_bookings(
    app: Any,
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    reports: Reports,
    create_activity: Any,
    session: AsyncSession,
) -> None:
    expected = await reports.counts()
    activity = (await create_activity(capacity={"maximum": 10, "available": 10}))["id"]

    async def step(**changes: int) -> None:
        for name, delta in changes.items():
            expected[name] += delta
        assert await reports.counts() == expected
        await assert_partials_match_a_rebuild(app, session)

    first = (await new_referral(client, auth))["id"]
    await step(received=1)
    await move(client, lw, first, "accepted")
    await step(accepted=1)
    booking = await book(client, lw, first, activity)  # the Task moves to in-progress
    await step(booked=1, first_contact=1)  # at the stage activity-booked
    await mark(client, lw, booking, "attended")
    await step(attended=1)
    await move(client, lw, first, "completed")
    await step(completed=1)

    second = (await new_referral(client, auth))["id"]
    await step(received=1)
    await move(client, lw, second, "accepted")
    await step(accepted=1)
    booking = await book(client, lw, second, activity)
    await step(booked=1, first_contact=1)
    await mark(client, lw, booking, "cancelled")  # no booking left: not booked any more
    await step(booked=-1)  # but the first contact was made
    await move(
        client,
        lw,
        second,
        "cancelled",
        statusReason={"coding": [{"system": DECLINED[0], "code": DECLINED[1]}], "text": "no"},
    )
    await step(accepted=-1, declined=1)

    third = (await new_referral(client, auth))["id"]
    await step(received=1)
    await move(client, lw, third, "rejected", statusReason={"text": "outside our area"})
    await step(rejected=1)

    # the end of a referral cancels its open bookings (docs/matching.md): it was still booked
    fourth = (await new_referral(client, auth))["id"]
    await move(client, lw, fourth, "accepted")
    await book(client, lw, fourth, activity)
    await step(received=1, accepted=1, booked=1, first_contact=1)
    await move(client, lw, fourth, "completed")
    await step(completed=1)

    # a first contact recorded on the Task, then taken off it by plain SQL (a correction)
    fifth = (await new_referral(client, auth))["id"]
    await move(client, lw, fifth, "accepted")
    await step(received=1, accepted=1)
    await move(client, lw, fifth, "accepted", businessStatus=stage("first-contact"))
    await step(first_contact=1)
    await session.execute(
        update(Task).where(Task.referral_id == uuid.UUID(fifth)).values(first_contact_at=None)
    )
    await step(first_contact=-1)

    # the new referrals also land in the groupings that read other tables
    by_category = await reports.cells("referrals", "activity_category")
    assert sum(int(c["received"] or 0) for k, c in by_category.items() if k[0] != "all") >= 3
    await assert_same_after_full_rebuild(
        app,
        reports,
        [("referrals", ()), ("referrals", ("need", "activity_category")), ("equity", ())],
    )


async def test_outcome_figures_follow_records_and_their_deletion(
    app: Any,
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    reports: Reports,
    session: AsyncSession,
) -> None:
    key = ("SWEMWBS", "metric")
    before = (await reports.cells("outcomes")).get(key, {"people": 0})
    referral = (await new_referral(client, auth))["id"]
    await move(client, lw, referral, "accepted")
    url = f"/api/v1/referrals/{referral}/outcomes"
    low = {str(n): 2 for n in range(1, 8)}  # raw 14
    high = {str(n): 4 for n in range(1, 8)}  # raw 28
    baseline = await client.post(
        url, json=outcome("SWEMWBS", low, collected_at="2026-11-01T10:00:00Z"), headers=lw
    )
    assert baseline.status_code == 201, baseline.text
    # a baseline alone is no change yet
    assert (await reports.cells("outcomes")).get(key, {"people": 0})["people"] == before["people"]
    await assert_partials_match_a_rebuild(app, session)

    follow_up = await client.post(
        url,
        json=outcome("SWEMWBS", high, timepoint="follow-up", collected_at="2026-11-20T10:00:00Z"),
        headers=lw,
    )
    assert follow_up.status_code == 201, follow_up.text
    after = (await reports.cells("outcomes"))[key]
    assert after["people"] == before["people"] + 1
    await assert_partials_match_a_rebuild(app, session)
    if before["people"] == 0:  # each test starts from an empty database: always, here
        assert after["mean_change"] > 0  # raw 14 -> 28 is a large rise of the metric score
        assert after["share_reliable_improvement"] == 100

    # removed by plain SQL, as a bulk job would: the pair is gone from the next report
    referral_id = uuid.UUID(referral)
    await session.execute(
        delete(OutcomeScore).where(
            OutcomeScore.referral_id == referral_id, OutcomeScore.timepoint == "follow-up"
        )
    )
    await session.execute(
        delete(OutcomeRecord).where(
            OutcomeRecord.referral_id == referral_id, OutcomeRecord.timepoint == "follow-up"
        )
    )
    assert (await reports.cells("outcomes")).get(key, {"people": 0})["people"] == before["people"]
    await assert_partials_match_a_rebuild(app, session)
    await assert_same_after_full_rebuild(
        app, reports, [("outcomes", ()), ("outcomes", ("month", "sex")), ("equity", ())]
    )


async def test_demographic_and_area_changes_by_sql_move_a_referral_between_groups(
    app: Any,
    client: httpx.AsyncClient,
    auth: TokenFactory,
    reports: Reports,
    session: AsyncSession,
) -> None:
    created = await new_referral(client, auth)
    patient_id = uuid.UUID(created["subject"]["reference"].split("/")[1])
    referral_id = uuid.UUID(created["id"])

    async def received(dim: str) -> dict[str, int]:
        cells = await reports.cells("referrals", dim)
        return {k[0]: int(c["received"] or 0) for k, c in cells.items() if k[0] != "all"}

    sexes = await received("sex")
    await session.execute(update(Patient).where(Patient.id == patient_id).values(gender="other"))
    moved = await received("sex")
    assert moved.get("other", 0) == sexes.get("other", 0) + 1
    assert sum(moved.values()) == sum(sexes.values())
    await assert_partials_match_a_rebuild(app, session)

    deciles = await received("imd_decile")
    await session.execute(insert(LsoaDeprivation).values(lsoa_code="E01999999", imd_decile=3))
    await session.execute(
        insert(Postcode).values(postcode="ZZ1 1ZZ", district="ZZ1", lsoa_code="E01999999")
    )
    await session.execute(
        update(Patient).where(Patient.id == patient_id).values(postcode="ZZ1 1ZZ")
    )
    now = await received("imd_decile")
    assert now.get("3", 0) == deciles.get("3", 0) + 1
    await assert_partials_match_a_rebuild(app, session)
    # the deprivation lookup itself changes (a new IMD release): the referral moves with it
    await session.execute(
        update(LsoaDeprivation).where(LsoaDeprivation.lsoa_code == "E01999999").values(imd_decile=9)
    )
    later = await received("imd_decile")
    assert later.get("9", 0) == now.get("9", 0) + 1
    assert later.get("3", 0) == now.get("3", 0) - 1
    await assert_partials_match_a_rebuild(app, session)
    # the referral itself moves to another month (a correction by SQL): out of the old
    # month's partials, into the new one's
    months = await received("month")
    was = (await session.get(Referral, referral_id)).authored_on
    earlier = was - dt.timedelta(days=62)
    await session.execute(
        update(Referral).where(Referral.id == referral_id).values(authored_on=earlier)
    )
    moved_months = await received("month")
    assert moved_months.get(earlier.strftime("%Y-%m"), 0) == (
        months.get(earlier.strftime("%Y-%m"), 0) + 1
    )
    assert moved_months.get(was.strftime("%Y-%m"), 0) == months.get(was.strftime("%Y-%m"), 0) - 1
    await assert_partials_match_a_rebuild(app, session)
    await assert_same_after_full_rebuild(
        app, reports, [("referrals", ("imd_quintile", "sex")), ("equity", ("sex",))]
    )
