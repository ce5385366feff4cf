"""Deterministic demo referrals, stored exactly as the intake and the Task updates store them.

Each referral is the ServiceRequest a GP system would send (contained Patient and Consent,
needs in ``reasonCode``, the referral-preferences extension); ``stored`` applies the intake's
rules for what is kept (``app.referrals.intake.check_referral``: contained Patient taken out,
``id``/``meta``/``text`` dropped) and tests/demo/test_referrals.py checks the two agree. Rows
are rendered through ``app.referrals.fhir`` for ``resource_version``, one version per change a
link worker would have made (the Task's walk through the status graph, DESIGN.md 5.2); beside
the walk, the bookings, attendance and outcomes the service would have stored
(app/demo/history.py).

Everything is fictitious: NHS numbers are in the 999 test range (never a real person) and pass
the Modulus 11 check, phone numbers are in Ofcom's drama range (020 7946 0xxx), practices are
ODS-shaped demo codes. Same seed, count and ``as_of`` day: the same rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import random
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import class_mapper

from app.areas import postcodes
from app.demo import history
from app.fhir import CANONICAL_BASE
from app.outcomes import progress
from app.referrals import fhir, lifecycle
from app.referrals.intake import ODS_SYSTEM, PREFERENCES_URL, REFERRAL_CODE, SNOMED
from app.referrals.models import Patient, Referral, Task
from app.referrals.nhs_number import SYSTEM as NHS_NUMBER_SYSTEM
from app.referrals.plan import new_task, version_row
from app.referrals.service import CONTACT_STAGES
from app.terminology.codesystems import ACTIVITY_CATEGORY_SYSTEM, NEED_SYSTEM

NAMESPACE = uuid.UUID("0b8e7c4a-2f55-4d7e-9c1e-3a6d9f1b7e21")
IDENTIFIER_SYSTEM = f"{CANONICAL_BASE}/NamingSystem/demo-referral"
LINK_WORKER_ODS = "Y02718"  # the link-worker service of `assetlink token --demo`
PRACTICES = (("A81001", 40), ("A81002", 20), ("A81003", 15), ("A81004", 15), ("A81005", 10))
REPEAT_SHARE = 0.1  # one referral in ten is a person's second
HISTORY_DAYS = 548  # 18 months

# Needs behind social-prescribing referrals, most common first (loneliness, low mood and
# anxiety lead in NHS England's social prescribing reports; the weights are the demo's own).
NEEDS = (
    ("loneliness-isolation", "Lives alone and rarely sees anyone", 30),
    ("low-mood", "Low mood for some months", 20),
    ("anxiety-stress", "Anxious about going out", 16),
    ("long-term-condition", "Living with a long-term condition", 8),
    ("physical-inactivity", "Would like to be more active", 7),
    ("bereavement", "Recently bereaved", 5),
    ("debt-finance", "Worried about money", 5),
    ("carer-support", "Caring for a family member", 4),
    ("housing", "Housing problems", 3),
    ("employment-learning", "Looking for work or learning", 2),
)
INTERESTS = {
    "loneliness-isolation": ("social-groups", "befriending", "music-singing", "arts-creative"),
    "low-mood": ("arts-creative", "gardening", "nature-green", "walking"),
    "anxiety-stress": ("nature-green", "gardening", "libraries-reading", "walking"),
    "long-term-condition": ("physical-activity", "walking", "music-singing"),
    "physical-inactivity": ("walking", "physical-activity", "dance"),
    "bereavement": ("social-groups", "befriending", "arts-creative"),
}
AGES = ((18, 29, 10), (30, 44, 14), (45, 59, 20), (60, 74, 26), (75, 84, 20), (85, 99, 10))
GIVEN = {
    "female": ("Grace", "Mary", "Fatma", "Aisha", "Joyce", "Agnieszka", "Ruth", "Sarah", "Amina",
               "Patricia", "Nadia", "Chloe", "Esther", "Margaret", "Priya", "Blessing"),
    "male": ("John", "Mehmet", "David", "Kwame", "Tomasz", "Samuel", "Abdul", "Peter", "Daniel",
             "Yusuf", "George", "Michael", "Jamal", "Ravi", "Chaim", "Patrick"),
}  # fmt: skip
FAMILY = ("Okafor", "Smith", "Yilmaz", "Cohen", "Begum", "Kowalski", "Jones", "Mensah", "Ali",
          "Brown", "Williams", "Hussain", "Campbell", "Nowak", "Taylor", "Osei", "Demir",
          "Ahmed", "Murphy", "Levy", "Patel", "Clarke", "Roberts", "Adeyemi")  # fmt: skip
STREETS = ("Mare Street", "Chatsworth Road", "Clarence Road", "Amhurst Road", "Dalston Lane",
           "Stoke Newington Road", "Lower Clapton Road", "Well Street")  # fmt: skip
LANGUAGES = (("en", 85), ("tr", 4), ("pl", 3), ("bn", 3), ("yi", 2), ("so", 2), ("es", 1))
DECLINED_DISPLAY = "Social prescribing declined (situation)"  # docs/terminology.md, lifecycle


def _weighted(rng: random.Random, items: tuple[tuple[Any, ...], ...]) -> Any:
    return rng.choices(items, weights=[item[-1] for item in items])[0]


@dataclass(frozen=True)
class Home:
    postcode: str
    weight: float
    decile: int | None = None


# The share of the referrals from each IMD quintile (1 = most deprived): deprived areas are
# over-represented, as in social prescribing nationally (domain.md section 5: 42% of people
# referred in 2023 lived in the most deprived areas); every quintile has a volume of its own.
QUINTILE_SHARES = {1: 0.30, 2: 0.25, 3: 0.20, 4: 0.14, 5: 0.11}


def homes(postcodes_file: Path, imd_file: Path) -> list[Home]:
    """The fixture's postcodes, weighted so that each IMD quintile has its ``QUINTILE_SHARES``
    of the people (evenly over the quintile's postcodes); a postcode without a decile counts as
    quintile 3."""
    deciles: dict[str, int] = {}
    with imd_file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            deciles[row[0].strip().upper()] = int(row[-1])
    found: list[tuple[str, int | None]] = []
    with postcodes_file.open(newline="", encoding="utf-8-sig") as handle:
        for line in csv.DictReader(handle):
            postcode = postcodes.normalise(line["pcds"])
            if postcode and not line.get("doterm"):
                found.append((postcode, deciles.get(line["lsoa21"].strip().upper())))
    quintiles = [history.quintile(d) for _, d in found]
    per_quintile = Counter(quintiles)
    return [
        Home(postcode, QUINTILE_SHARES[q] / per_quintile[q], decile)
        for (postcode, decile), q in zip(found, quintiles, strict=True)
    ]


def nhs_numbers(seed: int, count: int) -> list[str]:
    """``count`` distinct valid NHS numbers 999xxxxxxc, in a seed-dependent order."""
    found: list[str] = []
    offset = random.Random(f"nhs:{seed}").randrange(1_000_000)  # noqa: S311 (demo data)
    for k in range(1_000_000):
        base = "999" + f"{(k * 7_654_321 + offset) % 1_000_000:06d}"
        total = sum(int(d) * w for d, w in zip(base, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            found.append(base + str(check))
            if len(found) == count:
                return found
    raise ValueError(f"only {len(found)} demo NHS numbers exist; ask for fewer referrals")


def patient_count(referrals: int) -> int:
    return max(1, min(909_000, round(referrals * (1 - REPEAT_SHARE))))


def referral_value(seed: int, index: int) -> str:
    return f"DEMO-{seed}-{index:07d}"


def _id(kind: str, seed: int, index: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{seed}:{index}")


@dataclass
class ReferralRows:
    """Rows ready for ``executemany``, one list per table, in insert order."""

    patients: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    codings: list[dict[str, Any]] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    history: history.HistoryRows = field(default_factory=history.HistoryRows)


@dataclass(frozen=True)
class Person:
    resource: dict[str, Any]  # the contained Patient as sent
    nhs_number: str
    birth_date: dt.date
    gender: str
    postcode: str
    age: int
    language: str
    decile: int | None


def person(
    seed: int,
    index: int,
    number: str,
    homes_: list[Home],
    as_of: dt.date,
    cum_weights: list[float] | None = None,
) -> Person:
    rng = random.Random(f"patient:{seed}:{index}")  # noqa: S311 (demo data)
    gender = rng.choices(("female", "male", "unknown"), weights=(58, 40, 2))[0]
    low, high, _ = _weighted(rng, AGES)
    age = rng.randint(low, high)
    birth_date = as_of - dt.timedelta(days=age * 365 + rng.randrange(365))
    cum = cum_weights or list(itertools.accumulate(h.weight for h in homes_))
    home = rng.choices(homes_, cum_weights=cum)[0]
    given = rng.choice(GIVEN["male" if gender == "male" else "female"])
    language = _weighted(rng, LANGUAGES)[0]
    resource = {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": number}],
        "name": [{"family": rng.choice(FAMILY), "given": [given]}],
        "gender": gender,
        "birthDate": birth_date.isoformat(),
        "address": [
            {
                "line": [f"{rng.randint(1, 240)} {rng.choice(STREETS)}"],
                "city": "London",
                "postalCode": home.postcode,
            }
        ],
        "telecom": [{"system": "phone", "value": f"020 7946 0{rng.randrange(1000):03d}"}],
        "communication": [
            {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": language}]}}
        ],
    }
    return Person(resource, number, birth_date, gender, home.postcode, age, language, home.decile)


def _preferences(rng: random.Random, needs: list[str], age: int) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    pool = sorted({i for n in needs for i in INTERESTS.get(n, ("social-groups",))})
    for interest in rng.sample(pool, min(len(pool), rng.choice((1, 1, 2, 3)))):
        parts.append(
            {
                "url": "interest",
                "valueCoding": {"system": ACTIVITY_CATEGORY_SYSTEM, "code": interest},
            }
        )
    mode = rng.choices(("in-person", "any", "online", "phone"), weights=(60, 25, 8, 7))[0]
    parts.append({"url": "attendanceMode", "valueCode": mode})
    digital = rng.choices(
        ("none", "limited", "full"), weights=(35, 40, 25) if age >= 70 else (8, 27, 65)
    )[0]
    parts.append({"url": "digitalAccess", "valueCode": digital})
    for need, share in (("wheelchair", 0.08), ("hearing-loop", 0.05), ("large-print", 0.05)):
        if rng.random() < share * (2 if age >= 75 else 1):
            parts.append({"url": "accessibilityNeed", "valueCode": need})
    days = sorted(rng.sample(range(7), rng.choice((1, 2, 3, 5))))
    parts.extend(
        {"url": "availableDay", "valueCode": ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d]}
        for d in days
    )
    parts.append({"url": "maxTravelKm", "valueDecimal": rng.choice((1, 2, 3, 5, 5, 10))})
    parts.append({"url": "freeOnly", "valueBoolean": rng.random() < 0.45})
    return {"url": PREFERENCES_URL, "extension": parts}


def service_request(
    rng: random.Random, value: str, who: Person, requester: str, authored: dt.datetime
) -> tuple[dict[str, Any], list[str]]:
    """The ServiceRequest as the GP system sends it, and its needs."""
    needs: list[str] = []
    for _ in range(rng.choices((1, 2, 3), weights=(50, 35, 15))[0]):
        need = _weighted(rng, NEEDS)[0]
        if need not in needs:
            needs.append(need)
    texts = {code: text for code, text, _ in NEEDS}
    consent_at = authored - dt.timedelta(minutes=rng.randint(2, 30))
    resource = {
        "resourceType": "ServiceRequest",
        "contained": [who.resource, fhir.opt_in_consent(consent_at)],
        "identifier": [{"system": IDENTIFIER_SYSTEM, "value": value}],
        "status": "active",
        "intent": "order",
        "code": fhir.social_prescribing_code(),
        "subject": {"reference": "#patient"},
        "requester": {"identifier": {"system": ODS_SYSTEM, "value": requester}},
        "authoredOn": authored.isoformat(),
        "reasonCode": [
            {"coding": [{"system": NEED_SYSTEM, "code": n}], "text": texts[n]} for n in needs
        ],
        "supportingInfo": [{"reference": "#consent"}],
        "extension": [_preferences(rng, needs, who.age)],
    }
    return resource, needs


def stored(resource: dict[str, Any]) -> dict[str, Any]:
    """What the intake keeps of a ServiceRequest whose subject is contained (``check_referral``)."""
    kept = {k: v for k, v in resource.items() if k not in ("id", "meta", "text")}
    kept["contained"] = [c for c in resource["contained"] if c["resourceType"] != "Patient"]
    return kept


def stored_patient(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in ("id", "meta", "text")}


def preferences_of(extension: Mapping[str, Any]) -> dict[str, Any]:
    """The plain preferences ``parse_preferences`` makes of the extension."""
    keys = {
        "attendanceMode": "attendance_mode",
        "digitalAccess": "digital_access",
        "accessibilityNeed": "accessibility_needs",
        "availableDay": "available_days",
    }
    prefs: dict[str, Any] = {}
    for part in extension["extension"]:
        url = part["url"]
        if url == "interest":
            prefs.setdefault("interests", []).append(part["valueCoding"]["code"])
        elif url in ("accessibilityNeed", "availableDay"):
            prefs.setdefault(keys[url], []).append(part["valueCode"])
        elif url in keys:
            prefs[keys[url]] = part["valueCode"]
        elif url == "maxTravelKm":
            prefs["max_travel_km"] = float(part["valueDecimal"])
        else:
            prefs["free_only"] = part["valueBoolean"]
    return prefs


# --- the Task's walk ---------------------------------------------------------------------------

Step = tuple[
    float, str, str | None, dict[str, Any] | None
]  # days after intake, status, stage, reason
OUTCOMES = (
    ("completed", 50),
    ("ongoing", 14),
    ("declined", 15),
    ("failed", 10),
    ("rejected", 7),
    ("on-hold", 4),
    ("revoked", 2),
)
DECLINED_REASON = {
    "coding": [{"system": lifecycle.DECLINED[0], "code": lifecycle.DECLINED[1],
                "display": DECLINED_DISPLAY}],
    "text": "Declined social prescribing at first contact",
}  # fmt: skip


MISSED_REASON = {"text": "Did not attend the activity booked and could not be re-engaged"}
NOTHING_FITS = {"text": "Waiting for a place on a suitable activity"}


def walk(rng: random.Random, quintile: int = 3) -> tuple[list[Step], bool]:
    """The Task's versions after ``requested`` (days after intake, status, stage, statusReason),
    and whether the referrer revoked the referral at the last step. ``quintile`` (IMD, 1 = most
    deprived) shifts engagement (``history.NOT_CONTACTED``, ``DECLINED``, ``DID_NOT_ATTEND``).
    The review falls due 6 to 12 weeks after first contact (DESIGN.md 13's schedule)."""
    scale = {"failed": history.NOT_CONTACTED[quintile], "declined": history.DECLINED[quintile]}
    weights = [w * scale.get(name, 1.0) for name, w in OUTCOMES]
    outcome = rng.choices([name for name, _ in OUTCOMES], weights=weights)[0]
    t = 0.0

    def later(low: float, high: float) -> float:
        nonlocal t
        t += rng.uniform(low, high)
        return t

    if outcome == "rejected":
        reason = {"text": "Needs a mental health service rather than social prescribing"}
        return [(later(0.2, 3), "rejected", None, reason)], False
    if outcome == "revoked":
        return [
            (later(0.1, 2), "cancelled", None, {"text": "The referrer revoked the referral"})
        ], True
    steps: list[Step] = [(later(0.2, 3), "accepted", None, None)]
    if rng.random() < 0.45 or outcome == "failed":
        steps.append((later(0.5, 5), "accepted", "contact-attempted", None))
    if outcome == "failed":
        reason = {"text": "Unable to contact after three attempts"}
        steps.append((later(7, 21), "failed", "contact-attempted", reason))
        return steps, False
    if outcome == "declined" and rng.random() < 0.4:
        steps.append((later(1, 7), "cancelled", steps[-1][2], DECLINED_REASON))
        return steps, False
    first_contact = later(1, 10)
    steps.append((first_contact, "in-progress", "first-contact", None))
    if outcome == "declined" and rng.random() < 0.6:
        steps.append((later(0, 3), "cancelled", "first-contact", DECLINED_REASON))
        return steps, False
    for stage, low, high in (
        ("plan-agreed", 3, 14),
        ("activity-booked", 2, 14),
        ("attending", 5, 30),
    ):
        steps.append((later(low, high), "in-progress", stage, None))
        if stage == "activity-booked" and outcome == "declined":  # before the first session
            steps.append((later(1, 10), "cancelled", stage, DECLINED_REASON))
            return steps, False
        if stage == "activity-booked" and rng.random() < history.DID_NOT_ATTEND[quintile]:
            if rng.random() < 0.6:  # not seen again
                steps.append((later(7, 28), "failed", stage, MISSED_REASON))
                return steps, False
            break  # missed it, but still reviewed when the review falls due
        if outcome == "on-hold" and rng.random() < 0.5:
            break
    if outcome == "on-hold":
        reason = {"text": "Paused while the person is in hospital"}
        steps.append((later(3, 20), "on-hold", steps[-1][2], reason))
        return steps, False
    t = max(t + rng.uniform(3, 10), first_contact + rng.uniform(42, 84))
    steps.append((t, "in-progress", "follow-up-due", None))
    if outcome == "completed":
        steps.append((later(5, 30), "completed", "follow-up-due", None))
    return steps, False


# --- rows --------------------------------------------------------------------------------------


def referrals(
    seed: int,
    count: int,
    as_of: dt.date,
    homes_: list[Home],
    routing: Mapping[str, str],
    *,
    matcher: history.Matcher | None = None,
    batch: int = 5000,
) -> Iterator[ReferralRows]:
    """The demo referrals in batches (a repeat referral's person is always in an earlier or the
    same batch, before it), each with its bookings and outcomes (``history``). ``routing``:
    practice ODS -> performer ODS (else the demo link worker). ``matcher``: the directory to
    book from; without it nobody is booked (a Task that reaches ``activity-booked`` then has no
    booking)."""
    people = patient_count(count)
    numbers = nhs_numbers(seed, people)
    cum = list(itertools.accumulate(h.weight for h in homes_))
    end = dt.datetime.combine(as_of, dt.time(), dt.UTC)
    rows = ReferralRows()
    for i in range(count):
        rng = random.Random(f"referral:{seed}:{i}")  # noqa: S311 (demo data)
        repeat = i >= people
        j = rng.randrange(people) if repeat else i
        who = person(seed, j, numbers[j], homes_, as_of, cum)
        patient_id = _id("patient", seed, j)
        days_ago = rng.triangular(1, HISTORY_DAYS, 1) if not repeat else rng.uniform(1, 90)
        authored = (end - dt.timedelta(days=int(days_ago))).replace(
            hour=rng.randint(8, 17), minute=rng.randrange(60)
        )
        received = authored + dt.timedelta(minutes=rng.randint(1, 90))
        requester = _weighted(rng, PRACTICES)[0]
        performer = routing.get(requester, LINK_WORKER_ODS)
        payload, needs = service_request(rng, referral_value(seed, i), who, requester, authored)
        if not repeat:
            patient = _patient(patient_id, who, received)
            rows.patients.append(_columns(patient))
            rows.versions.append(version_row(fhir.patient_resource(patient), received))
        referral = Referral(
            id=_id("referral", seed, i),
            version_id=1,
            status="active",
            intent="order",
            patient_id=patient_id,
            requester_ods=requester,
            performer_ods=performer,
            authored_on=authored,
            preferences=preferences_of(payload["extension"][0]),
            resource=stored(payload),
            created_at=received,
            updated_at=received,
        )
        rows.versions.append(version_row(fhir.service_request_resource(referral), received))
        task_id = _id("task", seed, i)
        task = Task(**new_task(task_id, referral.id, patient_id, requester, performer, received))
        rows.versions.append(version_row(fhir.task_resource(task), received))
        story = history.Story(
            key=f"{seed}:{i}",
            referral_id=referral.id,
            who=history.Who(
                patient_id,
                who.birth_date,
                who.gender,
                who.postcode,
                who.language,
                tuple(needs),
                referral.preferences,
            ),
            decile=who.decile,
            rng=random.Random(f"history:{seed}:{i}"),  # noqa: S311 (demo data)
            matcher=matcher,
            rows=rows.history,
        )
        rows.versions += _walked(rng, referral, task, received, end, story)
        rows.referrals.append(_columns(referral))
        rows.tasks.append(_columns(task))
        rows.identifiers.append(
            {
                "referral_id": referral.id,
                "system": IDENTIFIER_SYSTEM,
                "value": referral_value(seed, i),
            }
        )
        rows.codings.append(
            {"referral_id": referral.id, "element": "code", "system": SNOMED, "code": REFERRAL_CODE}
        )
        rows.needs.extend({"referral_id": referral.id, "need": n} for n in needs)
        if len(rows.referrals) >= batch:
            yield rows
            rows = ReferralRows()
    if rows.referrals:
        yield rows


def _patient(patient_id: uuid.UUID, who: Person, received: dt.datetime) -> Patient:
    return Patient(
        id=patient_id,
        version_id=1,
        nhs_number=who.nhs_number,
        birth_date=who.birth_date,
        gender=who.gender,
        postcode=who.postcode,
        resource=stored_patient(who.resource),
        created_at=received,
        updated_at=received,
    )


def _walked(
    rng: random.Random,
    referral: Referral,
    task: Task,
    received: dt.datetime,
    end: dt.datetime,
    story: history.Story,
) -> list[dict[str, Any]]:
    """The Task's ``walk`` up to ``end`` (and now), applied to ``task`` and ``referral``, with
    what the service writes beside each step (``story``: bookings, attendance, outcomes): the
    version rows of each change."""
    versions = []
    steps, revoked = walk(rng, history.quintile(story.decile))
    limit = min(end, dt.datetime.now(dt.UTC))
    engaged = any(stage == "plan-agreed" for _, _, stage, _ in steps)

    seen: list[str] = []  # the Task's stages so far, newest first

    def keep(at: dt.datetime) -> None:
        task.version_id += 1
        task.updated_at = at
        versions.append(version_row(fhir.task_resource(task), at))
        if task.business_status is not None:
            seen.insert(0, task.business_status)

    def recorded(timepoint: str, at: dt.datetime) -> None:
        """What recording an outcome does to the Task (``app.outcomes.progress``)."""
        moved = progress.next_stage(timepoint, task.status, task.business_status, seen)
        if moved is not None and moved != task.business_status:
            task.business_status = moved
            keep(at)

    for days, status, stage, reason in steps:
        at = received + dt.timedelta(days=days)
        if at > limit:
            break
        if revoked:
            referral.status, referral.version_id, referral.updated_at = "revoked", 2, at
            versions.append(version_row(fhir.service_request_resource(referral), at))
        status, stage, reason = _beside(story, task, at, status, stage, reason)
        task.status, task.business_status, task.status_reason = status, stage, reason
        if stage in CONTACT_STAGES and task.first_contact_at is None:
            task.first_contact_at = at
        keep(at)
        if status == "completed":
            referral.status, referral.version_id, referral.updated_at = "completed", 2, at
            versions.append(version_row(fhir.service_request_resource(referral), at))
        if reason is NOTHING_FITS:
            break
        if stage == "first-contact" and status == "in-progress" and engaged:
            taken = at + dt.timedelta(minutes=story.rng.randint(10, 50))
            if taken <= limit and story.baseline(taken):
                recorded("baseline", taken)
        if stage == "follow-up-due" and status == "in-progress" and story.records:
            taken = at + dt.timedelta(days=story.rng.uniform(0.5, 4.5))
            if taken <= limit and story.follow_up(taken):
                recorded("follow-up", taken)  # the review done: back to the stage before
    return versions


def _beside(
    story: history.Story,
    task: Task,
    at: dt.datetime,
    status: str,
    stage: str | None,
    reason: dict[str, Any] | None,
) -> tuple[str, str | None, dict[str, Any] | None]:
    """What the service writes with a step of the walk (bookings, attendance, the completed
    Task's output), and the step as it then is: a Task reaching ``activity-booked`` with
    nothing the person can book goes on hold instead."""
    if (
        stage == "activity-booked"
        and status == "in-progress"
        and story.matcher is not None
        and not story.book(at)
    ):
        return "on-hold", task.business_status, NOTHING_FITS
    if reason is MISSED_REASON or (stage == "follow-up-due" and status == "in-progress"):
        story.missed(at - dt.timedelta(days=story.rng.uniform(1, 3)))  # still booked: missed
    if stage == "attending" and status == "in-progress":
        task.output = story.attend(at)
    if status in lifecycle.TERMINAL:
        story.ended(status, at)
    if status == "completed":
        task.output = [*story.attended_outputs(), *story.outcome_outputs()]
        stage = task.business_status if story.reviewed else stage
    return status, stage, reason


def _columns(row: Patient | Referral | Task) -> dict[str, Any]:
    mapper = class_mapper(type(row))
    return {attr.key: getattr(row, attr.key) for attr in mapper.column_attrs}
