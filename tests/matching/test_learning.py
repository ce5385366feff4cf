"""The outcome priors' tables and cache (app/matching/learning.py): reliable wellbeing change
counted per activity and need from the recorded outcomes, and the cache's age and
invalidation on an injected clock."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.matching import repository
from app.matching.evidence import Tally
from app.matching.learning import OutcomePriors, reliable_measures, wellbeing_tallies
from app.reporting.disclosure import DEFAULT_RULES, DisclosureRules
from tests.conftest import TokenFactory
from tests.directory.conftest import CreateActivity
from tests.matching.test_router import HOME, _location, _refer
from tests.referrals import factories

MOOD = "low-mood"
LOW_MOOD = [{"coding": [{"system": factories.NEED_SYSTEM, "code": MOOD}]}]
SWEMWBS = ("SWEMWBS", "metric")  # reliable change: 3 metric points up
UCLA3 = ("UCLA3", "total")  # no reliable-change threshold
PLACES = {"maximum": 1000, "available": 1000}
DAY = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def _row(referral: uuid.UUID, timepoint: str, day: int, value: float) -> repository.ScoreRow:
    return repository.ScoreRow(referral, *SWEMWBS, timepoint, DAY + dt.timedelta(days=day), value)


def test_reliable_measures_are_the_reports() -> None:
    measures = reliable_measures()
    assert measures[SWEMWBS] == (1, 3)
    assert measures[("WEMWBS", "total")] == (1, 9)
    assert UCLA3 not in measures


def test_wellbeing_counts_people_with_a_pair_once_better_if_any_pair_is() -> None:
    r = [uuid.uuid4() for _ in range(6)]
    p = [uuid.uuid4() for _ in range(5)]
    scores = [
        # r0: earliest baseline 15, latest follow-up 18: +3, reliably better
        _row(r[0], "baseline", 0, 15.0),
        _row(r[0], "baseline", 1, 10.0),
        _row(r[0], "follow-up", 5, 30.0),
        _row(r[0], "exit", 9, 18.0),
        # r1: +2.99, not reliably better
        _row(r[1], "baseline", 0, 15.0),
        _row(r[1], "follow-up", 5, 17.99),
        # r2: a follow-up only before its baseline: no pair
        _row(r[2], "follow-up", 0, 10.0),
        _row(r[2], "baseline", 5, 20.0),
        # r3: better, the same person as r1 (another referral): counts once, as better
        _row(r[3], "baseline", 0, 10.0),
        _row(r[3], "follow-up", 5, 20.0),
        # r4: worse by 5
        _row(r[4], "baseline", 0, 20.0),
        _row(r[4], "follow-up", 5, 15.0),
        # r5: a score without a threshold is not wellbeing change
        repository.ScoreRow(r[5], *UCLA3, "baseline", DAY, 9.0),
        repository.ScoreRow(r[5], *UCLA3, "follow-up", DAY + dt.timedelta(days=5), 3.0),
    ]
    attended = [
        ("choir", MOOD, p[0], r[0]),
        ("choir", MOOD, p[1], r[1]),
        ("choir", MOOD, p[2], r[2]),
        ("choir", MOOD, p[1], r[3]),
        ("choir", MOOD, p[3], r[4]),
        ("choir", MOOD, p[4], r[5]),
        ("choir", "loneliness-isolation", p[0], r[0]),
        ("walk", MOOD, p[3], r[4]),
    ]
    assert wellbeing_tallies(attended, scores, reliable_measures()) == {
        ("choir", MOOD): Tally(3, 2),  # p0 and p1 better, p3 not; p2 and p4 have no pair
        ("choir", "loneliness-isolation"): Tally(1, 1),
        ("walk", MOOD): Tally(1, 0),
    }


# Through the tables ---------------------------------------------------------------------------


async def booked_for_low_mood(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    activity_id: str,
    status: str = "attended",
) -> str:
    """A person referred for low mood, booked on the activity, with ``status``; the referral."""
    made = await client.post(
        "/fhir/ServiceRequest",
        json=factories.service_request(reasonCode=LOW_MOOD),
        headers=auth(Role.REFERRER, "A81001"),
    )
    assert made.status_code == 201, made.text
    task = (await client.get(f"/fhir/Task?focus={made.json()['id']}", headers=lw)).json()
    task = task["entry"][0]["resource"]
    moved = await client.put(
        f"/fhir/Task/{task['id']}", json={**task, "status": "accepted"}, headers=lw
    )
    assert moved.status_code == 200, moved.text
    url = f"/api/v1/referrals/{made.json()['id']}/bookings"
    booked = await client.post(url, json={"activity_id": activity_id}, headers=lw)
    assert booked.status_code == 201, booked.text
    marked = await client.patch(
        f"/api/v1/bookings/{booked.json()['id']}", json={"status": status}, headers=lw
    )
    assert marked.status_code == 200, marked.text
    return str(made.json()["id"])


async def _swemwbs(
    client: httpx.AsyncClient, lw: dict[str, str], referral: str, before: int, after: int
) -> None:
    """SWEMWBS with every answer ``before`` at baseline and ``after`` at follow-up."""
    for timepoint, answer, day in (("baseline", before, 5), ("follow-up", after, 19)):
        recorded = await client.post(
            f"/api/v1/referrals/{referral}/outcomes",
            json={
                "instrument": "SWEMWBS",
                "timepoint": timepoint,
                "collected_at": f"2026-11-{day:02d}T10:00:00+00:00",
                "mode": "assisted",
                "answers": {str(k): answer for k in range(1, 8)},
            },
            headers=lw,
        )
        assert recorded.status_code == 201, recorded.text


async def test_wellbeing_is_counted_from_the_recorded_outcomes_of_attended_bookings(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: TokenFactory,
    areas: None,
    create_activity: CreateActivity,
) -> None:
    lw = auth(Role.LINK_WORKER, "Y02718")
    choir = (await create_activity(name="Choir", locations=_location(), capacity=PLACES))["id"]
    better = await booked_for_low_mood(client, auth, lw, choir)
    await _swemwbs(client, lw, better, 2, 3)  # metric 15.32 -> 19.25: reliably better
    same = await booked_for_low_mood(client, auth, lw, choir)
    await _swemwbs(client, lw, same, 2, 2)
    missed = await booked_for_low_mood(client, auth, lw, choir, "did-not-attend")
    await _swemwbs(client, lw, missed, 2, 3)  # did not attend: not counted
    await booked_for_low_mood(client, auth, lw, choir)  # attended, never measured: not counted

    measures = reliable_measures()
    found = wellbeing_tallies(
        await repository.attended_needs(session),
        await repository.attended_scores(session, list(measures)),
        measures,
    )
    assert found == {(choir, MOOD): Tally(2, 1)}


FELT = "people referred for low mood who attended here and were measured before and after felt"


async def test_reliable_wellbeing_change_moves_an_activity_in_the_match_list(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    areas: None,
    create_activity: CreateActivity,
) -> None:
    lw = auth(Role.LINK_WORKER, "Y02718")
    same = {"locations": _location(), "capacity": PLACES, "target_needs": [MOOD]}
    choirs = {name: (await create_activity(name=name, **same))["id"] for name in "ABC"}
    # everyone attended everywhere (attendance neutral); A: 8 measured, all better; B: 8, none;
    # C: 8 attended, 7 measured, all better (one short of the minimum: says nothing)
    for name, measured, after in (("A", 8, 3), ("B", 8, 2), ("C", 7, 3)):
        for k in range(8):
            referral = await booked_for_low_mood(client, auth, lw, choirs[name])
            if k < measured:
                await _swemwbs(client, lw, referral, 2, after)

    referral = await _refer(client, auth, HOME, reasonCode=LOW_MOOD)
    response = await client.get(f"/api/v1/referrals/{referral['id']}/matches", headers=lw)
    assert response.status_code == 200, response.text
    matches = response.json()["matches"]
    ranked = [(m["activity"]["name"], m["components"]["outcome"]) for m in matches]
    assert [name for name, _ in ranked] == ["A", "C", "B"], ranked
    assert ranked[0][1] > ranked[1][1] == 0.5 > ranked[2][1]
    reasons = {m["activity"]["name"]: m["reasons"] for m in matches}
    assert f"100% of about 10 {FELT} reliably better" in reasons["A"]
    assert f"0% of about 10 {FELT} reliably better" in reasons["B"]
    assert not any("reliably better" in r for r in reasons["C"])
    assert "100% of about 10 people referred for low mood and booked here attended" in reasons["C"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _people(priors: OutcomePriors, session: AsyncSession, rules: DisclosureRules) -> set[str]:
    return set((await priors.evidence(session, [MOOD], rules)).values)


async def test_the_priors_are_kept_until_they_expire_or_are_invalidated(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: TokenFactory,
    areas: None,
    create_activity: CreateActivity,
) -> None:
    lw = auth(Role.LINK_WORKER, "Y02718")
    clock = Clock()
    priors = OutcomePriors(max_age_s=300, clock=clock)

    async def history() -> str:
        made: dict[str, Any] = await create_activity(
            name="Choir", locations=_location(), capacity=PLACES
        )
        for _ in range(8):
            await booked_for_low_mood(client, auth, lw, made["id"])
        return str(made["id"])

    first = await history()
    assert await _people(priors, session, DEFAULT_RULES) == {first}
    second = await history()
    clock.now += 300
    assert await _people(priors, session, DEFAULT_RULES) == {first}  # not older than 300 s
    clock.now += 1
    assert await _people(priors, session, DEFAULT_RULES) == {first, second}

    third = await history()
    assert await _people(priors, session, DEFAULT_RULES) == {first, second}
    priors.invalidate()
    assert await _people(priors, session, DEFAULT_RULES) == {first, second, third}

    # other disclosure rules are other priors: nine people needed now
    stricter = DisclosureRules(suppress_below=9, round_to=5, min_n_for_statistics=9)
    assert await _people(priors, session, stricter) == set()
