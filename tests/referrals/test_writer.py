"""The intake writer (group commit): a batch stores what the one-by-one path stores, and every
unusual item of a batch (a duplicate, the same person twice, a retry, a failure) gets the
answer it would get alone."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Text, cast, event, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit import service as audit
from app.audit.models import AuditEvent
from app.auth.context import Context
from app.auth.dependencies import Caller
from app.auth.policy import Action, authorize
from app.auth.principal import Principal, Role
from app.errors import Conflict, Unprocessable
from app.referrals import intake, needs, plan, repository, service
from app.referrals.models import (
    Patient,
    Referral,
    ReferralCoding,
    ReferralIdentifier,
    ReferralNeed,
    ResourceVersion,
    Task,
)
from app.referrals.writer import IntakeWriter
from app.reporting.models import ReportDirty
from app.routing import service as routing_service
from app.terminology.resolver import NO_PHRASES
from app.terminology.service import NeedMaps
from tests.conftest import TokenFactory
from tests.referrals import factories

PERFORMER = "Y02718"
INSERTED = re.compile(r"\bINSERT INTO (\w+)")
MOMENTS_AND_VALUES = ("lastUpdated", "lastModified", "authoredOn", "value")  # differ per referral


def _context(app: Any, role: Role = Role.ADMIN, org: str = "X26") -> Context:
    principal = Principal(sub=f"test-{role.value}", role=role, org=org)
    caller = Caller(principal, Action.REFERRAL_CREATE, authorize(principal, Action.REFERRAL_CREATE))
    return Context(
        caller, audit.Actor(principal, f"req-{uuid.uuid4().hex[:8]}"), app.state.sessionmaker
    )


def _draft(resource: dict[str, Any]) -> intake.ReferralDraft:
    return intake.check_referral(
        resource,
        resolve_needs=needs.resolver(NeedMaps({}, NO_PHRASES)),
        clock_skew=dt.timedelta(seconds=60),
    )


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The tables each SQL statement sent to the database inside the block inserts into (one
    statement may insert into several: on PostgreSQL the batch's data-modifying CTEs)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.extend(f"INSERT INTO {table}" for table in INSERTED.findall(statement))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _count(session: AsyncSession, statement: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(statement.subquery())) or 0)


async def test_one_batch_with_duplicates_a_retry_and_a_failure(
    app: Any, session: AsyncSession, engine: AsyncEngine
) -> None:
    writer: IntakeWriter = app.state.intake_writer
    ctx = _context(app)
    stored = factories.service_request()
    first = await writer.create(ctx, _draft(stored), default_performer=PERFORMER)
    assert first.created

    number = factories.nhs_number()
    new = factories.service_request(person=factories.patient(number))
    moved = factories.patient(number)
    moved["address"] = [{"line": ["1 New Road"], "city": "Camden", "postalCode": "NW1 8AB"}]
    same_person = factories.service_request(person=moved)
    other = factories.service_request()
    unroutable = factories.service_request(requester_ods="B82002")
    foreign = factories.service_request(identifier_value=stored["identifier"][0]["value"])
    foreign["requester"] = {"identifier": {"system": intake.ODS_SYSTEM, "value": "C83003"}}

    gp_c = _context(app, Role.REFERRER, "C83003")
    with _statements(engine) as statements:
        answers = await asyncio.gather(
            writer.create(ctx, _draft(new), default_performer=PERFORMER),
            writer.create(ctx, _draft(new), default_performer=PERFORMER),  # concurrent retry
            writer.create(ctx, _draft(same_person), default_performer=PERFORMER),
            writer.create(ctx, _draft(stored), default_performer=PERFORMER),  # a later retry
            writer.create(ctx, _draft(unroutable), default_performer=None),
            writer.create(gp_c, _draft(foreign), default_performer=PERFORMER),
            writer.create(ctx, _draft(other), default_performer=PERFORMER),
            return_exceptions=True,
        )
    created, duplicate, same, retried, no_route, clash, alone = answers
    assert isinstance(created, service.Intake)
    assert created.created
    assert isinstance(duplicate, service.Intake)
    assert not duplicate.created
    assert duplicate.referral.id == created.referral.id
    assert isinstance(same, service.Intake)
    assert same.created
    assert same.patient_changed
    assert same.patient.id == created.patient.id
    assert same.patient.version_id == 2
    assert isinstance(retried, service.Intake)
    assert not retried.created
    assert retried.referral.id == first.referral.id
    assert isinstance(no_route, Unprocessable)
    assert isinstance(clash, Conflict)  # the identifier is another practice's referral
    assert isinstance(alone, service.Intake)
    assert alone.created
    # The two plain new referrals went in one multi-row INSERT; the same person's second
    # referral went alone after it (the one-by-one path).
    assert statements.count("INSERT INTO referral") == 2

    people = await session.scalars(select(Patient).where(Patient.nhs_number == number))
    assert [(p.id, p.version_id) for p in people] == [(created.patient.id, 2)]
    patient_versions = await session.scalars(
        select(ResourceVersion.version_id).where(
            ResourceVersion.resource_type == "Patient",
            ResourceVersion.resource_id == created.patient.id,
        )
    )
    assert sorted(patient_versions) == [1, 2]
    for resource in (new, stored, unroutable):
        value = resource["identifier"][0]["value"]
        count = await _count(
            session, select(ReferralIdentifier.id).where(ReferralIdentifier.value == value)
        )
        assert count == (0 if resource is unroutable else 1)
    audited = await session.execute(
        select(AuditEvent.operation, AuditEvent.entity_type, AuditEvent.request_id).where(
            AuditEvent.entity_id == str(created.referral.id)
        )
    )
    assert sorted((op, kind) for op, kind, _ in audited) == [
        ("create", "ServiceRequest"),
        ("read", "ServiceRequest"),  # the concurrent retry was answered with it
    ]


async def test_the_batch_stores_what_the_one_by_one_path_stores(
    app: Any, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    """The same referral through the batch and through ``service.create_referral``: every row
    and every kept version equal, once ids, identifiers, NHS numbers and times are set aside.
    The batch's own statements did it (a batch that fails is written one by one, silently)."""
    caplog.set_level(logging.INFO, logger="app.referrals.writer")
    writer: IntakeWriter = app.state.intake_writer
    ctx = _context(app)
    batched = await writer.create(
        ctx, _draft(factories.service_request()), default_performer=PERFORMER
    )
    async with app.state.sessionmaker() as own, own.begin():
        reference = await service.create_referral(
            own, ctx, _draft(factories.service_request()), default_performer=PERFORMER
        )
    assert batched.created
    assert reference.created
    assert "written one by one" not in caplog.text
    assert await _stored(session, batched) == await _stored(session, reference)


WRITES = ("INSERT", "UPDATE", "WITH")


async def test_a_referral_stored_alone_is_written_with_a_batch_s_statements(
    app: Any, engine: AsyncEngine
) -> None:
    """One write path: ``service.create_referral`` (in the caller's transaction) stores a new
    referral with the very statements the intake writer sends for a batch of one, whether
    the person is new or known and brings new demographics."""
    writer: IntakeWriter = app.state.intake_writer
    ctx = _context(app)
    written: list[list[str]] = []
    for store_alone in (False, True):
        number = factories.nhs_number()
        first = factories.service_request(person=factories.patient(number))
        moved = factories.patient(number, gender="male")
        second = factories.service_request(person=moved)
        for resource in (first, second):
            seen: list[str] = []

            def record(
                _conn: Any, _cursor: Any, statement: str, *_args: Any, into: list[str] = seen
            ) -> None:
                if statement.lstrip().upper().startswith(WRITES):
                    into.append(statement)

            event.listen(engine.sync_engine, "before_cursor_execute", record)
            try:
                if store_alone:
                    async with app.state.sessionmaker() as own, own.begin():
                        answer = await service.create_referral(
                            own, ctx, _draft(resource), default_performer=PERFORMER
                        )
                else:
                    answer = await writer.create(ctx, _draft(resource), default_performer=PERFORMER)
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", record)
            assert answer.created
            written.append(seen)
    batched, alone = written[:2], written[2:]
    assert alone == batched
    assert any("UPDATE patient" in s for s in alone[1])


async def _stored(session: AsyncSession, result: service.Intake) -> dict[str, Any]:
    referral_id, patient_id, task_id = result.referral.id, result.patient.id, result.task.id
    mapping = {
        str(referral_id): "REFERRAL",
        str(patient_id): "PATIENT",
        str(task_id): "TASK",
    }

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if k not in MOMENTS_AND_VALUES}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, uuid.UUID):
            value = str(value)
        if isinstance(value, str):
            for key, name in mapping.items():
                value = value.replace(key, name)
        return value

    def row(instance: Any, *skip: str) -> dict[str, Any]:
        columns = instance.__table__.columns.keys()
        left = ("id", "created_at", "updated_at", "authored_on", *skip)
        return {c: plain(getattr(instance, c)) for c in columns if c not in left}

    referral = await session.get(Referral, referral_id)
    task = await session.get(Task, task_id)
    patient = await session.get(Patient, patient_id)
    codings = await session.scalars(
        select(ReferralCoding).where(ReferralCoding.referral_id == referral_id)
    )
    need_rows = await session.scalars(
        select(ReferralNeed.need).where(ReferralNeed.referral_id == referral_id)
    )
    versions = await session.scalars(
        select(ResourceVersion)
        .where(ResourceVersion.resource_id.in_([referral_id, patient_id, task_id]))
        .order_by(ResourceVersion.resource_type)
    )
    audited = await session.execute(
        select(
            AuditEvent.action,
            AuditEvent.operation,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.patient_id,
            AuditEvent.actor_sub,
            AuditEvent.actor_role,
            AuditEvent.actor_org,
            AuditEvent.outcome,
            AuditEvent.outcome_text,
        ).where(AuditEvent.patient_id == patient_id)
    )
    return {
        "referral": row(referral, "resource") | {"resource": plain(referral.resource)},
        "task": row(task),
        "patient": row(patient, "nhs_number", "resource"),
        "codings": sorted((c.element, c.system, c.code) for c in codings),
        "needs": sorted(need_rows),
        "versions": [
            (v.resource_type, v.version_id, plain(v.resource), v.recorded_at is not None)
            for v in versions
        ],
        "audit": sorted(tuple(plain(v) for v in event) for event in audited),
    }


async def test_one_statement_stores_what_the_executemany_stores(
    app: Any, session: AsyncSession
) -> None:
    """``insert_tables`` (one statement on PostgreSQL) and ``insert_rows`` per table store the
    same rows of a batch byte for byte, compared as text: a JSON column's None is JSON null in
    both (SQLAlchemy loads JSON null and SQL NULL alike as None), and a time or a date is the
    same value."""
    ctx = _context(app)
    rows = plan.Rows()
    plain = _draft(factories.service_request())
    with_consent = dataclasses.replace(
        _draft(factories.service_request()), consent=factories.consent()
    )
    for draft in (plain, with_consent):
        plan.add_referral(rows, draft, PERFORMER, None, ctx.actor, dt.datetime.now(dt.UTC))
    rows.needs.append(
        {"referral_id": rows.referrals[0]["id"], "need": "other", "found_in": "reasonCode[0].text"}
    )
    tables = rows.after_patients()
    assert all(table_rows for _, table_rows in tables)
    assert any(task["status_reason"] is None for task in rows.tasks)

    async def stored() -> list[list[tuple[Any, ...]]]:
        found = []
        for table, _ in tables:
            columns = [c for c in table.columns if c.autoincrement is not True]  # not serials
            result = await session.execute(select(*(cast(c, Text) for c in columns)))
            found.append(sorted(tuple(r) for r in result))
        return found

    async def each(insert: Any) -> list[list[tuple[Any, ...]]]:
        async with session.begin_nested() as savepoint:
            await repository.insert_rows(session, Patient, rows.patients)
            await insert()
            found = await stored()
            await savepoint.rollback()
        return found

    async def one_by_one() -> None:
        for table, table_rows in tables:  # the executemany SQLAlchemy builds, as before
            await session.execute(insert(table), table_rows)

    expected = await each(one_by_one)
    assert await each(lambda: repository.insert_tables(session, tables)) == expected
    assert all(expected)


async def test_a_batch_that_fails_is_written_one_by_one(
    app: Any, session: AsyncSession, engine: AsyncEngine
) -> None:
    """Another writer stores one of the batch's people between its read and its INSERT: the
    batch's transaction fails on the unique NHS number and is rolled back whole; every item is
    then written alone, and each gets its own right answer."""
    writer: IntakeWriter = app.state.intake_writer
    ctx = _context(app)
    resources = [factories.service_request() for _ in range(3)]
    raced = resources[1]["contained"][0]["identifier"][0]["value"]
    race: dict[str, Any] = {}

    def other_writer(conn: Any, clause: Any, multiparams: Any, *_args: Any) -> None:
        table = getattr(clause, "table", None)
        if table is Patient.__table__ and clause.is_insert and not race:
            race["at"] = [p["nhs_number"] for p in multiparams]
            conn.execute(
                Patient.__table__.insert(),
                [{**multiparams[1], "id": uuid.uuid4()}],
            )

    event.listen(engine.sync_engine, "before_execute", other_writer)
    try:
        with _statements(engine) as statements:
            answers = await asyncio.gather(
                *(writer.create(ctx, _draft(r), default_performer=PERFORMER) for r in resources)
            )
    finally:
        event.remove(engine.sync_engine, "before_execute", other_writer)
    assert race["at"][1] == raced  # the batch did try all three people in one INSERT
    assert all(a.created for a in answers)
    assert statements.count("INSERT INTO referral") == 3  # one by one after the failed batch
    for answer, resource in zip(answers, resources, strict=True):
        number = resource["contained"][0]["identifier"][0]["value"]
        people = list(await session.scalars(select(Patient).where(Patient.nhs_number == number)))
        assert [p.id for p in people] == [answer.patient.id]
        stored = await session.get(Referral, answer.referral.id)
        assert stored is not None
        assert stored.patient_id == answer.patient.id


async def test_one_items_database_error_fails_only_that_item(
    app: Any, session: AsyncSession, database_url: str
) -> None:
    """A value the database refuses fails that referral alone; the others of its batch are
    stored. The intake rules refuse an identifier longer than its column (422), so the draft is
    changed after them: the database's refusal stands for any the rules cannot foresee."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    writer: IntakeWriter = app.state.intake_writer
    ctx = _context(app)
    drafts = [_draft(factories.service_request()) for _ in range(3)]
    drafts[1] = dataclasses.replace(drafts[1], identifiers=[(factories.GP_SYSTEM, "X" * 300)])
    answers = await asyncio.gather(
        *(writer.create(ctx, draft, default_performer=PERFORMER) for draft in drafts),
        return_exceptions=True,
    )
    assert isinstance(answers[1], DBAPIError)  # asyncpg: "value too long"
    for index in (0, 2):
        answer = answers[index]
        assert isinstance(answer, service.Intake)
        assert answer.created
        assert await session.get(Referral, answer.referral.id) is not None
    count = await _count(session, select(Referral.id))
    assert count == 2


async def test_concurrent_referrals_of_one_person_over_http(
    committed_client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    """Real commits: concurrent referrals of one person, each retried at once: one Patient,
    one 201 per referral and 200 for each retry."""
    gp = auth(Role.REFERRER, "A81001")
    number = factories.nhs_number()
    payloads = [factories.service_request(person=factories.patient(number)) for _ in range(4)]
    responses = await asyncio.gather(
        *(
            committed_client.post("/fhir/ServiceRequest", json=payload, headers=gp)
            for payload in payloads + payloads
        )
    )
    codes = [r.status_code for r in responses]
    assert sorted(codes) == [200] * 4 + [201] * 4, [r.text for r in responses]
    ids = [r.json()["id"] for r in responses]
    assert ids[:4] == ids[4:]
    assert len(set(ids)) == 4
    assert len({r.json()["subject"]["reference"] for r in responses}) == 1
    found = await committed_client.get(
        f"/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{number}", headers=gp
    )
    assert found.json()["total"] == 1


async def test_the_batch_reads_with_one_statement_text_whatever_its_size(
    session: AsyncSession, engine: AsyncEngine, database_url: str
) -> None:
    """On PostgreSQL the batch's SELECTs take arrays, not one parameter per value: asyncpg
    prepares each once per connection instead of once per batch size (and the identifiers are
    looked up by ``(system, value)``, the unique index's columns)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no arrays: IN lists")
    texts: list[set[str]] = []
    for size in (1, 3):
        seen: set[str] = set()

        def record(
            _conn: Any, _cursor: Any, statement: str, *_args: Any, into: set[str] = seen
        ) -> None:
            if statement.startswith("SELECT"):
                into.add(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            values = [factories.nhs_number() for _ in range(size)]
            pairs = [(factories.GP_SYSTEM, v) for v in values]
            assert await repository.stored_identifiers(session, pairs) == set()
            assert await repository.patient_rows(session, values) == {}
            assert await routing_service.performers(session, values) == {}
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        texts.append(seen)
    assert len(texts[0]) == 3
    assert texts[0] == texts[1]
    identifiers = next(t for t in texts[0] if "referral_identifier" in t)
    assert "referral_identifier.system =" in identifiers


async def test_the_batch_queues_for_the_reports_what_the_one_by_one_path_queues(
    app: Any, session: AsyncSession
) -> None:
    """The summary tables' triggers queue each referral of a batch as often as when it is
    stored alone: the people are inserted in a statement of their own, before the rows that
    refer to them (in the same statement, the patient trigger would queue them again)."""
    writer: IntakeWriter = app.state.intake_writer
    ctx = _context(app)
    batched = await asyncio.gather(
        *(
            writer.create(ctx, _draft(factories.service_request()), default_performer=PERFORMER)
            for _ in range(2)
        )
    )
    async with app.state.sessionmaker() as own, own.begin():
        alone = await service.create_referral(
            own, ctx, _draft(factories.service_request()), default_performer=PERFORMER
        )

    async def queued(referral_id: uuid.UUID) -> int:
        return await _count(
            session, select(ReportDirty.id).where(ReportDirty.referral_id == referral_id)
        )

    expected = await queued(alone.referral.id)
    assert expected > 0
    assert [await queued(b.referral.id) for b in batched] == [expected, expected]
