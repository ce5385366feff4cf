"""The database: engine, the transactions and their owners, and the ORM base.

Services and repositories only ``flush()`` (or open a SAVEPOINT). Every transaction is opened
with ``transaction`` (commit at the end of the block, rollback when it raises; a writer takes
the SQLite write lock and begins with ``BEGIN IMMEDIATE``), by one of these owners:

- ``get_session``, a request's: it commits when the endpoint returns and rolls back when it
  raises, before the response is sent, so a client never sees a success that was not stored;
  then, in one of their own, the audit records of the accesses it refused
  (``keep_after_rollback``) and, on SQLite, those of a reading request's accesses
  (``keep``: its reader cannot become a writer at commit);
- ``write_session``, the intake writer's batches and one-by-one referrals
  (app/referrals/writer.py);
- ``audit.service.record_denied`` outside a request;
- ``reporting.summary.refresh``, the reports' summary tables;
- the CLI commands (``cli._in_transaction``, ``demo.seed.seed_demo``).

Rows that nothing reads back in the transaction (the audit records of successful accesses) are
kept aside (``keep``) and inserted with one Core INSERT per table just before it commits: no ORM
object, no unit of work to flush.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import Annotated, Any, cast

import pydantic_core
from fastapi import Depends, Request
from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    event,
    insert,
)
from sqlalchemy import exc as exc_module
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, NullPool
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

from app import deps
from app.config import Settings

WRITE_OPTION = "assetlink_sqlite_write"  # execution option: BEGIN IMMEDIATE on SQLite
PING_AFTER_IDLE_S = 1.0  # a pooled connection idle this long is checked before use
OPENED_FILE = "assetlink_sqlite_file"  # connection info: the path and its file when connected

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def column_length(*attributes: QueryableAttribute[Any]) -> int:
    """The length a value may have to fit every one of these ``String(n)`` columns.

    Validation takes its limits from here, so a rule cannot drift from the schema: SQLite stores
    an over-long value, PostgreSQL refuses it (a 500 if nothing checked it first)."""
    lengths = []
    for attribute in attributes:
        kind = attribute.type
        if not isinstance(kind, String) or kind.length is None:
            raise TypeError(f"{attribute} is not a String(n) column")
        lengths.append(kind.length)
    return min(lengths)


def one_of(session: AsyncSession, column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``column = ANY($1)``: one statement text whatever the
    number of values, so asyncpg prepares it once per connection instead of once per count."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(
            ColumnElement[bool],
            column == any_(bindparam(None, list(values), type_=ARRAY(String()))),
        )
    return cast(ColumnElement[bool], column.in_(list(values)))


class OneOfParameter(ColumnElement[bool]):
    """``column IN :name``, the values given when the statement runs (``{name: [...]}``); on
    PostgreSQL ``column = ANY(:name)``, as ``one_of``: for a statement built once, whatever
    the database it runs on (``compile_one_of``)."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is, not "... = 1" on SQLite
    # the statement's cache key (one compiled form per column and name)
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's own attribute, read per class)
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


@compiles(OneOfParameter)
def compile_one_of(element: OneOfParameter, compiler: Any, **kw: Any) -> str:
    in_ = element.column.in_(bindparam(element.name, expanding=True))
    return cast(str, compiler.process(in_, **kw))


@compiles(OneOfParameter, "postgresql")
def compile_one_of_postgresql(element: OneOfParameter, compiler: Any, **kw: Any) -> str:
    any_of = element.column == any_(bindparam(element.name, type_=ARRAY(String())))
    return cast(str, compiler.process(any_of, **kw))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_engine(settings: Settings, *, pooled: bool = True) -> AsyncEngine:
    """The async engine; ``pooled=False`` opens a connection per use (migrations, CLI)."""
    url = settings.async_database_url
    options: dict[str, Any] = {"hide_parameters": True}  # values (NHS numbers...) never in logs
    if not pooled:
        options["poolclass"] = NullPool
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": settings.database_timeout_s}
    else:
        options["connect_args"] = {
            "timeout": settings.database_timeout_s,
            "server_settings": {"application_name": "assetlink"},
        }
        if pooled:
            options.update(
                poolclass=FairQueuePool,
                pool_size=settings.database_pool_size,
                max_overflow=settings.database_pool_size,
                pool_timeout=settings.database_timeout_s,
            )
    engine = create_async_engine(url, json_serializer=json_text, **options)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms=int(settings.database_timeout_s * 1000))
    elif pooled:
        _ping_when_idle(engine, idle_s=PING_AFTER_IDLE_S)
    return engine


class _FairQueue(AsyncAdaptedQueue[ConnectionPoolEntry]):
    """The pool's idle connections, handed to the waiting checkouts in the order they came.

    SQLAlchemy's asyncio queue is not fair: a returned connection wakes the longest waiter, but
    a checkout arriving meanwhile takes it first, and the waiter queues again at the back. Under
    load (more requests than connections) a few requests then wait turn after turn until the
    pool's timeout (503) while the mean wait is short. Here a returned connection goes straight
    to the first waiter, and a newcomer takes an idle one only when nobody waits.
    """

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiters: deque[asyncio.Future[ConnectionPoolEntry]] = deque()

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        if not any(not waiter.done() for waiter in self._waiters):
            try:
                return self._queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        if not block:
            raise Empty()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            entry: ConnectionPoolEntry = await_(_handed(waiter, timeout))
            return entry
        except TimeoutError as exc:
            self._pass_on(waiter)
            raise Empty() from exc
        except BaseException:  # cancelled: a request's timeout, its client gone
            self._pass_on(waiter)
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _pass_on(self, waiter: asyncio.Future[ConnectionPoolEntry]) -> None:
        """A connection handed to a checkout that stopped waiting goes to the next one (else
        the pool would be one connection short for good)."""
        if waiter.done() and not waiter.cancelled():
            self.put_nowait(waiter.result())


async def _handed(
    waiter: asyncio.Future[ConnectionPoolEntry], within_s: float | None
) -> ConnectionPoolEntry:
    async with asyncio.timeout(within_s):
        return await waiter


class FairQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool with connections handed out first come, first served."""

    _queue_class = _FairQueue


def json_text(value: Any) -> str:
    """JSON columns as compact text (pydantic-core's encoder: about 5x json.dumps)."""
    return pydantic_core.to_json(value).decode()


def _ping_when_idle(engine: AsyncEngine, *, idle_s: float) -> None:
    """Check a pooled connection before use when it has been idle ``idle_s`` seconds or more.

    Instead of ``pool_pre_ping`` on every checkout (three round trips with asyncpg: BEGIN, a
    query, ROLLBACK): a connection in steady use is not pinged. A database restarted while the
    pool was idle is found here (the dead connection is replaced before the request uses it);
    one that dies while connections are busy fails those requests with 503, and SQLAlchemy then
    invalidates the whole pool, so the next requests connect afresh.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("checked_in_at")
        if returned is None or time.monotonic() - returned < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # unusable: the pool replaces it (and retries the checkout)
            raise exc_module.DisconnectionError(type(exc).__name__) from exc


def _file_identity(path: str) -> tuple[int, int] | None:
    """Which file ``path`` names now (device and inode), None when none does."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _configure_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    """Foreign keys on, WAL, a busy timeout, real transactions (so SAVEPOINT works), and no
    connection used once its file is no longer the database's.

    pysqlite's own transaction handling is switched off and BEGIN emitted by SQLAlchemy, as the
    SQLAlchemy SQLite dialect documentation recommends ("Serializable isolation / Savepoints").

    A file replaced under the process (a backup copy moved over it, or deleted and made again)
    stays open in the pooled connections, which would go on reading it and writing to it (and
    the matching snapshot, reading its log through them, would never see the new file). So each
    connection notes which file it opened (device and inode of the path), and a checkout that
    finds the path naming another file, or none, closes it and connects afresh. A transaction
    under way at the replacement ends on the old file (docs/deploy.md, "SQLite").
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA database_list")
        path = next(row[2] for row in cursor.fetchall() if row[1] == "main")
        cursor.close()
        if path:  # not an in-memory database
            record.info[OPENED_FILE] = path, _file_identity(path)

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        opened = record.info.get(OPENED_FILE)
        if opened is not None and _file_identity(opened[0]) != opened[1]:
            # the pool closes it (SQLite neither checkpoints into nor deletes the -wal of a
            # moved file) and connects again, to the file the path names now
            raise exc_module.DisconnectionError("the database file was replaced")

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A request that writes takes the write lock up front (it waits for it, up to the busy
        # timeout), so two writers never both read and then fail to upgrade ("database is locked").
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        # A statement whose request was cancelled (its timeout, its client gone) runs on in
        # aiosqlite's thread, which no cancellation reaches, holding the connection (a writer:
        # the database's write lock) until it ends, and SQLAlchemy's close of the connection
        # it invalidates waits behind it. sqlite3's interrupt (safe from any thread) stops it.
        # (PostgreSQL's driver cancels the statement on the server itself.)
        if isinstance(context.original_exception, asyncio.CancelledError) and context.connection:
            await_(context.connection.connection.driver_connection.interrupt())


# SQLSTATEs (PostgreSQL) of a database that cannot serve now but may shortly: a connection
# failure (class 08), the server shutting down or starting up, a connection terminated by an
# administrator, too many connections, the database dropped or not (yet) made again.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P04", "53300", "3D000"})


def unavailable(error: BaseException) -> bool:
    """The database cannot be reached or cannot serve now (answered 503, "retry shortly").

    asyncpg's errors for a server shutting down or starting up reach SQLAlchemy as a plain
    ``DBAPIError`` (not ``OperationalError``): they are recognised by their SQLSTATE.
    """
    if isinstance(error, exc_module.DBAPIError):
        if error.connection_invalidated:
            return True
        state = getattr(error.orig, "sqlstate", None) or ""
        if state.startswith("08") or state in UNAVAILABLE_SQLSTATES:
            return True
    return isinstance(
        error,
        exc_module.OperationalError | exc_module.InterfaceError | exc_module.TimeoutError | OSError,
    )


def create_sessionmaker(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


def _writes(request: Request) -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS") and not request.url.path.endswith(
        "/_search"
    )


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    write: bool,
    lock: asyncio.Lock | None = None,
) -> AsyncIterator[AsyncSession]:
    """A session in a transaction of its own: committed when the block ends (after inserting
    the rows kept aside for it, ``keep``), rolled back when it raises.

    A writer (``write``) first takes ``lock`` (on SQLite the application's: the process's
    writers queue on it in order instead of polling SQLite's busy handler) and begins with
    ``BEGIN IMMEDIATE`` on SQLite, taking the database's write lock up front.
    """
    async with AsyncExitStack() as stack:
        if write and lock is not None:
            await stack.enter_async_context(lock)
        session = await stack.enter_async_context(sessionmaker())
        kept: list[tuple[Table, dict[str, Any]]] = []
        session.info[KEPT] = kept
        if write:
            await session.connection(execution_options={WRITE_OPTION: True})
        try:
            yield session
            for table in dict.fromkeys(table for table, _ in kept):
                await session.execute(insert(table), [row for t, row in kept if t is table])
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


_after_rollback: ContextVar[list[Any] | None] = ContextVar("assetlink_after_rollback", default=None)


def keep_after_rollback(row: Any) -> bool:
    """Store ``row`` even though the request fails (an audit record of a refused access).

    Inside a request it is written once the request's transaction has been rolled back (a
    second writer meanwhile would wait for the first on SQLite); outside one, False: the caller
    writes it itself.
    """
    pending = _after_rollback.get()
    if pending is None:
        return False
    pending.append(row)
    return True


KEPT = "assetlink_kept"  # session info: the rows to insert just before its transaction commits
AFTER_READ = "assetlink_after_read"  # session info: the rows to store once its read has ended


def keep(session: AsyncSession, table: Table, row: dict[str, Any]) -> bool:
    """Store ``row`` in ``table`` with ``session``'s work (an audit record of a successful
    access), as a Core INSERT: when ``session`` is a ``transaction``'s, just before it commits;
    when it is a reading request's on SQLite, once its read has ended. Otherwise False: the
    caller adds it. The table's column defaults are applied when it is inserted.

    SQLite's reader runs in a deferred transaction, and a row written in it would make it a
    writer at commit, which WAL refuses (``SQLITE_BUSY_SNAPSHOT``, which no busy wait helps)
    once another connection has committed since it first read: concurrent audited reads would
    fail with "database is locked". ``get_session`` writes these rows when the read has
    committed, in a short transaction of their own, before the answer is sent.
    """
    for key in (AFTER_READ, KEPT):
        pending: list[tuple[Table, dict[str, Any]]] | None = session.info.get(key)
        if pending is not None:
            pending.append((table, row))
            return True
    return False


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session: commits when the endpoint returns, rolls back when it raises.

    On SQLite a request that writes is a writer of ``transaction`` (this process's lock and
    ``BEGIN IMMEDIATE``); one that reads stays a reader, and the audit records of its accesses
    (``keep``) are written once it has committed, by a writer of their own; if they
    cannot be, the request fails (503), so no access is answered unaudited. On PostgreSQL,
    whose writers lock rows, it connects when first used and its audit records are in its own
    transaction. The audit records of refused accesses are written once it has been rolled
    back.
    """
    sessionmaker = deps.sessionmaker_of(request)
    lock = deps.write_lock_of(request)
    writes = lock is not None and _writes(request)
    refused: list[Any] = []
    read: list[tuple[Table, dict[str, Any]]] = []  # a reader's on SQLite, stored if it commits
    stored: list[tuple[Table, dict[str, Any]]] = []
    _after_rollback.set(refused)
    try:
        async with transaction(sessionmaker, write=writes, lock=lock) as session:
            if lock is not None and not writes:
                session.info[AFTER_READ] = read
            yield session
        stored = read
    finally:
        _after_rollback.set(None)
        if refused or stored:
            async with transaction(sessionmaker, write=True, lock=lock) as session:
                session.add_all(refused)
                for table, row in stored:
                    keep(session, table, row)


def write_session(state: Any) -> AbstractAsyncContextManager[AsyncSession]:
    """A writing transaction outside any request's (the intake writer's batches), on the
    application's ``state`` (its sessionmaker and, on SQLite, its write lock)."""
    lock: asyncio.Lock | None = getattr(state, "sqlite_write_lock", None)
    return transaction(state.sessionmaker, write=True, lock=lock)


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
