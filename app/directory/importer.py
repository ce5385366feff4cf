"""Import an Open Referral UK (HSDS 3.0 UK profile) export into the directory: each service
mapped by ``app.directory.oruk``, then all of them stored.

All or nothing: a row that cannot be stored (no id or name, a value of the wrong type, an unknown
status, an impossible age range, the same id twice) fails the whole import and nothing changes;
the report names every such row and field. Recoverable problems are imported with a warning:
impossible coordinates (the location is placed at its postcode's centre, else stored as
unknown), an expired schedule or cost (kept; matching ignores it), a taxonomy term that is no
activity-category (kept, searchable by its id), a service area that is neither a postcode
district nor a local authority code (kept as text, does not restrict), an organisation not in
the directory (not linked).

A service whose mapped content is what the last import or sync stored (``source_digest``) is
reported ``unchanged`` and not written. ``app.directory.sync`` stores a live feed's services
with the same steps (``map_rows``, ``check``, ``store``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Body
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.directory import repository, service
from app.directory.oruk import Mapped, map_service, services_of
from app.directory.repository import ActivityRows
from app.directory.schemas import ImportReport, ImportRow
from app.errors import Issue, Unprocessable

ImportBody = Annotated[list[Any] | dict[str, Any], Body(description="ORUK services or a page")]


async def import_services(
    session: AsyncSession, document: Any, *, today: dt.date | None = None
) -> ImportReport:
    """Validate every row, then store all of them; ``Unprocessable`` (nothing stored) when any
    row cannot be stored. The caller's transaction commits."""
    found = services_of(document)
    if found is None:
        raise Unprocessable(
            "Expected a list of services or an ORUK page with `contents`",
            [Issue("expected a list or a page envelope", "contents")],
        )
    prefix, rows = found
    mapped = map_rows(rows, today or dt.date.today())
    await unlink_unknown_organisations(session, mapped)
    check(mapped, prefix, "nothing was imported")
    return await store(session, mapped)


def map_rows(rows: list[Any], today: dt.date) -> list[Mapped]:
    """Each row mapped (``oruk.map_service``); a second row with an id already seen is an
    error."""
    mapped = [map_service(i, row, today) for i, row in enumerate(rows)]
    seen: dict[str, int] = {}
    for m in mapped:
        if m.id is not None and not m.errors:
            if m.id in seen:
                m.error("id", f"the same id as row {seen[m.id]}")
            seen.setdefault(m.id, m.index)
    return mapped


async def unlink_unknown_organisations(session: AsyncSession, mapped: list[Mapped]) -> None:
    """A service that names (``organization_id``) an organisation not in the directory is kept
    without one, with a warning."""
    known_orgs = await repository.existing_organisation_ids(
        session, [m.organisation_id for m in mapped if m.organisation_id and not m.organisation]
    )
    for m in mapped:
        if m.organisation is None and m.organisation_id and m.organisation_id not in known_orgs:
            m.warn("organization_id", f"unknown organisation {m.organisation_id!r}: not linked")
            m.organisation_id = None


def check(mapped: list[Mapped], prefix: str, consequence: str) -> None:
    """``Unprocessable`` naming every row that cannot be stored and why, if any."""
    if not any(m.errors for m in mapped):
        return
    issues = [
        Issue(
            f"row {m.index} ({m.id or 'no id'}): {e.message}",
            f"{prefix}[{m.index}]" + (f".{e.field}" if e.field else ""),
        )
        for m in mapped
        for e in m.errors
    ]
    rejected = sum(1 for m in mapped if m.errors)
    raise Unprocessable(
        f"{rejected} of {len(mapped)} services cannot be stored; {consequence}", issues
    )


def digest(m: Mapped, source: str) -> str:
    """A digest of everything stored from a mapped service (but the coordinates looked up
    from postcodes): the same digest as stored, the service is unchanged."""
    assert m.activity is not None
    content = [
        source,
        m.activity.model_dump(mode="json"),
        m.organisation_id,
        m.organisation,
        m.terms,
        m.area_names,
    ]
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


async def store(
    session: AsyncSession,
    mapped: list[Mapped],
    *,
    source: str = "import",
    feed_id: str | None = None,
    source_ids: Mapping[str, str] | None = None,
) -> ImportReport:
    """Store mapped, checked services (upsert by id); one whose digest equals the stored one
    is left as it is (``unchanged``: a place a booking took stays taken). ``feed_id`` and
    ``source_ids`` (activity id -> the feed's id) mark a sync's activities."""
    now = utcnow()
    digests = {m.id: digest(m, source) for m in mapped if m.id is not None}
    stored = await repository.activity_digests(session, list(digests))
    changed = [m for m in mapped if m.id is not None and stored.get(m.id, "") != digests[m.id]]
    await _store_organisations(session, changed, now)
    new_rows, changed_rows = ActivityRows(), ActivityRows()
    outcomes: dict[int, str] = {}
    for m in changed:
        assert m.activity is not None  # no errors: mapped and validated
        assert m.id is not None
        rows = service.to_rows(
            m.id,
            m.organisation_id,
            m.activity,
            coordinates=await _coordinates(session, m),
            source=source,
            now=now,
            terms=m.terms,
            service_area_names=m.area_names,
        )
        rows.activities[0].update(
            source_feed_id=feed_id,
            source_id=(source_ids or {}).get(m.id),
            source_digest=digests[m.id],
        )
        updated = m.id in stored
        (changed_rows if updated else new_rows).extend(rows)
        outcomes[m.index] = "updated" if updated else "created"
    await repository.insert_activities(session, new_rows)
    if changed_rows.activities:
        await repository.replace_activity(session, changed_rows)
    report_rows = [
        ImportRow(
            index=m.index, id=m.id, outcome=outcomes.get(m.index, "unchanged"), warnings=m.warnings
        )
        for m in mapped
    ]
    return ImportReport(
        created=sum(1 for r in report_rows if r.outcome == "created"),
        updated=sum(1 for r in report_rows if r.outcome == "updated"),
        unchanged=sum(1 for r in report_rows if r.outcome == "unchanged"),
        deactivated=0,
        rejected=0,
        warnings=sum(len(r.warnings) for r in report_rows),
        rows=report_rows,
    )


async def _store_organisations(
    session: AsyncSession, mapped: list[Mapped], now: dt.datetime
) -> None:
    organisations: dict[str, dict[str, Any]] = {}
    for m in mapped:
        if m.organisation is not None:
            organisations[m.organisation["id"]] = {**m.organisation, "last_modified": now}
    existing_orgs = await repository.existing_organisation_ids(session, organisations)
    await repository.insert_organisations(
        session, [o for i, o in organisations.items() if i not in existing_orgs]
    )
    for org_id in existing_orgs:
        await repository.save_organisation(session, organisations[org_id])


async def _coordinates(session: AsyncSession, m: Mapped) -> list[tuple[float | None, float | None]]:
    assert m.activity is not None
    coordinates = await service.locate_locations(session, m.activity.locations)
    for i, (location, (lat, _lon)) in enumerate(
        zip(m.activity.locations, coordinates, strict=True)
    ):
        if location.latitude is None and lat is not None:
            m.warn(f"service_at_locations[{i}]", f"placed at the centre of {location.postcode}")
        elif lat is None:
            m.warn(f"service_at_locations[{i}]", "location unknown: not found by proximity")
    return coordinates
