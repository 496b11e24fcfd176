"""Statements the repositories share: INSERT … ON CONFLICT per database, UPDATE by id, and
the hot path of the bot's inline SQLite engine (writes and reads straight on ``sqlite3``)."""

from __future__ import annotations

import sqlite3
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict

from storage import sqlite_inline
from storage.models.base import utcnow

T = TypeVar("T")
_INLINE = "inline_connection"


def insert_for(dialect_name: str, table: Any) -> Any:
    """``insert(table)`` that knows ``on_conflict_do_update/nothing`` (PostgreSQL or SQLite)."""
    module: Any = postgresql if dialect_name == "postgresql" else sqlite
    return module.insert(table)


def dialect_name(session: AsyncSession) -> str:
    """The name of the database behind ``session`` ("sqlite" or "postgresql")."""
    return str(session.get_bind().dialect.name)


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """:func:`insert_for` the database behind ``session``."""
    return insert_for(dialect_name(session), table)


@cache
def _update_by_id_statement(table: Table, columns: tuple[str, ...]) -> Any:
    """UPDATE table SET these columns WHERE id = :pk (built once per table and columns)."""
    return (
        update(table)
        .where(table.c.id == bindparam("pk"))
        .values({c: bindparam(f"new_{c}") for c in columns})
    )


async def _inline(session: AsyncSession) -> tuple[Connection, sqlite3.Connection] | None:
    """The session's connection and its ``sqlite3`` when on the bot's inline engine, else None.

    Pending ORM changes are flushed first, as ``session.execute`` would (autoflush).
    """
    if session.get_bind().dialect.driver != sqlite_inline.DRIVER:
        return None
    if session.new or session.dirty or session.deleted:
        await session.flush()
    # the connection is the transaction's: kept for the transaction's next statements
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_INLINE)
    if cached is not None and transaction is not None and cached[0] is transaction:
        return cached[1]
    conn = (await session.connection()).sync_connection
    assert conn is not None
    driver = sqlite_inline.driver_of(conn)
    assert driver is not None, "an inline-engine session runs on sqlite3"
    session.info[_INLINE] = (session.sync_session.get_transaction(), (conn, driver))
    return conn, driver


async def execute_write(session: AsyncSession, statement: Any, params: dict[str, Any]) -> int:
    """Run an INSERT/UPDATE/DELETE in the session's transaction; the number of rows changed.

    On the bot's inline SQLite engine the statement runs straight on ``sqlite3`` (see
    :func:`storage.sqlite_inline.execute_write`: same SQL and values, a fraction of the cost);
    elsewhere through ``session.execute``.
    """
    inline = await _inline(session)
    if inline is None:
        result = await session.execute(statement, params)
        return int(result.rowcount)  # type: ignore[attr-defined]
    return sqlite_inline.execute_write(*inline, statement, params)


async def fetch_rows(
    session: AsyncSession, statement: Any, params: dict[str, Any]
) -> list[tuple[Any, ...]] | None:
    """The rows of a SELECT on the bot's inline SQLite engine (None elsewhere: use the ORM).

    See :func:`storage.sqlite_inline.fetch_rows`; :func:`attach_loaded` turns an entity's
    columns into the ORM object the query would have returned.
    """
    inline = await _inline(session)
    return None if inline is None else sqlite_inline.fetch_rows(*inline, statement, params)


def attach_loaded(session: AsyncSession, cls: type[T], values: dict[str, Any]) -> T:
    """The persistent ``cls`` object for a row read by :func:`fetch_rows`.

    As an ORM query does: the object already in the session if there is one (unchanged),
    else a new one, attached as if loaded (no pending changes; attributes not given, such as
    relationships, load on access). Like SQLAlchemy's own loader, the new object is made
    without ``__init__`` (no init event, no attribute events: about a third of the cost)
    and its columns go straight into its state.
    """
    mapper, primary_key = _mapped(cast(Any, cls))
    key = mapper.identity_key_from_primary_key((values[primary_key],))
    existing = session.sync_session.identity_map.get(key)
    if existing is not None:
        return cast(T, existing)
    obj = mapper.class_manager.new_instance()
    instance_dict(obj).update(values)
    make_transient_to_detached(obj)
    session.sync_session.add(obj)
    return cast(T, obj)


async def insert_loaded(session: AsyncSession, cls: type[T], values: dict[str, Any]) -> T:
    """Insert one ``cls`` row now and return it persistent, as ``add()`` and ``flush()`` would.

    On the bot's inline SQLite engine: one INSERT straight on ``sqlite3`` with the columns'
    Python-side defaults filled in, then :func:`attach_loaded`; elsewhere the ORM.
    """
    inline = await _inline(session)
    if inline is None:
        obj = cls(**values)
        session.add(obj)
        await session.flush()
        return obj
    table = cast(Table, cast(Any, cls).__table__)
    row = {**_defaults(table), **values}
    new_id = sqlite_inline.execute_insert(*inline, _insert_statement(table), row)
    row[_mapped(cast(Any, cls))[1]] = new_id
    return attach_loaded(session, cls, row)


@cache
def _insert_statement(table: Table) -> Any:
    return table.insert()


def _defaults(table: Table) -> dict[str, Any]:
    """Each column's Python-side default (called now if it is a function); None for the rest.

    The primary key is left to the database; a server-side default would not be known here,
    so such a table is refused.
    """
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key:
            continue
        if column.server_default is not None:
            raise ValueError(f"{table.name}.{column.key} has a server default")
        default: Any = column.default
        if default is None:
            values[column.key] = None
        elif default.is_callable:
            values[column.key] = default.arg(None)  # SQLAlchemy's wrapper takes a context
        elif default.is_scalar:
            values[column.key] = default.arg
        else:
            raise ValueError(f"{table.name}.{column.key} has a SQL default")
    return values


@cache
def _mapped(cls: Any) -> tuple[Mapper[Any], str]:
    """The class's mapper (configured) and the attribute of its one-column primary key."""
    configure_mappers()  # as the first ``cls(...)`` or query would: attributes are set up
    mapper = sa_inspect(cls)
    if len(mapper.primary_key) != 1:
        raise ValueError(f"{cls.__name__} has a composite primary key")
    return mapper, str(mapper.primary_key[0].key)


async def update_by_id(
    session: AsyncSession, table: Table, row_id: int, values: dict[str, Any]
) -> dict[str, Any]:
    """Write some columns of one row now, in one statement, with ``updated_at``.

    Returns what was written (``values`` and ``updated_at``), for the caller to keep its loaded
    object in step. The hot paths use it instead of a unit-of-work flush at commit.
    """
    written = {**values, "updated_at": utcnow()}
    columns = tuple(sorted(written))
    params = {f"new_{c}": written[c] for c in columns}
    await execute_write(session, _update_by_id_statement(table, columns), {"pk": row_id, **params})
    return written
