"""Outcome use cases: record (JSON or QuestionnaireResponse), list with changes, FHIR reads,
and the outcome entries of a completed Task's ``output`` (the message back to the GP).

Every function takes the request ``Context`` (app/auth/context.py); the referral's reach is
decided by ``referrals.service`` (a referral outside it is "not found", and the attempt is
audited as refused): a link worker's service the referrals it performs, a referrer (reading
only) the referrals it requested. Every read and write of an outcome is audited.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.context import Context
from app.db import utcnow
from app.errors import Issue, NotFound, Unprocessable
from app.outcomes import fhir, instruments, progress, repository
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.referrals import lifecycle
from app.referrals import service as referrals_service
from app.referrals.models import Referral, Task

CLOCK_SKEW = dt.timedelta(seconds=60)  # a client clock slightly ahead is not "the future"
NOT_TAKEN_ON = ("requested", "rejected")  # Task statuses before a link worker took the referral
LATER = ("follow-up", "exit")
LINK = "link"  # the source of a record the person made on a questionnaire link


@dataclass(frozen=True)
class OutcomeDraft:
    instrument: str
    timepoint: str
    collected_at: dt.datetime
    mode: str
    answers: object


@dataclass(frozen=True)
class Stored:
    record: OutcomeRecord
    scores: list[OutcomeScore]


@dataclass(frozen=True)
class Change:
    instrument: str
    baseline: OutcomeRecord
    follow_up: OutcomeRecord
    change: instruments.OutcomeChange


def score_rows(
    record: OutcomeRecord,
    scored: instruments.ScoredRecord,
    new_id: Callable[[], uuid.UUID] = uuid.uuid4,
) -> list[OutcomeScore]:
    """The ``outcome_score`` rows of a record (``new_id`` makes their ids: the Observation ids)."""
    common = {
        "record_id": record.id,
        "referral_id": record.referral_id,
        "instrument": record.instrument,
        "timepoint": record.timepoint,
        "collected_at": record.collected_at,
    }
    if scored.category is not None:
        item = instruments.INSTRUMENTS[record.instrument].items[0]
        return [
            OutcomeScore(
                id=new_id(),
                measure=item.id,
                value=None,
                category=scored.category,
                lonely=scored.lonely,
                **common,
            )
        ]
    return [
        OutcomeScore(
            id=new_id(),
            measure=m.key,
            value=float(m.value),
            band=m.band,
            lonely=scored.lonely if m.key == "total" else None,
            **common,
        )
        for m in scored.measures
    ]


async def _check_time(
    session: AsyncSession, referral: Referral, draft: OutcomeDraft, where: str
) -> None:
    now = utcnow()
    if draft.collected_at > now + CLOCK_SKEW:
        raise Unprocessable(
            "collected_at is in the future", [Issue("must not be in the future", where)]
        )
    if draft.collected_at < referral.authored_on:
        raise Unprocessable(
            f"collected_at is before the referral was made ({referral.authored_on.isoformat()})",
            [Issue("must not be before the referral's authoredOn", where)],
        )
    if draft.timepoint == "baseline":
        first_later = await repository.first_collected(
            session, referral.id, draft.instrument, LATER
        )
        if first_later is not None and draft.collected_at > first_later:
            raise Unprocessable(
                f"A {draft.instrument} baseline cannot be collected after its first follow-up "
                f"({first_later.isoformat()})",
                [Issue("after this instrument's first follow-up", where)],
            )
    else:
        first_baseline = await repository.first_collected(
            session, referral.id, draft.instrument, ("baseline",)
        )
        if first_baseline is not None and draft.collected_at < first_baseline:
            raise Unprocessable(
                f"A {draft.instrument} {draft.timepoint} cannot be collected before its baseline "
                f"({first_baseline.isoformat()})",
                [Issue("before this instrument's baseline", where)],
            )


async def _move_task(
    session: AsyncSession, ctx: Context, referral: Referral, timepoint: str, at: dt.datetime
) -> Task:
    task = await referrals_service.task_of(session, referral.id)
    if task.status in NOT_TAKEN_ON:
        taken_on = set(lifecycle.TASK_STATUSES) - set(NOT_TAKEN_ON)
        raise lifecycle.status_conflict("record outcomes", task.status, taken_on)
    earlier = await referrals_service.earlier_stages(session, task)
    stage = progress.next_stage(timepoint, task.status, task.business_status, earlier)
    if stage is not None:
        await referrals_service.advance_task(session, ctx, task, stage=stage, contact_at=at)
    return task


async def _record(
    session: AsyncSession,
    ctx: Context,
    referral: Referral,
    draft: OutcomeDraft,
    *,
    response: dict[str, Any] | None,
    time_field: str,
    source: str | None = None,
) -> Stored:
    scored = instruments.score(draft.instrument, draft.answers)  # 422 naming answers.<item>
    await _check_time(session, referral, draft, time_field)
    record = OutcomeRecord(
        id=uuid.uuid4(),
        referral_id=referral.id,
        patient_id=referral.patient_id,
        instrument=draft.instrument,
        timepoint=draft.timepoint,
        collected_at=draft.collected_at,
        mode=draft.mode,
        answers=dict(scored.answers),
        source=source or ("json" if response is None else "questionnaire-response"),
        questionnaire_response_id=None if response is None else uuid.uuid4(),
        questionnaire_response=None
        if response is None
        else {
            **{k: v for k, v in response.items() if k not in ("id", "meta")},
            "subject": {"reference": f"Patient/{referral.patient_id}"},
        },
        recorded_at=utcnow(),
        recorded_by=ctx.caller.principal.sub[:256],
    )
    task = await _move_task(session, ctx, referral, draft.timepoint, draft.collected_at)
    scores = score_rows(record, scored)
    await repository.add_record(session, record, scores)
    if task.status == "completed":  # e.g. the exit questionnaire, entered after the end
        outcomes = await task_outputs(session, referral.id)
        await referrals_service.advance_task(session, ctx, task, outcomes=outcomes)
    _audit(session, ctx, "create", [record])
    return Stored(record, scores)


async def record_outcome(
    session: AsyncSession, ctx: Context, referral_id: uuid.UUID, draft: OutcomeDraft
) -> Stored:
    """Validate, score and store one completed instrument (JSON API); move the Task on."""
    referral = await referrals_service.read_referral(session, ctx, referral_id)
    return await _record(session, ctx, referral, draft, response=None, time_field="collected_at")


async def record_from_link(
    session: AsyncSession, ctx: Context, referral_id: uuid.UUID, draft: OutcomeDraft
) -> Stored:
    """The same for answers the person gave on a questionnaire link (app/questionnaires), scored,
    stored and moving the Task exactly as ``record_outcome``; source ``link``. The link is the
    authority (it names its referral), so no caller's reach is consulted."""
    referral = await referrals_service.peek_referral(session, referral_id)
    return await _record(
        session, ctx, referral, draft, response=None, time_field="collected_at", source=LINK
    )


async def record_response(
    session: AsyncSession, ctx: Context, response: fhir.ResponseDraft
) -> Stored:
    """The same for a QuestionnaireResponse: scored identically, the resource kept."""
    try:
        referral = await referrals_service.read_referral(session, ctx, response.referral_id)
    except NotFound:
        # A reference in a body that cannot be followed: 422, the same for unknown and unseen.
        raise Unprocessable(
            f"basedOn: ServiceRequest/{response.referral_id} is not known",
            [Issue("unknown ServiceRequest", "QuestionnaireResponse.basedOn")],
        ) from None
    if response.patient_ref is not None and response.patient_ref.split("/")[-2:] != [
        "Patient",
        str(referral.patient_id),
    ]:
        raise Unprocessable(
            f"subject must be the referral's Patient/{referral.patient_id}",
            [Issue("not the referral's subject", "QuestionnaireResponse.subject")],
        )
    timepoint = response.timepoint or await next_timepoint(
        session, referral.id, response.instrument
    )
    draft = OutcomeDraft(
        instrument=response.instrument,
        timepoint=timepoint,
        collected_at=response.collected_at,
        mode=response.mode,
        answers=response.answers,
    )
    try:
        return await _record(
            session,
            ctx,
            referral,
            draft,
            response=fhir.with_timepoint(response.resource, timepoint),
            time_field="QuestionnaireResponse.authored",
        )
    except Unprocessable as error:
        raise Unprocessable(
            error.message,
            [
                Issue(i.message, fhir.answer_issue_expression(i.expression), i.code, i.severity)
                for i in error.issues
            ],
        ) from None


async def next_timepoint(session: AsyncSession, referral_id: uuid.UUID, instrument: str) -> str:
    """A QuestionnaireResponse that does not say (DESIGN.md section 9): ``baseline`` when the
    referral has no record of the instrument yet, else ``follow-up``."""
    earlier = await repository.first_collected(session, referral_id, instrument, fhir.TIMEPOINTS)
    return "baseline" if earlier is None else "follow-up"


def _audit(
    session: AsyncSession, ctx: Context, operation: str, records: Sequence[OutcomeRecord]
) -> None:
    for record in records:
        if record.questionnaire_response_id is not None:
            entity = ("QuestionnaireResponse", str(record.questionnaire_response_id))
        else:
            entity = ("OutcomeRecord", str(record.id))
        audit.record(session, ctx.actor, audit.Access(operation, *entity, record.patient_id))


class Collected(Protocol):
    """A record, or one of its scores (the outcome prior pairs scores: app/matching)."""

    @property
    def instrument(self) -> str: ...
    @property
    def timepoint(self) -> str: ...
    @property
    def collected_at(self) -> dt.datetime: ...


C = TypeVar("C", bound=Collected)


def baseline_and_latest(records: Sequence[C], code: str) -> tuple[C | None, C | None]:
    """Of one instrument: the earliest baseline and the latest follow-up or exit collected
    after it (any, when there is no baseline). ``records`` are in collection order."""
    of_code = [r for r in records if r.instrument == code]
    baseline = next((r for r in of_code if r.timepoint == "baseline"), None)
    later = [
        r
        for r in of_code
        if r.timepoint in LATER and (baseline is None or r.collected_at >= baseline.collected_at)
    ]
    return baseline, later[-1] if later else None


def changes(records: Sequence[OutcomeRecord]) -> list[Change]:
    """Per instrument: the earliest baseline against the latest follow-up or exit after it.

    ``records`` are in collection order (oldest first); scores are recomputed from the stored
    answers by the same pure scorer, so the change always agrees with the stored scores.
    """
    found = []
    for code in instruments.INSTRUMENTS:
        baseline, follow_up = baseline_and_latest(records, code)
        if baseline is None or follow_up is None:
            continue
        outcome_change = instruments.change(
            instruments.score(code, baseline.answers), instruments.score(code, follow_up.answers)
        )
        found.append(Change(code, baseline, follow_up, outcome_change))
    return found


async def task_outputs(session: AsyncSession, referral_id: uuid.UUID) -> list[dict[str, Any]]:
    """What the referral's outcomes add to its completed Task's ``output`` (the message back to
    the GP): ``outputs_of`` its records."""
    records = await repository.records_for_referral(session, referral_id)
    picked = [record for _, record in _headline_records(records)]
    scores = await repository.scores_for_records(session, [r.id for r in picked])
    return outputs_of(records, scores)


def _headline_records(records: Sequence[OutcomeRecord]) -> list[tuple[str, OutcomeRecord]]:
    picked: list[tuple[str, OutcomeRecord]] = []
    for code in instruments.INSTRUMENTS:
        baseline, latest = baseline_and_latest(records, code)
        if baseline is not None:
            picked.append(("Baseline", baseline))
        if latest is not None:
            picked.append(("Latest follow-up", latest))
    return picked


def outputs_of(
    records: Sequence[OutcomeRecord], scores: Sequence[OutcomeScore]
) -> list[dict[str, Any]]:
    """Per instrument, the headline Observations of the earliest baseline and of the latest
    follow-up or exit after it (``records`` in collection order; ``scores`` include theirs)."""
    by_measure = {(s.record_id, s.measure): s for s in scores}
    return [
        fhir.task_output(label, by_measure[record.id, measure], record)
        for label, record in _headline_records(records)
        for measure in instruments.INSTRUMENTS[record.instrument].headline_measures
    ]


async def list_outcomes(
    session: AsyncSession, ctx: Context, referral_id: uuid.UUID
) -> tuple[list[Stored], list[Change]]:
    await referrals_service.read_referral(session, ctx, referral_id)
    records = await repository.records_for_referral(session, referral_id)
    scores = await repository.scores_for_records(session, [r.id for r in records])
    by_record: dict[uuid.UUID, list[OutcomeScore]] = {}
    for score in scores:
        by_record.setdefault(score.record_id, []).append(score)
    _audit(session, ctx, "read", records)
    return [Stored(r, by_record.get(r.id, [])) for r in records], changes(records)


async def _in_reach(
    session: AsyncSession, ctx: Context, record: OutcomeRecord, access: audit.Access
) -> None:
    """The record's referral is within the caller's reach (a referrer: one it requested; a link
    worker: one its service performs), else "not found" and the refused access audited."""
    referral = await referrals_service.peek_referral(session, record.referral_id)
    if not referrals_service.visible(referral, ctx):
        reason = "outside the caller's organisation"
        await audit.record_denied(ctx.sessionmaker, ctx.actor, access, reason)
        raise NotFound(f"{access.entity_type}/{access.entity_id} is not known")


async def read_questionnaire_response(
    session: AsyncSession, ctx: Context, response_id: uuid.UUID
) -> OutcomeRecord:
    record = await repository.record_by_questionnaire_response(session, response_id)
    if record is None:
        raise NotFound(f"QuestionnaireResponse/{response_id} is not known")
    access = audit.Access("read", "QuestionnaireResponse", str(response_id), record.patient_id)
    await _in_reach(session, ctx, record, access)
    audit.record(session, ctx.actor, access)
    return record


async def read_observation(
    session: AsyncSession, ctx: Context, observation_id: uuid.UUID
) -> tuple[OutcomeScore, OutcomeRecord]:
    found = await repository.score_with_record(session, observation_id)
    if found is None:
        raise NotFound(f"Observation/{observation_id} is not known")
    score, record = found
    access = audit.Access("read", "Observation", str(observation_id), record.patient_id)
    await _in_reach(session, ctx, record, access)
    audit.record(session, ctx.actor, access)
    return score, record


async def search_observations(
    session: AsyncSession,
    ctx: Context,
    query: repository.ObservationQuery,
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[tuple[OutcomeScore, OutcomeRecord]]]:
    total, rows = await repository.search_observations(
        session, query, ctx.reach, ctx.org, offset=offset, limit=limit
    )
    for score, record in rows:
        audit.record(
            session,
            ctx.actor,
            audit.Access("search", "Observation", str(score.id), record.patient_id),
        )
    return total, rows
