"""Matching a referral: the person from the referral and the area tables, candidates from the
per-process snapshot of the directory (app/matching/snapshot.py) with the places read now,
then the pure engine."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.areas import service as areas_service
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.matching import engine, repository, snapshot
from app.ops.metrics import MATCHES_SERVED
from app.referrals import needs as referrals_needs
from app.referrals import repository as referrals_repository
from app.referrals import service as referrals_service
from app.referrals.models import Patient, Referral
from app.terminology.suitability import need_category_suitability

GEOLOCATION = "http://hl7.org/fhir/StructureDefinition/geolocation"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Matches:
    referral: Referral
    result: engine.MatchResult
    cards: dict[str, repository.ActivityCard]
    warnings: tuple[str, ...]


def weights(settings: Settings) -> engine.Weights:
    return engine.Weights(
        need_fit=settings.match_weight_need_fit,
        interest_fit=settings.match_weight_interest_fit,
        proximity=settings.match_weight_proximity,
        language_fit=settings.match_weight_language_fit,
        day_fit=settings.match_weight_day_fit,
        spare_capacity=settings.match_weight_spare_capacity,
        equity=settings.match_weight_equity,
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
    session: AsyncSession, referral: Referral, patient: Patient, settings: Settings, today: dt.date
) -> tuple[engine.Person, list[str]]:
    place = await areas_service.locate(session, patient.postcode)
    warnings = [place.warning] if place.warning else []
    location = _geolocation(patient) or (
        (place.latitude, place.longitude)
        if place.known and place.latitude is not None and place.longitude is not None
        else None
    )
    if location is None:
        warnings.append(
            "The person's location is unknown: only online and phone activities are matched"
        )
    prefs: dict[str, Any] = referral.preferences
    needs = await referrals_repository.needs_of(session, referral.id)
    need_texts = {
        need: words
        for need, found_in in needs
        if found_in and (words := referrals_needs.words_at(referral.resource, found_in))
    }
    person = engine.Person(
        age=age_on(patient.birth_date, today),
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
        languages=_languages(patient),
        need_texts=need_texts,
    )
    return person, warnings


async def match_referral(
    session: AsyncSession,
    ctx: referrals_service.Context,
    referral_id: uuid.UUID,
    settings: Settings,
    *,
    limit: int,
    include_full: bool,
    today: dt.date | None = None,
) -> Matches:
    """The activities the referred person can reach, best first, with reasons (DESIGN 7)."""
    referral = await referrals_service.read_referral(session, ctx, referral_id, "$match")
    patient = await referrals_repository.get_patient(session, referral.patient_id)
    assert patient is not None
    today = today or dt.datetime.now(dt.UTC).date()
    person, warnings = await person_for(session, referral, patient, settings, today)
    directory = await snapshot.directory(session)
    places = directory.capacity
    screened = directory.candidates(person, today, places, include_full)
    result = engine.match(
        person,
        screened.activities,
        today=today,
        suitability=need_category_suitability(),
        weights=weights(settings),
        limit=limit,
        include_full=include_full,
        capacity=places,
        prescreened=screened.prescreened,
        sited=screened.sited,
    )
    excluded = {rule: result.excluded[rule] + screened.excluded[rule] for rule in engine.Rule}
    result = engine.MatchResult(result.matches, excluded, result.eligible, result.warnings)
    cards = await repository.cards(session, [m.activity_id for m in result.matches])
    MATCHES_SERVED.inc()
    return Matches(referral, result, cards, tuple(dict.fromkeys([*warnings, *result.warnings])))


async def warm_up(settings: Settings) -> bool:
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
    installed = snapshot.install(key, directory)
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
