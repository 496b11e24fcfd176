"""``xuatngu export …``: write exports to files from the command line."""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import SettingsError, get_settings
from bot.reporting import exports, labels
from bot.reporting.preferences import ExportFilter, count_preference_rows
from storage.db import create_engine, create_sessionmaker
from storage.migrate import alembic_config

export_app = typer.Typer(
    help="Export data for officials and training centres.", no_args_is_help=True
)

FORMATS = ("csv", "xlsx")


@export_app.callback()
def export_main() -> None:
    """Export data for officials and training centres (CSV or XLSX)."""


USAGE_ERROR = 2


class ExportUsageError(Exception):
    """A problem the operator can fix; the message says how (printed as one line, exit 2)."""


def parse_cli_date(text: str, option: str) -> date:
    """A date given as YYYY-MM-DD or DD/MM/YYYY."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ExportUsageError(
        f"{option} {text!r} is not a valid date; write it as YYYY-MM-DD or DD/MM/YYYY, "
        "e.g. 2026-01-31 or 31/01/2026"
    )


def resolve_format(fmt: str | None, output: Path) -> str:
    """The export format from --format, or else from the output file's extension."""
    chosen = (fmt or output.suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        given = f"--format {fmt!r}" if fmt else f"the extension of {str(output)!r}"
        raise ExportUsageError(f"unknown format from {given}; use --format csv or --format xlsx")
    return chosen


def resolve_communes(values: list[str], province_code: int) -> list[str]:
    """Commune codes from codes or names ("6187", "Phường Kỳ Lừa", "Kỳ Lừa")."""
    known = dict(labels.communes(province_code))
    by_name: dict[str, str] = {}
    for ward_code, name in known.items():
        by_name[name.casefold()] = ward_code
        short = name.split(" ", 1)[1] if name.startswith(("Xã ", "Phường ")) else name
        by_name.setdefault(short.casefold(), ward_code)
    codes: list[str] = []
    for value in values:
        text = value.strip()
        code: str | None = text if text in known else by_name.get(text.casefold())
        if code is None:
            example = next(iter(known.items()), ("6187", "Phường Kỳ Lừa"))
            raise ExportUsageError(
                f"--commune {value!r} is not a commune of province {province_code}; give its code "
                f"or name, e.g. --commune {example[0]} ({example[1]})"
            )
        codes.append(code)
    return codes


def resolve_headers(style: str) -> str:
    """The header style from --headers: ``labels`` (Vietnamese titles) or ``codes``."""
    chosen = style.strip().lower()
    if chosen not in exports.HEADER_STYLES:
        raise ExportUsageError(
            f"--headers {style!r} is unknown; use --headers labels (Vietnamese column titles, "
            "the default) or --headers codes (stable column codes for programs)"
        )
    return chosen


def check_output(output: Path) -> Path:
    """A temporary file next to ``output`` (proves the folder is writable; renamed at the end)."""
    if output.is_dir():
        raise ExportUsageError(f"--output {str(output)!r} is a folder; give a file name in it")
    if not output.parent.is_dir():
        raise ExportUsageError(
            f"folder {str(output.parent)!r} does not exist; create it or choose another --output"
        )
    part = output.with_name(f".{output.name}.part")
    try:
        part.open("wb").close()
    except OSError as exc:
        raise ExportUsageError(
            f"cannot write {str(output)!r} ({exc.strerror}); choose a writable --output path"
        ) from None
    return part


async def _check_database(engine: AsyncEngine, url: str) -> None:
    """Fail with a one-line hint when the database is missing or not migrated."""
    try:
        current = await _current_heads(engine)
    except (OSError, SQLAlchemyError) as exc:
        reason = str(exc).splitlines()[0]
        raise ExportUsageError(
            f"cannot read the database {_safe_url(url)}: {reason}; check DATABASE_URL"
        ) from None
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head not in current:
        state = f"at revision {', '.join(sorted(current))}" if current else "not set up"
        raise ExportUsageError(
            f"the database {_safe_url(url)} is {state} (latest is {head}); "
            "run `xuatngu db upgrade` first"
        )


async def _current_heads(engine: AsyncEngine) -> set[str]:
    """Alembic revisions the database is at (empty for a database never migrated)."""

    def current(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    async with engine.connect() as conn:
        return await conn.run_sync(current)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(url)
    db = parsed.database
    return (
        parsed.get_backend_name() == "sqlite"
        and bool(db)
        and db != ":memory:"
        and (not Path(db or "").exists())
    )


def _progress_bar(total: int) -> tuple[AbstractContextManager[Any], Any]:
    """A rich progress bar on a terminal (stderr); a no-op otherwise."""
    if not sys.stderr.isatty():
        return nullcontext(), None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    return bar, bar.add_task("Exporting", total=total)


async def run_preferences_export(
    database_url: str, flt: ExportFilter, fmt: str, part: Path, headers: str = "labels"
) -> int:
    """Check the database, then write the export to ``part``; returns rows written."""
    if _sqlite_file_missing(database_url):
        raise ExportUsageError(
            f"no database at {_safe_url(database_url)}; run `xuatngu db upgrade` first "
            "(or set DATABASE_URL)"
        )
    engine = create_engine(database_url)
    try:
        await _check_database(engine, database_url)
        async with create_sessionmaker(engine)() as session:
            total = await count_preference_rows(session, flt)
            context, task = _progress_bar(total)
            with context as bar:

                def progress(done: int) -> None:
                    if bar is not None:
                        bar.update(task, completed=done)

                if fmt == "csv":
                    with part.open("wb") as fh:
                        return await exports.write_csv(
                            session, flt, fh, progress=progress, headers=headers
                        )
                return await exports.write_xlsx(
                    session, flt, part, progress=progress, headers=headers
                )
    finally:
        await engine.dispose()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(USAGE_ERROR)


@export_app.command("preferences")
def preferences(
    output: Path = typer.Option(..., "--output", "-o", help="File to write (.csv or .xlsx)."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="csv or xlsx (default: from the --output extension)."
    ),
    commune: list[str] = typer.Option(
        [], "--commune", help="Only people from this commune (code or name); repeatable."
    ),
    date_from: str | None = typer.Option(
        None, "--from", help="Survey completed on or after (YYYY-MM-DD or DD/MM/YYYY)."
    ),
    date_to: str | None = typer.Option(
        None, "--to", help="Survey completed on or before (YYYY-MM-DD or DD/MM/YYYY)."
    ),
    trade: list[str] = typer.Option(
        [], "--trade", help="Only people who chose this trade code (any rank); repeatable."
    ),
    sharing_only: bool = typer.Option(
        False, "--sharing-only", help="Only people who agreed to share data with institutions."
    ),
    headers: str = typer.Option(
        "labels",
        "--headers",
        help="Header row: labels (Vietnamese column titles) or codes (stable column codes).",
    ),
) -> None:
    """Export people's training and job preferences (one row per person) to CSV or XLSX."""
    part: Path | None = None
    try:
        settings = get_settings()
        kind = resolve_format(fmt, output)
        style = resolve_headers(headers)
        start = parse_cli_date(date_from, "--from") if date_from else None
        end = parse_cli_date(date_to, "--to") if date_to else None
        if start and end and start > end:
            raise ExportUsageError(f"--from {date_from} is after --to {date_to}; swap them")
        flt = ExportFilter(
            tz=settings.tz,
            commune_codes=resolve_communes(commune, settings.province_code) if commune else None,
            date_from=start,
            date_to=end,
            trade_codes=[t.strip() for t in trade] if trade else None,
            consent_sharing_only=sharing_only,
        )
        part = check_output(output)
        rows = asyncio.run(run_preferences_export(settings.database_url, flt, kind, part, style))
        os.replace(part, output)
        part = None
    except (ExportUsageError, SettingsError) as exc:
        raise _fail(str(exc)) from None
    finally:
        if part is not None:
            part.unlink(missing_ok=True)
    typer.echo(f"Wrote {rows} rows to {output}")
