"""Keeping the reports' summary tables and monthly partials current (docs/reports.md "Summary
tables: how they stay current").

Triggers (migration 0008) queue in ``report_dirty``, in the writer's own transaction, every
referral whose inputs a statement changed, whoever writes. ``refresh`` recomputes the queued
referrals' summary rows from the source tables and adjusts the monthly partials by difference,
in one transaction of its own: on PostgreSQL under an advisory lock, claiming exactly the queue
rows its snapshot sees (writers never wait for it); on SQLite as one ``BEGIN IMMEDIATE`` write.
``refresh(everything=True)`` recomputes every referral (``assetlink refresh-reports --all``).
"""

# ruff: noqa: S608 (statements are put together from constant fragments; values are bound)
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import transaction
from app.referrals.lifecycle import DECLINED
from app.reporting.measures import FLAGS
from app.reporting.repository import (
    ACCEPTED_STATUSES,
    AGE_BANDS,
    CHANGE_SUMS,
    DAY_BUCKETS,
    DIMENSION_COLUMNS,
    LATER_TIMEPOINTS,
    MONTH_SUMS,
    NONE,
    PARTIAL_KEY,
    REFRESH_LOCK,
    Dialect,
    day_bucket_counts,
    improved_sql,
    partial_kinds,
)
from app.reporting.service import score_measures

FLAG_COLUMNS = (*FLAGS, "first_contact_days")


@dataclass(frozen=True)
class Refreshed:
    referrals: int  # referrals whose summary rows were recomputed


def _age_band(d: Dialect) -> str:
    age = d.age("r.authored_on", "p.birth_date")
    cases = " ".join(
        f"WHEN {age} <= {high} THEN '{label}'" for _, high, label in AGE_BANDS if high is not None
    )
    return f"(CASE {cases} ELSE '{AGE_BANDS[-1][2]}' END)"


# A booking that counts as "booked": not cancelled, or cancelled only because its referral
# ended (docs/matching.md "Bookings"); a booking cancelled by PATCH does not count.
BOOKED = "(b.status <> 'cancelled' OR b.cancelled_reason <> 'booking-cancelled')"


def statements(d: Dialect, scope: str) -> list[str]:
    """Recompute the summary rows of the referrals ``scope`` (a subquery of referral ids)."""
    accepted = ", ".join(f"'{s}'" for s in ACCEPTED_STATUSES)
    declined = f"t.status = 'cancelled' AND {d.text_of('t.status_reason')} LIKE :declined"
    days = d.days_between("r.authored_on", "t.first_contact_at")
    later = ", ".join(f"'{t}'" for t in LATER_TIMEPOINTS)
    referral = (
        f"INSERT INTO report_referral (referral_id, {', '.join(DIMENSION_COLUMNS)}, "
        f"{', '.join(FLAG_COLUMNS)}) "
        f"SELECT r.id, r.authored_on, {d.month('r.authored_on')}, {d.quarter('r.authored_on')}, "
        "r.requester_ods, r.performer_ods, ld.imd_decile, "
        f"{_age_band(d)}, COALESCE(p.gender, 'unknown'), "
        f"CASE WHEN t.status IN ({accepted}) THEN 1 ELSE 0 END, "
        "CASE WHEN t.status = 'rejected' THEN 1 ELSE 0 END, "
        f"CASE WHEN {declined} THEN 1 ELSE 0 END, "
        "COALESCE(bk.booked, 0), COALESCE(bk.attended, 0), "
        "CASE WHEN t.status = 'completed' THEN 1 ELSE 0 END, "
        "CASE WHEN t.first_contact_at IS NOT NULL OR bk.booked = 1 THEN 1 ELSE 0 END, "
        f"CASE WHEN t.first_contact_at IS NOT NULL THEN {days} END "
        "FROM referral r JOIN patient p ON p.id = r.patient_id "
        "LEFT JOIN postcode pc ON pc.postcode = p.postcode "
        "LEFT JOIN lsoa_deprivation ld ON ld.lsoa_code = pc.lsoa_code "
        "LEFT JOIN task t ON t.referral_id = r.id "
        "LEFT JOIN (SELECT b.referral_id, "
        f"MAX(CASE WHEN {BOOKED} THEN 1 ELSE 0 END) AS booked, "
        "MAX(CASE WHEN b.status = 'attended' THEN 1 ELSE 0 END) AS attended "
        f"FROM booking b WHERE b.referral_id IN ({scope}) GROUP BY b.referral_id) bk "
        "ON bk.referral_id = r.id "
        f"WHERE r.id IN ({scope}) ORDER BY r.authored_on"
    )
    # every summary table is written in authored_on order: a window's rows are then
    # together on disk (a full rebuild is in perfect order; new referrals come last anyway)
    columns = ", ".join((*DIMENSION_COLUMNS, *FLAG_COLUMNS))
    need = (
        f"INSERT INTO report_need (referral_id, need, {columns}) "
        f"SELECT f.referral_id, COALESCE(n.need, 'none'), "
        f"{', '.join(f'f.{c}' for c in (*DIMENSION_COLUMNS, *FLAG_COLUMNS))} "
        "FROM report_referral f LEFT JOIN referral_need n ON n.referral_id = f.referral_id "
        f"WHERE f.referral_id IN ({scope}) ORDER BY f.authored_on"
    )
    category = (
        "INSERT INTO report_category (referral_id, category, authored_on) "
        "SELECT c.referral_id, c.category, f.authored_on FROM (SELECT DISTINCT b.referral_id, "
        "l.code AS category FROM booking b "
        "JOIN activity_category l ON l.activity_id = b.activity_id "
        f"WHERE {BOOKED} AND l.code IS NOT NULL AND b.referral_id IN ({scope})) c "
        "JOIN report_referral f ON f.referral_id = c.referral_id ORDER BY f.authored_on"
    )
    scores = f"FROM outcome_score s WHERE s.referral_id IN ({scope}) AND s.value IS NOT NULL"
    if d.postgres:
        # per referral and measure, the earliest baseline and the latest follow-up (ordered
        # aggregates); the latest follow-up is at or after the earliest baseline exactly when
        # some follow-up is
        pairs = (
            "WITH pr AS (SELECT s.referral_id, s.instrument, s.measure, "
            "(array_agg(s.value ORDER BY s.collected_at, s.id) "
            "FILTER (WHERE s.timepoint = 'baseline'))[1] AS before, "
            "(array_agg(s.value ORDER BY s.collected_at DESC, s.id DESC) "
            f"FILTER (WHERE s.timepoint IN ({later})))[1] AS after {scores} "
            "GROUP BY s.referral_id, s.instrument, s.measure "
            "HAVING MAX(s.collected_at) FILTER (WHERE s.timepoint IN "
            f"({later})) >= MIN(s.collected_at) FILTER (WHERE s.timepoint = 'baseline')) "
        )
    else:
        # SQLite (no FILTER on ordered aggregates): number the rows of each referral and
        # measure, baselines oldest first and follow-ups newest first
        pairs = (
            "WITH o AS (SELECT s.referral_id, s.instrument, s.measure, s.value, s.timepoint, "
            "s.collected_at, ROW_NUMBER() OVER (PARTITION BY s.referral_id, s.instrument, "
            "s.measure, s.timepoint = 'baseline' ORDER BY CASE WHEN s.timepoint = 'baseline' "
            "THEN julianday(s.collected_at) ELSE -julianday(s.collected_at) END, "
            "CASE WHEN s.timepoint = 'baseline' THEN s.id END, s.id DESC) AS k "
            f"{scores} AND s.timepoint IN ('baseline', {later})), "
            "pr AS (SELECT b.referral_id, b.instrument, b.measure, b.value AS before, "
            "f.value AS after FROM o b JOIN o f ON f.referral_id = b.referral_id "
            "AND f.instrument = b.instrument AND f.measure = b.measure "
            "AND f.timepoint <> 'baseline' AND f.k = 1 "
            "WHERE b.timepoint = 'baseline' AND b.k = 1 AND f.collected_at >= b.collected_at) "
        )
    dims = ", ".join(DIMENSION_COLUMNS)
    change = (
        f"INSERT INTO report_change (referral_id, instrument, measure, baseline, follow_up, "
        f"{dims}) {pairs}SELECT pr.referral_id, pr.instrument, pr.measure, pr.before, pr.after, "
        f"{', '.join(f'f.{c}' for c in DIMENSION_COLUMNS)} "
        "FROM pr JOIN report_referral f ON f.referral_id = pr.referral_id ORDER BY f.authored_on"
    )
    clear = [
        f"DELETE FROM {table} WHERE referral_id IN ({scope})"
        for table in ("report_change", "report_category", "report_need", "report_referral")
    ]
    return [*clear, referral, need, category, change]


# Monthly partials ------------------------------------------------------------------------------


FILLER = {"imd_decile": "0"}  # the value of a key column outside a partial's dims, else ''


def _partial_select(
    d: Dialect,
    kinds: list[tuple[str, ...]],
    source: str,
    extra: list[str],
    sums: list[str],
    where: str,
    need: str,
) -> str:
    """The partial rows of ``kinds`` (which all read ``source``) from the summary rows ``f``
    (``need``: the need column; ``ac``: report_category): an unknown decile is 0 and no category
    ''. PostgreSQL: one scan with a grouping set per kind; SQLite: one SELECT per kind."""
    written = {
        "imd_decile": "COALESCE(f.imd_decile, 0)",
        "need": need,
        "category": "COALESCE(ac.category, '')",
    }
    used = [b for b in PARTIAL_KEY if any(b in kind for kind in kinds)]
    key = {b: written.get(b, f"f.{b}") for b in used}
    head = ["f.month", "f.quarter"]
    if d.postgres and len(kinds) > 1:
        # GROUPING(...) has a bit set for each key column rolled up, the first one highest
        masks = " ".join(
            f"WHEN {sum(1 << (len(used) - 1 - j) for j, b in enumerate(used) if b not in kind)} "
            f"THEN '{'+'.join(kind)}'"
            for kind in kinds
        )
        dims = f"CASE GROUPING({', '.join(key.values())}) {masks} END"
        columns = [
            f"COALESCE({key[b]}, {FILLER.get(b, repr(''))})" if b in key else FILLER.get(b, "''")
            for b in PARTIAL_KEY
        ]
        sets = ", ".join(
            "(" + ", ".join([*head, *(key[b] for b in kind), *extra]) + ")" for kind in kinds
        )
        return (
            f"SELECT {dims} AS dims, {', '.join([*head, *columns, *extra, *sums])} "
            f"FROM {source} WHERE {where} GROUP BY GROUPING SETS ({sets})"
        )
    selects = []
    for kind in kinds:
        columns = [key[b] if b in kind else FILLER.get(b, "''") for b in PARTIAL_KEY]
        grouped = [*head, *(key[b] for b in kind), *extra]
        selects.append(
            f"SELECT '{'+'.join(kind)}' AS dims, {', '.join([*head, *columns, *extra, *sums])} "
            f"FROM {source} WHERE {where} GROUP BY {', '.join(grouped)}"
        )
    return " UNION ALL ".join(selects)


def _upsert(
    table: str, extra: tuple[str, ...], sums: tuple[str, ...], selects: list[str], add: bool
) -> str:
    """INSERT the rows of ``selects`` in the order of the key (a report reads one kind's months,
    together on disk); ``add``: to the existing rows of the same key (a rebuild inserts into
    empty tables)."""
    key = ("dims", *extra, "month", *PARTIAL_KEY)  # the unique index's order
    columns = ", ".join(("dims", "month", "quarter", *PARTIAL_KEY, *extra, *sums))
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    conflict = f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {added}" if add else ""
    # "WHERE true": SQLite cannot tell ON CONFLICT from a join condition without it
    return (
        f"INSERT INTO {table} ({columns}) SELECT * FROM ({' UNION ALL '.join(selects)}) u "
        f"WHERE true ORDER BY {', '.join(key[: 2 + len(extra)])}{conflict}"
    )


def partial_statements(
    d: Dialect, scope: str | None, sign: int, params: dict[str, Any]
) -> list[str]:
    """Add ``sign`` (1 or -1) times the aggregates of the summary rows of the referrals ``scope``
    to the monthly partials of every kind (upserts; ``scope`` None: insert those of every
    summary row into empty partials), for the score measures the reports follow; adds the
    measures' values to ``params``."""
    where = "1 = 1" if scope is None else f"f.referral_id IN ({scope})"
    counts = [f"{sign} * COUNT(*)", *(f"{sign} * SUM(f.{name})" for name in FLAGS)]
    counts.append(f"{sign} * COUNT(f.first_contact_days)")
    counts += [f"{sign} * SUM({c})" for c in day_bucket_counts("f.first_contact_days")]
    measures = score_measures()
    improved = improved_sql(measures, params)
    for k, m in enumerate(measures):
        params |= {f"pi{k}": m.instrument, f"pm{k}": m.measure}
    followed = " OR ".join(
        f"(f.instrument = :pi{k} AND f.measure = :pm{k})" for k in range(len(measures))
    )
    change = "(f.follow_up - f.baseline)"
    sums = [
        f"{sign} * COUNT(*)",
        f"{sign} * SUM(f.baseline)",
        f"{sign} * SUM(f.follow_up)",
        f"{sign} * SUM({change})",
        f"{sign} * SUM({change} * {change})",
        f"{sign} * SUM({improved})",
    ]
    month, changes = [], []
    for joined in ((), ("need",), ("category",), ("need", "category")):
        kinds = [k for k in partial_kinds() if {"need", "category"} & set(k) == set(joined)]
        table = "report_need f" if "need" in joined else "report_referral f"
        source = "report_change f"
        if "need" in joined:
            source += " LEFT JOIN report_need rn ON rn.referral_id = f.referral_id"
        if "category" in joined:
            category = " LEFT JOIN report_category ac ON ac.referral_id = f.referral_id"
            table, source = table + category, source + category
        month.append(_partial_select(d, kinds, table, [], counts, where, "f.need"))
        changes.append(
            _partial_select(
                d,
                kinds,
                source,
                ["f.instrument", "f.measure"],
                sums,
                f"{where} AND ({followed})",
                f"COALESCE(rn.need, '{NONE}')",
            )
        )
    return [
        _upsert("report_month", (), (*MONTH_SUMS, *DAY_BUCKETS), month, scope is not None),
        _upsert(
            "report_month_change",
            ("instrument", "measure"),
            CHANGE_SUMS,
            changes,
            scope is not None,
        ),
    ]


async def _pending(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    async with sessionmaker() as session:
        found = await session.scalar(text("SELECT EXISTS (SELECT 1 FROM report_dirty)"))
        await session.rollback()
    return bool(found)


PURGED = "SELECT referral_id FROM report_purged"
"""Never recomputed: their sources are gone, their summary rows are what is kept (a purge)."""

REBUILD_FROM = 10_000  # claimed referrals from which a refresh may rebuild the partials


async def _recompute(
    session: AsyncSession, d: Dialect, scope: str, count: int, everything: bool
) -> None:
    """The summary rows of the ``count`` referrals of ``scope``, and the monthly partials: the
    old rows' aggregates taken off, the new rows' added; rebuilt from every summary row instead
    (``everything``, or a bulk load: at least half the referrals claimed)."""
    params: dict[str, Any] = {"declined": f"%{DECLINED[1]}%"}
    rebuild = everything
    if not rebuild and count >= REBUILD_FROM:
        total = int(await session.scalar(text("SELECT COUNT(*) FROM report_referral")) or 0)
        rebuild = 2 * count >= total
    if rebuild:
        if d.postgres:
            # the grouping sets of every kind hashed in memory, in one pass over each table
            await session.execute(text("SET LOCAL work_mem = '512MB'"))
        before = ["DELETE FROM report_month", "DELETE FROM report_month_change"]
        after = partial_statements(d, None, 1, params)
    else:
        before = partial_statements(d, scope, -1, params)
        after = partial_statements(d, scope, 1, params)
    for statement in [*before, *statements(d, scope), *after]:
        await session.execute(text(statement), params)


async def _refresh_postgres(session: AsyncSession, d: Dialect, everything: bool) -> int:
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REFRESH_LOCK})
    await session.execute(text("SET LOCAL work_mem = '64MB'"))
    await session.execute(text("SET LOCAL jit = off"))
    await session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS report_claim (referral_id uuid PRIMARY KEY) "
            "ON COMMIT DELETE ROWS"
        )
    )
    await session.execute(text("DELETE FROM report_claim"))  # within a test's outer transaction
    also = (
        " UNION SELECT id FROM referral UNION SELECT referral_id FROM report_referral"
        if everything
        else ""
    )
    claimed = await session.execute(
        text(
            "WITH claimed AS (DELETE FROM report_dirty RETURNING referral_id) "
            f"INSERT INTO report_claim SELECT referral_id FROM claimed{also} "
            "ON CONFLICT DO NOTHING"
        )
    )
    count = int(claimed.rowcount or 0)  # type: ignore[attr-defined]
    kept = await session.execute(text(f"DELETE FROM report_claim WHERE referral_id IN ({PURGED})"))
    count -= int(kept.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        await session.execute(text("ANALYZE report_claim"))
        await _recompute(session, d, "SELECT referral_id FROM report_claim", count, everything)
    return count


async def _refresh_sqlite(session: AsyncSession, d: Dialect, everything: bool) -> int:
    scope = "SELECT referral_id FROM report_dirty"
    if everything:
        scope += " UNION SELECT id FROM referral UNION SELECT referral_id FROM report_referral"
    scope = f"SELECT referral_id FROM ({scope}) AS q WHERE referral_id NOT IN ({PURGED})"
    count = int(await session.scalar(text(f"SELECT COUNT(*) FROM ({scope})")) or 0)
    if count:
        await _recompute(session, d, scope, count, everything)
        await session.execute(text("DELETE FROM report_dirty"))
    return count


async def refresh(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    write_lock: asyncio.Lock | None = None,
    everything: bool = False,
) -> Refreshed:
    """Bring the summary rows of every queued referral (or of all, ``everything``) up to date,
    in a transaction of its own, committed before this returns. ``write_lock``: the app's
    SQLite writer lock (``app.deps.write_lock_of``; None on PostgreSQL)."""
    if not everything and not await _pending(sessionmaker):
        return Refreshed(0)
    async with transaction(sessionmaker, write=True, lock=write_lock) as session:
        d = Dialect(session.get_bind().dialect.name)
        if d.postgres:
            count = await _refresh_postgres(session, d, everything)
        else:
            count = await _refresh_sqlite(session, d, everything)
    return Refreshed(count)


class SharedRefresh:
    """This process's report requests share refreshes: one runs, and everyone who asked while
    it ran waits for the single next one, which starts after they asked (so each report still
    sees every change committed before it was asked for). Without this, N reports asked at
    once each ran a refresh in turn behind the advisory lock (the reports' tail under load,
    docs/performance.md "Mixed load"). One per application (one database)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()  # FIFO: the waiters in the order they asked
        self._started = 0  # refreshes begun
        self._done = 0  # the number of the last refresh that succeeded

    async def run(self, refresh: Callable[[], Awaitable[object]]) -> None:
        """``refresh`` now, or the one begun next by whoever got here first."""
        wanted = self._started + 1  # the first refresh to begin after this call
        async with self._lock:
            if self._done >= wanted:
                return
            self._started += 1
            number = self._started
            await refresh()
            self._done = number
