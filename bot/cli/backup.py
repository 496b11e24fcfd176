"""``xuatngu backup`` and ``xuatngu restore``: one file holding the whole database.

SQLite is copied with SQLite's online backup (safe while the bot runs); PostgreSQL with
``pg_dump -Fc`` and ``pg_restore``, which get the connection through ``PG*`` environment
variables so the password is never on a command line or printed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import URL, Connection, make_url

from bot.cli.common import settings_or_exit
from bot.config import DEFAULT_DATA_DIR
from storage.db import create_engine
from storage.models import Answer, Person

BACKUP_DIR = DEFAULT_DATA_DIR / "backups"
USAGE_ERROR = 2


def _fail(message: str, code: int = USAGE_ERROR) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _counts_sync(conn: Connection) -> tuple[int, int] | None:
    if not inspect(conn).has_table(Person.__tablename__):
        return None
    people = conn.execute(select(func.count()).select_from(Person)).scalar_one()
    answers = conn.execute(select(func.count()).select_from(Answer)).scalar_one()
    return people, answers


def database_counts(database_url: str) -> tuple[int, int] | None:
    """(people, answers) in the database, or None when it has no schema yet."""

    async def go() -> tuple[int, int] | None:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_counts_sync)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _pg_env(url: URL) -> dict[str, str]:
    """The connection as libpq environment variables (the password stays out of argv)."""
    parts = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    return {**os.environ, **{key: value for key, value in parts.items() if value}}


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise _fail(
            f"{name} not found: install the PostgreSQL client tools of the server's version "
            "(apt install postgresql-client)."
        )
    return path


def _run_pg(args: list[str], url: URL) -> None:
    done = subprocess.run(args, env=_pg_env(url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise _fail(f"{Path(args[0]).name} failed: {reason}", 1)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise _fail("DATABASE_URL names no SQLite file to back up or restore.")
    return Path(url.database)


def _open_existing(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing SQLite file, or a one-line error."""
    if not path.is_file():
        raise _fail(f"Cannot read {path}: no such file. Check the path.")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _fail(f"Cannot read {path} as a SQLite database: {exc}.") from None
    return conn


def _sqlite_copy(source: Path, target: Path, *, restoring: bool = False) -> None:
    """Copy the SQLite database ``source`` into ``target`` with SQLite's online backup."""
    src = _open_existing(source)
    if (
        restoring
        and not src.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?", (Person.__tablename__,)
        ).fetchone()
    ):
        src.close()
        raise _fail(f"{source} is no xuatngu backup: it has no {Person.__tablename__} table.")
    try:
        dst = sqlite3.connect(target)
    except sqlite3.Error as exc:
        src.close()
        raise _fail(f"Cannot write {target}: {exc}. Choose another path.") from None
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise _fail(f"Copying {source} to {target} failed: {exc}.", 1) from None
    finally:
        dst.close()
        src.close()


def _default_file(url: URL) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if url.get_backend_name() == "sqlite" else "dump"
    BACKUP_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    return BACKUP_DIR / f"xuatngu-{stamp}.{suffix}"


def backup(
    file: Path | None = typer.Argument(
        None, help="backup file to write (default: data/backups/xuatngu-<UTC time>.sqlite3|dump)"
    ),
) -> None:
    """Write the whole database to one file (safe while the bot runs)."""
    url = make_url(settings_or_exit().database_url)
    target = file or _default_file(url)
    if target.is_dir() or not target.parent.is_dir():
        raise _fail(f"Cannot write {target}: no such folder or it is a folder. Choose a file path.")
    tool = None if url.get_backend_name() == "sqlite" else _pg_tool("pg_dump")
    try:
        # the backup holds personal data: readable by the operator only, from the first byte
        target.touch(mode=0o600)
        target.chmod(0o600)
    except OSError as exc:
        raise _fail(f"Cannot write {target}: {exc.strerror}. Choose another path.") from None
    try:
        if tool is None:
            _sqlite_copy(_sqlite_path(url), target)
        else:
            _run_pg([tool, "-Fc", "-f", str(target)], url)
    except typer.Exit:
        target.unlink(missing_ok=True)  # no half-written backup left to be trusted
        raise
    typer.echo(f"Wrote backup {target}.")


def restore(
    file: Path = typer.Argument(..., help="backup file made by xuatngu backup"),
    force: bool = typer.Option(
        False, "--force", help="replace a database that already holds people"
    ),
) -> None:
    """Replace the database with a backup (stop the bot and the admin backend first)."""
    settings = settings_or_exit()
    url = make_url(settings.database_url)
    if not file.is_file():
        raise _fail(f"Cannot read {file}: no such file. Check the path.")
    sqlite = url.get_backend_name() == "sqlite"
    tool = None if sqlite else _pg_tool("pg_restore")
    present = database_counts(settings.database_url)
    if present is not None and present[0] > 0 and not force:
        raise _fail(
            f"The database already holds {present[0]} people; restoring replaces all of it. "
            "Add --force to go on.",
            1,
        )
    if tool is None:
        _sqlite_copy(file, _sqlite_path(url), restoring=True)
    else:
        _run_pg(
            [tool, "--clean", "--if-exists", "--no-owner", "-d", url.database or "", str(file)], url
        )
    restored = database_counts(settings.database_url)
    if restored is None:
        raise _fail(
            f"{file} held no xuatngu database: the restored database has no people table.", 1
        )
    typer.echo(f"Restored {file}: {restored[0]} people, {restored[1]} answers.")
