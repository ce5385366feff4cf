"""Every SQL query of the referrals domain."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ColumnElement,
    String,
    Table,
    TextClause,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Reach
from app.db import json_text, one_of
from app.fhir.search import DateRange
from app.fhir.sql import date_clause
from app.notifications import outbox
from app.referrals.models import (
    Consent,
    Patient,
    Referral,
    ReferralCoding,
    ReferralIdentifier,
    ReferralNeed,
    ResourceVersion,
    Task,
)
from app.referrals.plan import Rows
from app.referrals.reach import patient_visible, referral_visible, task_visible

Token = tuple[str | None, str]  # (system or None for any, code/value)


# --- single rows -------------------------------------------------------------------------


async def get_referral(session: AsyncSession, referral_id: uuid.UUID) -> Referral | None:
    return await session.get(Referral, referral_id)


_NEEDS = (
    select(ReferralNeed.need, ReferralNeed.found_in)
    .where(ReferralNeed.referral_id == bindparam("referral_id"))
    .order_by(ReferralNeed.need)
)
# every match runs it: built once, so no statement nor cache key is made per request
_REFERRAL_PATIENT_NEEDS = (
    select(Referral, Patient, ReferralNeed.need, ReferralNeed.found_in)
    .join(Patient, Patient.id == Referral.patient_id)
    .outerjoin(ReferralNeed, ReferralNeed.referral_id == Referral.id)
    .where(Referral.id == bindparam("referral_id"))
    .order_by(ReferralNeed.need)
)


async def get_referral_patient_and_needs(
    session: AsyncSession, referral_id: uuid.UUID
) -> tuple[Referral, Patient, list[tuple[str, str | None]]] | None:
    """The referral, its person and its needs (as ``needs_of`` gives them) in one query, a
    row per need (a match reads all three)."""
    rows = (await session.execute(_REFERRAL_PATIENT_NEEDS, {"referral_id": referral_id})).all()
    if not rows:
        return None
    needs = [(need, found_in) for _, _, need, found_in in rows if need is not None]
    return rows[0][0], rows[0][1], needs


async def get_referral_for_update(session: AsyncSession, referral_id: uuid.UUID) -> Referral | None:
    return await session.get(Referral, referral_id, populate_existing=True)


async def referral_by_identifier(session: AsyncSession, system: str, value: str) -> Referral | None:
    return await session.scalar(
        select(Referral)
        .join(ReferralIdentifier, ReferralIdentifier.referral_id == Referral.id)
        .where(ReferralIdentifier.system == system, ReferralIdentifier.value == value)
    )


async def referrals_by_identifiers(
    session: AsyncSession, identifiers: Sequence[tuple[str, str]]
) -> list[Referral]:
    if not identifiers:
        return []
    matching = select(ReferralIdentifier.referral_id).where(
        or_(
            *(
                and_(ReferralIdentifier.system == s, ReferralIdentifier.value == v)
                for s, v in identifiers
            )
        )
    )
    rows = await session.scalars(select(Referral).where(Referral.id.in_(matching)))
    return list(rows)


async def get_patient(session: AsyncSession, patient_id: uuid.UUID) -> Patient | None:
    return await session.get(Patient, patient_id)


async def is_patient_visible(
    session: AsyncSession, patient_id: uuid.UUID, reach: Reach, org: str
) -> bool:
    found = await session.scalar(
        select(Referral.id)
        .where(Referral.patient_id == patient_id, referral_visible(reach, org))
        .limit(1)
    )
    return found is not None


async def get_task(session: AsyncSession, task_id: uuid.UUID) -> Task | None:
    return await session.get(Task, task_id)


async def task_for_referral(session: AsyncSession, referral_id: uuid.UUID) -> Task | None:
    return await session.scalar(select(Task).where(Task.referral_id == referral_id))


async def get_consent(session: AsyncSession, consent_id: uuid.UUID) -> Consent | None:
    return await session.get(Consent, consent_id)


async def needs_of(session: AsyncSession, referral_id: uuid.UUID) -> list[tuple[str, str | None]]:
    """The referral's needs, each with the element whose words gave it (``found_in``)."""
    rows = await session.execute(_NEEDS, {"referral_id": referral_id})
    return [(need, found_in) for need, found_in in rows]


async def consent_for_referral(session: AsyncSession, referral_id: uuid.UUID) -> Consent | None:
    return await session.scalar(select(Consent).where(Consent.referral_id == referral_id))


async def patients_by_ids(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Patient]:
    if not ids:
        return []
    return list(await session.scalars(select(Patient).where(Patient.id.in_(set(ids)))))


async def tasks_for_referrals(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Task]:
    if not ids:
        return []
    return list(await session.scalars(select(Task).where(Task.referral_id.in_(set(ids)))))


# --- versions ------------------------------------------------------------------------------


async def versions(
    session: AsyncSession, resource_type: str, resource_id: uuid.UUID
) -> list[ResourceVersion]:
    rows = await session.scalars(
        select(ResourceVersion)
        .where(
            ResourceVersion.resource_type == resource_type,
            ResourceVersion.resource_id == resource_id,
        )
        .order_by(ResourceVersion.version_id.desc())
    )
    return list(rows)


async def version(
    session: AsyncSession, resource_type: str, resource_id: uuid.UUID, version_id: int
) -> ResourceVersion | None:
    return await session.get(ResourceVersion, (resource_type, resource_id, version_id))


# --- search --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralQuery:
    ids: Sequence[uuid.UUID] = ()
    identifiers: Sequence[Token] = ()
    patient_ids: Sequence[uuid.UUID] = ()
    nhs_numbers: Sequence[str] = ()
    statuses: Sequence[str] = ()
    intents: Sequence[str] = ()
    codes: Sequence[Token] = ()
    categories: Sequence[Token] = ()
    authored: Sequence[DateRange] = ()
    requesters: Sequence[str] = ()
    performers: Sequence[str] = ()
    last_updated: Sequence[DateRange] = ()
    sort: Sequence[tuple[str, bool]] = (("_lastUpdated", True),)  # (key, descending)


def _token_match(
    column_system: Any, column_code: Any, tokens: Sequence[Token]
) -> ColumnElement[bool]:
    return or_(
        *(
            and_(column_code == code, column_system == system)
            if system is not None
            else column_code == code
            for system, code in tokens
        )
    )


def _referral_filters(query: ReferralQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.ids:
        where.append(Referral.id.in_(query.ids))
    if query.identifiers:
        where.append(
            exists().where(
                ReferralIdentifier.referral_id == Referral.id,
                _token_match(
                    ReferralIdentifier.system, ReferralIdentifier.value, query.identifiers
                ),
            )
        )
    if query.patient_ids:
        where.append(Referral.patient_id.in_(query.patient_ids))
    if query.nhs_numbers:
        where.append(
            exists().where(
                Patient.id == Referral.patient_id, Patient.nhs_number.in_(query.nhs_numbers)
            )
        )
    if query.statuses:
        where.append(Referral.status.in_(query.statuses))
    if query.intents:
        where.append(Referral.intent.in_(query.intents))
    for element, tokens in (("code", query.codes), ("category", query.categories)):
        if tokens:
            where.append(
                exists().where(
                    ReferralCoding.referral_id == Referral.id,
                    ReferralCoding.element == element,
                    _token_match(ReferralCoding.system, ReferralCoding.code, tokens),
                )
            )
    where += [date_clause(Referral.authored_on, d) for d in query.authored]
    where += [date_clause(Referral.updated_at, d) for d in query.last_updated]
    if query.requesters:
        where.append(Referral.requester_ods.in_(query.requesters))
    if query.performers:
        where.append(Referral.performer_ods.in_(query.performers))
    return where


_REFERRAL_SORT = {"authored": Referral.authored_on, "_lastUpdated": Referral.updated_at}


async def search_referrals(
    session: AsyncSession, query: ReferralQuery, reach: Reach, org: str, *, offset: int, limit: int
) -> tuple[int, list[Referral]]:
    where = [referral_visible(reach, org), *_referral_filters(query)]
    total = await session.scalar(select(func.count()).select_from(Referral).where(*where)) or 0
    if limit == 0:
        return total, []
    order = [
        _REFERRAL_SORT[key].desc() if descending else _REFERRAL_SORT[key].asc()
        for key, descending in query.sort
    ]
    rows = await session.scalars(
        select(Referral).where(*where).order_by(*order, Referral.id).offset(offset).limit(limit)
    )
    return total, list(rows)


@dataclass(frozen=True)
class TaskQuery:
    ids: Sequence[uuid.UUID] = ()
    focus_ids: Sequence[uuid.UUID] = ()
    patient_ids: Sequence[uuid.UUID] = ()
    owners: Sequence[str] = ()
    requesters: Sequence[str] = ()
    statuses: Sequence[str] = ()
    business_statuses: Sequence[str] = ()
    last_updated: Sequence[DateRange] = ()


async def search_tasks(
    session: AsyncSession, query: TaskQuery, reach: Reach, org: str, *, offset: int, limit: int
) -> tuple[int, list[Task]]:
    where: list[ColumnElement[bool]] = [task_visible(reach, org)]
    for column, values in (
        (Task.id, query.ids),
        (Task.referral_id, query.focus_ids),
        (Task.patient_id, query.patient_ids),
        (Task.owner_ods, query.owners),
        (Task.requester_ods, query.requesters),
        (Task.status, query.statuses),
        (Task.business_status, query.business_statuses),
    ):
        if values:
            where.append(column.in_(values))
    where += [date_clause(Task.updated_at, d) for d in query.last_updated]
    total = await session.scalar(select(func.count()).select_from(Task).where(*where)) or 0
    if limit == 0:
        return total, []
    rows = await session.scalars(
        select(Task)
        .where(*where)
        .order_by(Task.updated_at.desc(), Task.id)
        .offset(offset)
        .limit(limit)
    )
    return total, list(rows)


async def search_patients(
    session: AsyncSession,
    *,
    ids: Sequence[uuid.UUID],
    nhs_numbers: Sequence[str],
    reach: Reach,
    org: str,
    offset: int,
    limit: int,
) -> tuple[int, list[Patient]]:
    where: list[ColumnElement[bool]] = [patient_visible(reach, org)]
    if ids:
        where.append(Patient.id.in_(ids))
    if nhs_numbers:
        where.append(Patient.nhs_number.in_(nhs_numbers))
    total = await session.scalar(select(func.count()).select_from(Patient).where(*where)) or 0
    if limit == 0:
        return total, []
    rows = await session.scalars(
        select(Patient)
        .where(*where)
        .order_by(Patient.updated_at.desc(), Patient.id)
        .offset(offset)
        .limit(limit)
    )
    return total, list(rows)


# --- bulk loading (seed-demo) ------------------------------------------------------------------

BULK_TABLES: dict[str, Any] = {
    "patients": Patient,
    "referrals": Referral,
    "identifiers": ReferralIdentifier,
    "codings": ReferralCoding,
    "needs": ReferralNeed,
    "tasks": Task,
    "versions": ResourceVersion,
}


async def insert_bulk(session: AsyncSession, table: str, rows: list[dict[str, Any]]) -> None:
    """One executemany of Core INSERTs into the table (not the ORM bulk insert, which would
    reset ``version_id`` to 1: the rows carry their own versions)."""
    if rows:
        await session.execute(insert(BULK_TABLES[table].__table__), rows)


# --- intake: new referrals, alone or in the writer's batches (app/referrals/plan.py) ----------


async def stored_identifiers(
    session: AsyncSession, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of the ``(system, value)`` pairs some referral already carries, looked up pair by
    pair in the unique index on ``(system, value)`` (``value IN (...)`` alone scanned the whole
    table). On PostgreSQL the pairs are two arrays joined as a table: one statement text whatever
    their number, planned alike when PostgreSQL switches to a generic plan (``system = ANY($1)
    AND value = ANY($2)`` then searched the index by system only)."""
    if not pairs:
        return set()
    wanted = sorted(set(pairs))
    table = ReferralIdentifier.__table__.c
    if session.get_bind().dialect.name == "postgresql":
        given = (
            func.unnest(
                bindparam(None, [s for s, _ in wanted], type_=ARRAY(String())),
                bindparam(None, [v for _, v in wanted], type_=ARRAY(String())),
            )
            .table_valued("system", "value")
            .render_derived(name="given")
        )
        statement = select(table.system, table.value).join(
            given, and_(table.system == given.c.system, table.value == given.c.value)
        )
    else:
        statement = select(table.system, table.value).where(
            tuple_(table.system, table.value).in_(wanted)
        )
    return {(s, v) for s, v in await session.execute(statement)}


async def patient_rows(
    session: AsyncSession, numbers: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    """The stored patient rows (column values, not ORM objects) by NHS number."""
    if not numbers:
        return {}
    table = Patient.__table__
    rows = await session.execute(select(table).where(one_of(session, table.c.nhs_number, numbers)))
    return {row.nhs_number: cast(Mapping[str, Any], row._mapping) for row in rows}


async def insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core INSERT of ``rows`` into the model's table, one executemany (the rows carry their
    own ids and versions)."""
    if rows:
        await session.execute(insert(model.__table__), rows)


async def insert_tables(
    session: AsyncSession, tables: Sequence[tuple[Any, list[dict[str, Any]]]]
) -> None:
    """``insert_rows`` for each table in turn; on PostgreSQL all of them in one statement and
    one round trip: data-modifying CTEs, one per table, each inserting the rows of two
    parameters zipped row by row (``ROWS FROM``): the plain columns as one JSON array of objects
    (``json_to_recordset``: one value to encode instead of one per row and column) and each JSON
    column as an array of its texts (``unnest``).

    The values are those the executemany would send: each column type's own bind processor (a
    JSON column's None is JSON ``null``, as SQLAlchemy binds it, never SQL NULL); the plain
    columns are read as their types without lengths, so a value too long is refused, not cut.
    Every sub-statement sees the snapshot of the statement's start and the triggers run at its
    end: a table whose triggers read another table of the same statement (``patient``) must
    not be one of them."""
    tables = [(cast(Table, table), rows) for table, rows in tables if rows]
    if not tables:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        for table, rows in tables:
            await session.execute(insert(table), rows)
        return
    shape = tuple((table, tuple(rows[0])) for table, rows in tables)
    statement, plans = _rows_from_insert(dialect, shape)
    params: dict[str, Any] = {}
    for index, ((_, rows), (plain, json_columns)) in enumerate(zip(tables, plans, strict=True)):
        params[f"t{index}"] = json_text(
            [{key: row[key] if p is None else p(row[key]) for key, p in plain} for row in rows]
        )
        for key, process in json_columns:
            params[f"t{index}_{key}"] = [process(row[key]) for row in rows]
    await session.execute(statement, params)


_Processor = Callable[[Any], Any]


def _without_length(column: Any, dialect: Dialect) -> str:
    """The column's SQL type without its length (``VARCHAR(16)`` -> ``VARCHAR``)."""
    return re.sub(r"\(\d+\)$", "", str(column.type.compile(dialect=dialect)))


@cache
def _rows_from_insert(
    dialect: Dialect, shape: tuple[tuple[Table, tuple[str, ...]], ...]
) -> tuple[
    TextClause,
    list[tuple[list[tuple[str, _Processor | None]], list[tuple[str, _Processor]]]],
]:
    """The one statement inserting into the tables of ``shape`` (a table and the keys its rows
    carry), and for each table its plain columns and its JSON columns, each with its bind
    processor. Parameters: ``t{i}`` the JSON array of table i's plain columns, ``t{i}_{key}``
    the texts of its JSON column ``key``."""
    parts, plans = [], []
    for index, (table, keys) in enumerate(shape):
        missing = [c.key for c in table.columns if c.key not in keys and c.default is not None]
        if missing:  # a default SQLAlchemy would compute per row: not done here
            raise ValueError(f"{table.name} rows without {missing}")
        columns = [table.columns[key] for key in keys]
        if any(c.key != c.name for c in columns):
            raise ValueError(f"{table.name}: the rows' keys are not the column names")
        plain = [c for c in columns if not isinstance(c.type, JSON)]
        json_columns = [c for c in columns if isinstance(c.type, JSON)]

        def processor(column: Any) -> _Processor | None:
            process: _Processor | None = column.type.dialect_impl(dialect).bind_processor(dialect)
            return process

        plans.append(
            (
                [(c.key, processor(c)) for c in plain],
                [(c.key, cast(_Processor, processor(c))) for c in json_columns],
            )
        )
        types = ", ".join(f"{c.name} {_without_length(c, dialect)}" for c in plain)
        functions = [f"json_to_recordset(CAST(:t{index} AS JSON)) AS ({types})"]
        functions += [f"unnest(CAST(:t{index}_{c.key} AS JSON[]))" for c in json_columns]
        names = ", ".join(c.name for c in (*plain, *json_columns))
        parts.append(
            f"INSERT INTO {table.name} ({names}) SELECT * "  # noqa: S608
            f"FROM ROWS FROM ({', '.join(functions)}) AS r{index}({names})"
        )
    *ctes, main = parts
    head = ", ".join(f"t{index} AS ({sql})" for index, sql in enumerate(ctes))
    return text(f"WITH {head} {main}" if ctes else main), plans


class PatientMoved(Exception):
    """A patient row changed between the read its update was planned from and the update."""


async def insert_planned(session: AsyncSession, rows: Rows) -> None:
    """Store the planned rows of new referrals (app/referrals/plan.py)."""
    # The people first, on their own: the patient table's triggers read the referral table,
    # and in a statement of their own they see the referrals stored before, as one by one.
    await insert_rows(session, Patient, rows.patients)
    for values, expected in rows.patient_updates:
        if not await _update_patient_row(session, values, expected):
            raise PatientMoved(values["id"])
    await insert_tables(session, rows.after_patients())


async def _update_patient_row(
    session: AsyncSession, values: dict[str, Any], expected_version: int
) -> bool:
    """Update a patient row if it is still at ``expected_version``; False when it moved on."""
    table = cast(Table, Patient.__table__)
    result = await session.execute(
        table.update()
        .where(table.c.id == values["id"], table.c.version_id == expected_version)
        .values(**{k: v for k, v in values.items() if k != "id"})
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def count_identifiers(session: AsyncSession, system: str) -> int:
    statement = select(func.count()).where(ReferralIdentifier.system == system)
    return int(await session.scalar(statement) or 0)


async def identifier_values(session: AsyncSession, system: str, values: Sequence[str]) -> set[str]:
    return set(
        await session.scalars(
            select(ReferralIdentifier.value).where(
                ReferralIdentifier.system == system, ReferralIdentifier.value.in_(list(values))
            )
        )
    )


async def existing_nhs_numbers(session: AsyncSession, numbers: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(numbers), 500):
        chunk = list(numbers[start : start + 500])
        found.update(
            await session.scalars(select(Patient.nhs_number).where(Patient.nhs_number.in_(chunk)))
        )
    return found


async def referral_ids_with_identifier_system(
    session: AsyncSession, system: str
) -> list[uuid.UUID]:
    """The referrals carrying an identifier of ``system``."""
    ids = select(ReferralIdentifier.referral_id).where(ReferralIdentifier.system == system)
    return list(await session.scalars(ids))


async def delete_referrals_with_identifier_system(session: AsyncSession, system: str) -> int:
    """Delete the referrals carrying an identifier of ``system`` with their Tasks, rows and
    versions, then their people when no other referral is theirs. Returns how many referrals."""
    referral_ids = await referral_ids_with_identifier_system(session, system)
    if not referral_ids:
        return 0
    patient_ids: set[uuid.UUID] = set()
    for start in range(0, len(referral_ids), 500):
        chunk = referral_ids[start : start + 500]
        patient_ids.update(
            await session.scalars(select(Referral.patient_id).where(Referral.id.in_(chunk)))
        )
        task_ids = list(await session.scalars(select(Task.id).where(Task.referral_id.in_(chunk))))
        await outbox.forget(session, task_ids)
        for kind, resource_ids in (("ServiceRequest", chunk), ("Task", task_ids)):
            await session.execute(
                delete(ResourceVersion).where(
                    ResourceVersion.resource_type == kind,
                    ResourceVersion.resource_id.in_(resource_ids),
                )
            )
        for table in (Task, ReferralNeed, ReferralCoding, ReferralIdentifier, Consent):
            await session.execute(delete(table).where(table.referral_id.in_(chunk)))
        await session.execute(delete(Referral).where(Referral.id.in_(chunk)))
    people = list(patient_ids)
    for start in range(0, len(people), 500):
        chunk = people[start : start + 500]
        orphans = list(
            await session.scalars(
                select(Patient.id).where(
                    Patient.id.in_(chunk), ~exists().where(Referral.patient_id == Patient.id)
                )
            )
        )
        await session.execute(
            delete(ResourceVersion).where(
                ResourceVersion.resource_type == "Patient", ResourceVersion.resource_id.in_(orphans)
            )
        )
        await session.execute(delete(Patient).where(Patient.id.in_(orphans)))
    return len(referral_ids)


async def open_self_referrals(
    session: AsyncSession,
    *,
    requester: str,
    since: dt.datetime,
    nhs_number: str | None,
    birth_date: dt.date,
    postcode: str,
    closed: Sequence[str],
) -> list[tuple[Referral, dict[str, Any], str | None]]:
    """Self-referrals (``requester``) made since ``since`` whose Task is not ``closed``, of a
    person with this NHS number or this birth date and postcode, oldest first: each with the
    person's resource and NHS number (the caller compares the names)."""
    person = and_(Patient.birth_date == birth_date, Patient.postcode == postcode)
    if nhs_number is not None:
        person = or_(person, Patient.nhs_number == nhs_number)
    rows = await session.execute(
        select(Referral, Patient.resource, Patient.nhs_number)
        .join(Patient, Patient.id == Referral.patient_id)
        .join(Task, Task.referral_id == Referral.id)
        .where(
            Referral.requester_ods == requester,
            Referral.created_at >= since,
            Task.status.not_in(closed),
            person,
        )
        .order_by(Referral.created_at, Referral.id)
    )
    return [(r, resource, number) for r, resource, number in rows]
