"""What happens to a demo referral after intake: its bookings, attendance and outcomes.

``Story`` follows one referral's Task walk (app/demo/referrals.py) and writes the rows the
service would have written at each step: a booking when the Task reaches ``activity-booked``
(on activities the matching engine returns for the person, so every hard rule holds), the
attendance a provider marks, the questionnaires a link worker records (scored by
``app.outcomes.instruments`` and shaped by ``app.outcomes.service.score_rows``, exactly as
``POST /outcomes`` stores them), and the completed Task's ``output``.

The rates are **illustrative**, the demo's own, chosen only to give a dashboard published
figures with a realistic shape:

- engagement falls with deprivation: in IMD quintile 1 (most deprived) more people cannot be
  contacted or decline, and more miss the activity they were booked on (``DID_NOT_ATTEND``),
  than in quintile 5. The direction follows what the project's reference notes
  (/work/shared/reference/domain.md section 5: take-up and refusal differ between groups, and
  areas of highest need have fewer link workers); the sizes are not from a source;
- wellbeing at baseline is lower in more deprived areas, and improves more for people who
  attended an activity: SWEMWBS metric change about +2 on average (+2.2 for people who
  attended, about +0.5 for the few others), with a spread of about 3 (SWEMWBS reliable change is 3).

Deterministic: every draw comes from the ``rng`` given (one stream per referral).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import class_mapper

from app.areas.service import Place
from app.matching import engine, snapshot
from app.matching.scoring import Suitability
from app.matching.service import age_on
from app.outcomes import instruments
from app.outcomes import service as outcomes_service
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.referrals import service as referrals_service

NAMESPACE = uuid.UUID("5d0f6a3e-8c1b-4f7a-b2e9-7a4c1d9e3f58")
RECORDED_BY = "demo-link_worker"  # the sub of `assetlink token --demo`'s link-worker token
# Per IMD quintile (1 = most deprived): the weight of "unable to contact" and "declined"
# against the demo's base mix, and the chance of missing the activity booked (six in ten of
# those are not seen again: the Task fails).
NOT_CONTACTED = {1: 2.0, 2: 1.5, 3: 1.0, 4: 0.75, 5: 0.5}
DECLINED = {1: 1.35, 2: 1.15, 3: 1.0, 4: 0.9, 5: 0.75}
DID_NOT_ATTEND = {1: 0.26, 2: 0.2, 3: 0.16, 4: 0.12, 5: 0.09}
SECOND_BOOKING = 0.3  # a second activity booked at the same time
SECOND_ATTENDED = 0.6  # ... and attended (else did-not-attend)
# Who fills in what at first contact; most follow-ups are done when the review falls due.
BASELINE = {"SWEMWBS": 0.92, "ONS4": 0.3, "UCLA3": 0.15}
UCLA3_IF_LONELY = 0.5
FOLLOW_UP = 0.88
ASSISTED = 0.6  # completed with the link worker's help (else by the person)


def quintile(decile: int | None) -> int:
    return 3 if decile is None else (decile + 1) // 2


@dataclass(frozen=True)
class Matcher:
    """What booking reads: the directory as the matching service sees it (its snapshot, the
    same candidates and the same engine as ``GET /referrals/{id}/matches``), checked on
    ``today`` (the demo directory has no history), and the homes located by the areas
    service."""

    directory: snapshot.Directory
    suitability: Suitability
    today: dt.date
    places: Mapping[str, Place]  # home postcode -> the areas service's place

    def choose(self, person: engine.Person, rng: random.Random) -> list[engine.Activity]:
        """One or two of the person's best matches (each passes every hard rule)."""
        places = self.directory.capacity
        screened = self.directory.candidates(person, self.today)
        found = engine.match(
            person,
            screened.activities,
            today=self.today,
            suitability=self.suitability,
            limit=3,
            capacity=places,
            sited=screened.sited,
            ids_unique=True,
        )
        ranked = [self.directory.activities[m.activity_id] for m in found.matches]
        if not ranked:
            return []
        first = ranked[0] if rng.random() < 0.7 else rng.choice(ranked)
        others = [a for a in ranked if a is not first]
        return [first, *others[:1]] if others and rng.random() < SECOND_BOOKING else [first]


@dataclass(frozen=True)
class Who:
    """The person as matching and the outcomes see them."""

    patient_id: uuid.UUID
    birth_date: dt.date
    gender: str
    postcode: str
    language: str
    needs: tuple[str, ...]
    preferences: Mapping[str, Any]


@dataclass
class HistoryRows:
    bookings: list[dict[str, Any]] = field(default_factory=list)
    outcome_records: list[dict[str, Any]] = field(default_factory=list)
    outcome_scores: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Story:
    """One referral's bookings and outcomes, written step by step as its Task walks."""

    key: str  # "<seed>:<index>": the ids' namespace
    referral_id: uuid.UUID
    who: Who
    decile: int | None
    rng: random.Random
    matcher: Matcher | None
    rows: HistoryRows
    bookings: list[tuple[dict[str, Any], engine.Activity]] = field(default_factory=list)
    records: list[OutcomeRecord] = field(default_factory=list)
    scores: list[OutcomeScore] = field(default_factory=list)
    wellbeing: tuple[float, float] = (0.0, 0.0)  # (baseline level, gain), in SDs
    reviewed: bool = False  # follow-up questionnaires recorded

    def _id(self, kind: str, n: int) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, f"{kind}:{self.key}:{n}")

    # --- bookings ----------------------------------------------------------------------------

    def person(self, on: dt.date) -> engine.Person:
        """The person as ``matching.service.person_for`` sees them on day ``on``."""
        prefs = self.who.preferences
        place = self.matcher.places.get(self.who.postcode) if self.matcher else None
        location = None
        if place is not None and place.latitude is not None and place.longitude is not None:
            location = (place.latitude, place.longitude)
        areas = (place.district, place.local_authority_code) if place is not None else ()
        return engine.Person(
            age=age_on(self.who.birth_date, on),
            max_travel_km=float(prefs.get("max_travel_km", 10)),
            gender=self.who.gender,
            location=location,
            area_codes=frozenset(c for c in areas if c),
            imd_decile=place.imd_decile if place is not None else None,
            needs=self.who.needs,
            interests=frozenset(prefs.get("interests", [])),
            attendance_mode=prefs.get("attendance_mode", "any"),
            digital_access=prefs.get("digital_access", "full"),
            accessibility_needs=frozenset(prefs.get("accessibility_needs", [])),
            available_days=frozenset(prefs.get("available_days", [])),
            free_only=bool(prefs.get("free_only", False)),
            languages=(self.who.language,),
        )

    def book(self, at: dt.datetime) -> bool:
        """Book the person's best matches; False when nothing fits (no booking made)."""
        if self.matcher is None:
            return False
        chosen = self.matcher.choose(self.person(at.date()), self.rng)
        for n, activity in enumerate(chosen):
            row = {
                "id": self._id("booking", n),
                "referral_id": self.referral_id,
                "activity_id": activity.id,
                "patient_id": self.who.patient_id,
                "status": "booked",
                "booked_by": RECORDED_BY,
                "cancelled_reason": None,
                "created_at": at,
                "updated_at": at,
            }
            self.bookings.append((row, activity))
            self.rows.bookings.append(row)
        return bool(chosen)

    def attend(self, at: dt.datetime) -> list[dict[str, Any]]:
        """The first activity attended, a second one attended or missed; the Task's output."""
        for n, (row, _) in enumerate(self.bookings):
            attended = n == 0 or self.rng.random() < SECOND_ATTENDED
            row["status"] = "attended" if attended else "did-not-attend"
            row["updated_at"] = at
        return self.attended_outputs()

    def attended_outputs(self) -> list[dict[str, Any]]:
        return [
            referrals_service.activity_output(activity.id, activity.name)
            for row, activity in sorted(self.bookings, key=lambda b: b[1].id)
            if row["status"] == "attended"
        ]

    def missed(self, at: dt.datetime) -> None:
        """The sessions of the bookings still open were missed."""
        for row, _ in self.bookings:
            if row["status"] == "booked":
                row["status"], row["updated_at"] = "did-not-attend", at

    def ended(self, status: str, at: dt.datetime) -> None:
        """The Task ended: its open bookings are cancelled (their places given back)."""
        for row, _ in self.bookings:
            if row["status"] == "booked":
                row["status"], row["cancelled_reason"], row["updated_at"] = (
                    "cancelled",
                    f"task-{status}",
                    at,
                )

    # --- outcomes ----------------------------------------------------------------------------

    def baseline(self, at: dt.datetime) -> bool:
        """The questionnaires filled in at first contact; False if none (or no history is
        written: no ``matcher``)."""
        if self.matcher is None:
            return False
        shift = 0.15 * (quintile(self.decile) - 3)  # lower wellbeing where more deprived
        self.wellbeing = (self.rng.gauss(shift - 0.2, 0.8), 0.0)
        lonely = "loneliness-isolation" in self.who.needs
        for code, share in BASELINE.items():
            share = UCLA3_IF_LONELY if code == "UCLA3" and lonely else share
            if self.rng.random() < share:
                self._record(code, "baseline", at, self.wellbeing[0])
        return bool(self.records)

    def follow_up(self, at: dt.datetime) -> bool:
        """The review's questionnaires (the instruments of the baseline); False if none."""
        attended = any(row["status"] == "attended" for row, _ in self.bookings)
        gain = self.rng.gauss(0.7 if attended else 0.2, 0.75)
        self.wellbeing = (self.wellbeing[0], gain)
        for code in [r.instrument for r in self.records if r.timepoint == "baseline"]:
            if self.rng.random() < FOLLOW_UP:
                self._record(code, "follow-up", at, self.wellbeing[0] + gain)
                self.reviewed = True
        return self.reviewed

    def outcome_outputs(self) -> list[dict[str, Any]]:
        return outcomes_service.outputs_of(self.records, self.scores)

    def _record(self, code: str, timepoint: str, at: dt.datetime, level: float) -> None:
        scored = instruments.score(code, answers(self.rng, code, level))
        n = len(self.records)
        record = OutcomeRecord(
            id=self._id("outcome", n),
            referral_id=self.referral_id,
            patient_id=self.who.patient_id,
            instrument=code,
            timepoint=timepoint,
            collected_at=at,
            mode="assisted" if self.rng.random() < ASSISTED else "self",
            answers=dict(scored.answers),
            source="json",
            questionnaire_response_id=None,
            questionnaire_response=None,
            recorded_at=at + dt.timedelta(minutes=self.rng.randint(1, 120)),
            recorded_by=RECORDED_BY,
        )
        ids = iter(range(100))
        scores = outcomes_service.score_rows(
            record, scored, lambda: self._id(f"score:{n}", next(ids))
        )
        self.records.append(record)
        self.scores += scores
        self.rows.outcome_records.append(_columns(record))
        self.rows.outcome_scores += [_columns(s) for s in scores]


# --- answers -----------------------------------------------------------------------------------

# Each instrument's scores at wellbeing ``level`` 0 (a typical person referred) and how far one
# SD of wellbeing moves them (negative: a higher score is worse).
SWEMWBS_RAW = (20.0, 4.5)  # raw sum 7-35 (metric about 18.6 at 20: below England's ~23.5)
ONS4 = {
    "life_satisfaction": (5.3, 2.0),
    "worthwhile": (5.9, 1.9),
    "happy": (5.2, 2.2),
    "anxious": (5.4, -2.4),
}
UCLA3_TOTAL = (6.4, -1.4)  # 3-9


def _spread(rng: random.Random, total: int, count: int, low: int, high: int) -> list[int]:
    """``count`` item answers in ``low..high`` summing to ``total`` (clamped to the range)."""
    total = min(max(total, count * low), count * high)
    items = [low] * count
    for _ in range(total - count * low):
        open_ = [i for i in range(count) if items[i] < high]
        items[rng.choice(open_)] += 1
    return items


def answers(rng: random.Random, code: str, level: float) -> dict[str, Any]:
    """Answers to ``code`` of a person at wellbeing ``level`` (SDs from a typical referral)."""
    items = instruments.INSTRUMENTS[code].items
    if code == "SWEMWBS":
        mean, sd = SWEMWBS_RAW
        total = round(rng.gauss(mean + sd * level, 1.5))
        return {i.id: v for i, v in zip(items, _spread(rng, total, 7, 1, 5), strict=True)}
    if code == "UCLA3":
        mean, sd = UCLA3_TOTAL
        total = round(rng.gauss(mean + sd * level, 0.7))
        return {i.id: v for i, v in zip(items, _spread(rng, total, 3, 1, 3), strict=True)}
    if code == "ONS4":
        return {
            item: min(10, max(0, round(rng.gauss(mean + sd * level, 1.2))))
            for item, (mean, sd) in ONS4.items()
        }
    raise ValueError(f"the demo does not generate {code}")


def _columns(row: OutcomeRecord | OutcomeScore) -> dict[str, Any]:
    mapper = class_mapper(type(row))
    return {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs}
