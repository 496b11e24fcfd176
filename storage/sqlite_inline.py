"""SQLite for the bot's own engine: sqlite3 called on the event loop, no worker thread.

SQLite is a library, not a server: a statement of the bot (one person's row, one answer) costs
tens of microseconds. Through aiosqlite each call is a hop to the connection's thread and back
(a queue put, a future, a wake-up of the event loop), which costs more than the statement; and
while an update waits for those hops the event loop serves other updates, so the bot's one
connection was held many times longer than its work takes (measured: 8 ms held for about 1 ms
of SQL, `bench/updates.py --profile`).

This module gives SQLAlchemy's own aiosqlite adapter a driver with aiosqlite's shape whose
coroutines call ``sqlite3`` directly and complete without suspending: a statement never yields
to the event loop, and the whole of an update's SQL runs in one go.

The one thing that could then block the loop is the write lock held by another connection (the
admin backend and the scheduler use aiosqlite on their own engine; CLI commands are other
processes). So every transaction starts with ``BEGIN IMMEDIATE`` (the write lock up front: no
later statement of the transaction waits for it) under ``busy_timeout`` 0, and while the lock
is taken it *awaits* an asyncio sleep with back-off and tries again: the wait is asynchronous,
the loop keeps serving, and the other connection (which needs the loop to finish its own
transaction) can commit. Within this engine, transactions queue for its one pooled connection.

Used when :func:`storage.db.create_engine` is asked for ``inline=True`` on a SQLite URL; the
``DATABASE_URL`` people write stays ``sqlite+aiosqlite:///…``.

The hottest statements (the update-id claim, the person and their survey state, an answer, a
profile column) can skip SQLAlchemy's per-statement machinery on this engine:
:func:`execute_write` and :func:`fetch_rows` run a Core statement that SQLAlchemy compiled
once, with SQLAlchemy's own bind and result processors, straight on ``sqlite3`` inside the
session's transaction (see :mod:`storage.dialect`, which picks the path and attaches ORM
objects).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util.concurrency import await_

DRIVER = "xuatngu_inline"
LOCK_WAIT_SECONDS = 30.0
_FIRST_BACKOFF = 0.0005
_MAX_BACKOFF = 0.02


class _Cursor:
    """An aiosqlite-shaped cursor whose coroutines run ``sqlite3`` at once."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> _Cursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> _Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Connection:
    """An aiosqlite-shaped connection around a ``sqlite3`` connection, no thread."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    @property
    def _connection(self) -> sqlite3.Connection:  # what SQLAlchemy's adapter checks
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _Cursor:
        return _Cursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        conn = sqlite3.connect(*arg, **kw)
        conn.isolation_level = None  # sqlite3 emits no BEGIN: do_begin does, immediate
        conn.execute("PRAGMA busy_timeout=0")  # the wait for the lock is on the event loop
        driver: Any = _Connection(conn)  # aiosqlite's shape: what the adapter calls
        return AsyncAdapt_aiosqlite_connection(self, driver)


class InlineSQLiteDialect(SQLiteDialect_aiosqlite):
    """SQLAlchemy's aiosqlite dialect on :class:`_Connection`, ``BEGIN IMMEDIATE`` on begin."""

    driver = DRIVER
    supports_statement_cache = True
    supports_server_side_cursors = True

    @classmethod
    def import_dbapi(cls) -> _Dbapi:
        return _Dbapi(__import__("aiosqlite"), sqlite3)

    def detect_autocommit_setting(self, dbapi_conn: Any) -> bool:
        return False  # isolation_level None here means "do_begin emits BEGIN", not autocommit

    def set_isolation_level(self, dbapi_connection: Any, level: Any) -> None:
        if level != "SERIALIZABLE":  # SQLite's own, and the only one this engine runs
            raise NotImplementedError(f"isolation level {level!r} on the inline SQLite engine")

    def get_isolation_level(self, dbapi_connection: Any) -> Any:
        return "SERIALIZABLE"

    def do_begin(self, dbapi_connection: Any) -> None:
        begin_immediate(dbapi_connection._connection._conn)


def begin_immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``; while another connection writes, sleep on the event loop and retry.

    After ``LOCK_WAIT_SECONDS`` SQLite's own "database is locked" error is raised.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    backoff = _FIRST_BACKOFF
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
        await_(asyncio.sleep(backoff))
        backoff = min(backoff * 2, _MAX_BACKOFF)


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")


# ---------------------------------------------------------------- hot statements


@dataclass(frozen=True)
class _Plan:
    """A statement compiled for this dialect: SQL, parameter order, bind and result processors."""

    compiled: Any
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[Callable[[Any], Any] | None, ...]


@cache
def _plan(statement: Any, dialect: Dialect, keys: tuple[str, ...]) -> _Plan:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if compiled.insert_prefetch or compiled.update_prefetch:
        missing = [c.key for c in (*compiled.insert_prefetch, *compiled.update_prefetch)]
        raise ValueError(f"pass every value explicitly (Python-side defaults for {missing})")
    names = tuple(compiled.positiontup or ())
    processors = tuple(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    )
    columns = statement.selected_columns if getattr(statement, "is_select", False) else ()
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    return _Plan(compiled, compiled.string, names, processors, results)


def driver_of(conn: Connection) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection behind an inline-engine connection (None for other drivers)."""
    driver = conn.connection.driver_connection
    return driver._conn if isinstance(driver, _Connection) else None


def _run(
    conn: Connection, driver: sqlite3.Connection, statement: Any, params: Mapping[str, Any]
) -> tuple[_Plan, sqlite3.Cursor]:
    plan = _plan(statement, conn.dialect, tuple(params))
    values = plan.compiled.construct_params(params)
    args = [
        values[name] if process is None else process(values[name])
        for name, process in zip(plan.names, plan.processors, strict=True)
    ]
    try:
        return plan, driver.execute(plan.sql, args)
    except sqlite3.Error as error:
        raise DBAPIError.instance(plan.sql, args, error, sqlite3.Error) from error


def execute_write(
    conn: Connection, driver: sqlite3.Connection, statement: Any, params: Mapping[str, Any]
) -> int:
    """Run an INSERT/UPDATE/DELETE on ``sqlite3`` directly; the number of rows it changed.

    The SQL and the value conversions (dates, JSON) are SQLAlchemy's own, so the row is the
    same as through ``session.execute``; what is skipped is the per-statement execution
    context and result. Every value must be given (Python-side defaults are not run), and no
    ORM event or cursor event sees the statement.
    """
    return _run(conn, driver, statement, params)[1].rowcount


def execute_insert(
    conn: Connection, driver: sqlite3.Connection, statement: Any, params: Mapping[str, Any]
) -> int:
    """:func:`execute_write` of one INSERT; the new row's id."""
    rowid = _run(conn, driver, statement, params)[1].lastrowid
    assert rowid is not None
    return rowid


def fetch_rows(
    conn: Connection, driver: sqlite3.Connection, statement: Any, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Run a SELECT on ``sqlite3`` directly: its rows, values converted as SQLAlchemy does.

    The columns are the statement's ``selected_columns`` (an ORM entity stands for its
    mapped columns), each through its type's result processor (dates, JSON, booleans).
    """
    plan, cursor = _run(conn, driver, statement, params)
    rows = cursor.fetchall()
    results = plan.results
    if not any(results):
        return rows
    return [
        tuple(v if p is None else p(v) for p, v in zip(results, row, strict=True)) for row in rows
    ]
