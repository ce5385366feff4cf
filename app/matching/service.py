"""Matching a referral: the person from the referral and the area tables, candidates from the
per-process snapshot of the directory (app/matching/snapshot.py) with the places read now,
then the pure engine."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.areas import service as areas_service
from app.auth.context import Context
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.directory import schedules
from app.directory import service as directory_service
from app.directory.schemas import ActivityCard, ActivityRead, CardSchedule
from app.matching import engine, learning, rules, snapshot, unsuitable
from app.matching.evidence import NO_EVIDENCE
from app.ops.metrics import MATCHES_SERVED
from app.referrals import needs as referrals_needs
from app.referrals import service as referrals_service
from app.referrals.models import Patient, Referral
from app.reporting import service as reporting_service
from app.terminology.situations import person_situations
from app.terminology.suitability import need_category_suitability

GEOLOCATION = "http://hl7.org/fhir/StructureDefinition/geolocation"

log = logging.getLogger(__name__)


SCORE_DECIMALS = 3  # scores and components as shown; ranking uses the exact values
DISTANCE_DECIMALS = 1  # kilometres as shown
NEXT_SESSIONS = 3

# what is shown of each matched activity: its card (the JSON match page) or all of it (FHIR)
Shown = TypeVar("Shown", ActivityCard, ActivityRead)
Details = Callable[[AsyncSession, Sequence[str]], Awaitable[dict[str, Shown]]]
CARDS: Details[ActivityCard] = directory_service.get_cards
WHOLE: Details[ActivityRead] = directory_service.get_many


@dataclass(frozen=True)
class MatchItem(Generic[Shown]):
    """A match as it is shown (JSON and FHIR alike): figures rounded, with the activity, its
    next sessions and the venue."""

    match: engine.Match
    activity: Shown
    score: float
    components: dict[str, float]
    distance_km: float | None
    venue: int | None  # index in ``activity.locations`` of the location attended, in person
    next_sessions: tuple[schedules.Session, ...]


@dataclass(frozen=True)
class Matches(Generic[Shown]):
    referral: Referral
    result: engine.MatchResult
    items: list[MatchItem[Shown]]
    warnings: tuple[str, ...]
    today: dt.date
    unsuitable: list[unsuitable.Marked]  # marked not suitable for the referral: left out


def weights(settings: Settings) -> engine.Weights:
    return engine.Weights(
        need_fit=settings.match_weight_need_fit,
        interest_fit=settings.match_weight_interest_fit,
        proximity=settings.match_weight_proximity,
        language_fit=settings.match_weight_language_fit,
        day_fit=settings.match_weight_day_fit,
        spare_capacity=settings.match_weight_spare_capacity,
        equity=settings.match_weight_equity,
        group_fit=settings.match_weight_group_fit,
        situation_fit=settings.match_weight_situation_fit,
        outcome=settings.match_weight_outcome,
    )


def age_on(birth_date: dt.date, today: dt.date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def _geolocation(patient: Patient) -> tuple[float, float] | None:
    """The standard geolocation extension on the Patient's address, when the GP sent one."""
    for address in patient.resource.get("address", []):
        for extension in address.get("extension", []):
            if extension.get("url") != GEOLOCATION:
                continue
            parts = {e.get("url"): e.get("valueDecimal") for e in extension.get("extension", [])}
            lat, lon = parts.get("latitude"), parts.get("longitude")
            if (
                isinstance(lat, int | float)
                and isinstance(lon, int | float)
                and -90 <= lat <= 90
                and -180 <= lon <= 180
            ):
                return float(lat), float(lon)
    return None


def _languages(patient: Patient) -> tuple[str, ...]:
    found: list[tuple[int, str]] = []
    for index, communication in enumerate(patient.resource.get("communication", [])):
        codings = (communication.get("language") or {}).get("coding", [])
        if codings and isinstance(codings[0].get("code"), str):
            found.append((0 if communication.get("preferred") else index + 1, codings[0]["code"]))
    return tuple(code for _, code in sorted(found))


async def person_for(
    session: AsyncSession,
    referral: Referral,
    patient: Patient,
    needs_found: list[tuple[str, str | None]],
    settings: Settings,
    today: dt.date,
) -> tuple[engine.Person, list[str]]:
    """The person as the engine sees them, and the warnings about their place;
    ``needs_found``: the referral's needs as `referrals_service.needs_of` gives them."""
    place = await areas_service.locate(session, patient.postcode)
    location = _geolocation(patient)
    warnings = []
    if location is None and place.latitude is not None and place.longitude is not None:
        location = (place.latitude, place.longitude)
        warnings += [place.warning] if place.warning else []  # the district's centre
    # an unknown location is the engine's warning ("only online and phone activities")
    prefs: dict[str, Any] = referral.preferences
    needs = referrals_needs.in_reason_order(referral.resource, needs_found)
    need_texts = {
        need: words
        for need, found_in in needs
        if found_in and (words := referrals_needs.words_at(referral.resource, found_in))
    }
    languages = _languages(patient)
    age = age_on(patient.birth_date, today)
    person = engine.Person(
        age=age,
        max_travel_km=float(prefs.get("max_travel_km", settings.max_travel_km)),
        gender=patient.gender,
        location=location,
        area_codes=frozenset(c for c in (place.district, place.local_authority_code) if c),
        imd_decile=place.imd_decile,
        needs=tuple(need for need, _ in needs),
        interests=frozenset(prefs.get("interests", [])),
        attendance_mode=prefs.get("attendance_mode", "any"),
        digital_access=prefs.get("digital_access", "full"),
        accessibility_needs=frozenset(prefs.get("accessibility_needs", [])),
        available_days=frozenset(prefs.get("available_days", [])),
        free_only=bool(prefs.get("free_only", False)),
        languages=languages,
        need_texts=need_texts,
        situations=person_situations(
            referrals_needs.reason_texts(referral.resource),
            prefs.get("accessibility_needs", []),
            languages,
            age,
        ),
        group_wishes=frozenset(prefs.get("group_preferences", [])),
    )
    return person, warnings


async def match_referral(
    session: AsyncSession,
    ctx: Context,
    referral_id: uuid.UUID,
    settings: Settings,
    snapshots: snapshot.Snapshots,
    details: Details[Shown],
    *,
    limit: int,
    include_full: bool,
    today: dt.date | None = None,
    priors: learning.OutcomePriors | None = None,
) -> Matches[Shown]:
    """The activities the referred person can reach, best first, with reasons (DESIGN 7), each
    with the ``details`` wanted: `CARDS` for the match page, `WHOLE` for FHIR's
    HealthcareService. The activities marked not suitable for the referral are left out (and
    listed); ``priors``: the outcome priors (none: every activity's outcome is neutral)."""
    referral, patient, needs = await referrals_service.read_referral_patient_and_needs(
        session, ctx, referral_id, "$match"
    )
    today = today or dt.datetime.now(dt.UTC).date()
    marks = await unsuitable.marks_of(session, referral.id)
    person, result, warnings = await _matched(
        session,
        referral,
        patient,
        needs,
        settings,
        snapshots,
        _Asked(limit, include_full, today, frozenset(m.mark.activity_id for m in marks), priors),
    )
    if marks:
        n = len(marks)
        warnings += (
            f"{n} {'activity' if n == 1 else 'activities'} marked not suitable for this referral "
            f"{'is' if n == 1 else 'are'} left out.",
        )
    activities = await details(session, [m.activity_id for m in result.matches])
    items = [
        _item(m, activities[m.activity_id], person.location, today)
        for m in result.matches
        if m.activity_id in activities  # (deleted since the snapshot was read)
    ]
    MATCHES_SERVED.inc()
    return Matches(referral, result, items, warnings, today, marks)


@dataclass(frozen=True)
class _Asked:
    limit: int
    include_full: bool
    today: dt.date
    leave_out: frozenset[str]
    priors: learning.OutcomePriors | None


async def _matched(
    session: AsyncSession,
    referral: Referral,
    patient: Patient,
    needs: list[tuple[str, str | None]],
    settings: Settings,
    snapshots: snapshot.Snapshots,
    asked: _Asked,
) -> tuple[engine.Person, engine.MatchResult, tuple[str, ...]]:
    """The person, the engine's result over the snapshot's candidates and every warning."""
    limit, include_full, today = asked.limit, asked.include_full, asked.today
    person, warnings = await person_for(session, referral, patient, needs, settings, today)
    evidence = (
        NO_EVIDENCE
        if asked.priors is None
        else await asked.priors.evidence(
            session, person.needs, reporting_service.disclosure_rules(settings)
        )
    )
    directory = await snapshots.directory(session)
    places = directory.capacity
    screened = directory.candidates(person, today)
    result = engine.match(
        person,
        screened.activities,
        today=today,
        suitability=need_category_suitability(),
        weights=weights(settings),
        limit=limit,
        include_full=include_full,
        capacity=places,
        sited=screened.sited,
        evidence=evidence,
        leave_out=asked.leave_out,
        ids_unique=True,
    )
    excluded = {rule: result.excluded[rule] + screened.excluded[rule] for rule in engine.Rule}
    result = engine.MatchResult(result.matches, excluded, result.eligible, result.warnings)
    return person, result, (*warnings, *result.warnings)


_COMPONENTS = tuple(f.name for f in fields(engine.Components))


def _item(
    match: engine.Match,
    activity: Shown,
    person: tuple[float, float] | None,
    today: dt.date,
) -> MatchItem[Shown]:
    return MatchItem(
        match=match,
        activity=activity,
        score=round(match.score, SCORE_DECIMALS),
        components={
            name: round(getattr(match.components, name), SCORE_DECIMALS) for name in _COMPONENTS
        },
        distance_km=None
        if match.distance_km is None
        else round(match.distance_km, DISTANCE_DECIMALS),
        venue=_venue(match, activity, person),
        next_sessions=_next_sessions(activity.schedules, today)
        if isinstance(activity, ActivityCard)
        else tuple(schedules.next_sessions(activity.schedules, today, NEXT_SESSIONS)),
    )


@functools.lru_cache(maxsize=4096)
def _next_sessions(
    timetable: tuple[CardSchedule, ...], today: dt.date
) -> tuple[schedules.Session, ...]:
    """Pure and asked again for the same activities all day: worked out once per day."""
    return tuple(schedules.next_sessions(timetable, today, NEXT_SESSIONS))


def _venue(match: engine.Match, activity: Shown, person: tuple[float, float] | None) -> int | None:
    """The location the engine measured the match's distance to: of the activity's located
    places, the one at that distance (the engine decided which ones the person can use)."""
    if match.distance_km is None or person is None:
        return None
    located = [
        (abs(rules.haversine_km(*person, loc.latitude, loc.longitude) - match.distance_km), i)
        for i, loc in enumerate(activity.locations)
        if loc.latitude is not None and loc.longitude is not None
    ]
    return min(located)[1] if located else None


async def warm_up(settings: Settings, snapshots: snapshot.Snapshots) -> bool:
    """Build this process's snapshot of the directory before its first match (started by the
    application's lifespan when ``ASSETLINK_MATCH_WARMUP`` is on; docs/matching.md).

    The snapshot is loaded in a thread of its own, with its own event loop and connection, so
    that this process goes on serving meanwhile; it is then installed unless a match request
    made one first, and refreshed at the next match like any other (so nothing committed
    meanwhile is missed). A failure is logged and leaves the first match to build it. Returns
    whether a snapshot was installed."""
    built: concurrent.futures.Future[tuple[str, snapshot.Directory]] = concurrent.futures.Future()

    def run() -> None:
        if not built.set_running_or_notify_cancel():
            return
        try:
            built.set_result(asyncio.run(_built(settings)))
        except BaseException as error:
            built.set_exception(error)

    threading.Thread(target=run, name="assetlink-match-warm-up", daemon=True).start()
    try:
        key, directory = await asyncio.wrap_future(built)
    except Exception as error:
        log.warning(
            "matching warm-up failed (the first match builds the snapshot): %s", type(error)
        )
        return False
    installed = snapshots.install(key, directory)
    log.info(
        "matching warm-up: %d activities (installed: %s)", len(directory.activities), installed
    )
    return installed


async def _built(settings: Settings) -> tuple[str, snapshot.Directory]:
    engine = create_engine(settings, pooled=False)
    try:
        async with create_sessionmaker(engine)() as session:
            directory = snapshot.Directory()
            await directory.refresh(session)
        directory.prepare(dt.datetime.now(dt.UTC).date())
        return snapshot.key_of(engine.url), directory
    finally:
        await engine.dispose()
