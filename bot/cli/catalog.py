"""``xuatngu catalog …``: import and export the catalog as an XLSX workbook, write the empty
template, load the demo's sample catalog."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog import xlsx
from bot.catalog.importer import Report
from bot.catalog.problems import say
from bot.cli.common import settings_or_exit
from bot.config import Settings

catalog_app = typer.Typer(
    help="The course and job catalog: XLSX import and export, sample data.",
    no_args_is_help=True,
)
T = TypeVar("T")
LANG_HELP = "language of the messages about rows: vi or en"


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` with a session on the migrated database (``work`` commits itself)."""
    from storage.db import create_engine, create_sessionmaker
    from storage.migrate import upgrade

    upgrade(settings.database_url)

    async def go() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _progress(sheet: str, done: int, total: int) -> None:
    """One line per sheet on stderr, rewritten as rows are done."""
    end = "\n" if done == total else "\r"
    typer.echo(f"{sheet}: {done}/{total}", err=True, nl=False)
    typer.echo(end, err=True, nl=False)


def _echo_report(report: Report, lang: str) -> None:
    if not report.ok:
        for problem in report.problems:
            typer.echo(say(problem, lang), err=True)
        typer.echo(
            f"{len(report.problems)} problem(s): nothing was imported. "
            "Fix the rows above and run the import again.",
            err=True,
        )
        raise typer.Exit(1)
    for sheet, counts in report.counts.items():
        if any(counts.values()):
            parts = ", ".join(f"{n} {change}" for change, n in counts.items())
            typer.echo(f"{sheet}: {parts}")
    if report.dry_run:
        typer.echo("Dry run: nothing was written. Run without --dry-run to import.")
    else:
        typer.echo(f"Imported: {report.count('created')} new, {report.count('updated')} updated.")


@catalog_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="the XLSX workbook (see `xuatngu catalog template`)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check and report, write nothing"),
    lang: str = typer.Option("vi", "--lang", help=LANG_HELP),
) -> None:
    """Import a workbook: every row is checked first; any problem and nothing is written."""
    from bot.catalog.importer import import_file

    settings = settings_or_exit()
    try:
        content = file.read_bytes()
    except OSError as exc:
        typer.echo(f"Cannot read {file}: {exc.strerror}. Check the path.", err=True)
        raise typer.Exit(2) from None

    async def work(session: AsyncSession) -> Report:
        now = datetime.now(UTC)
        return await import_file(
            session,
            content,
            tz=settings.tz,
            now=now,
            actor="cli",
            province=settings.province_code,
            dry_run=dry_run,
            progress=_progress,
            source=file.name,
        )

    _echo_report(_run(settings, work), lang)


@catalog_app.command("export")
def export_cmd(
    file: Path = typer.Argument(Path("catalog.xlsx"), help="where to write the workbook"),
) -> None:
    """Write the whole catalog as a workbook that imports back unchanged."""
    from bot.catalog.edit import export_cells
    from bot.catalog.sheets import workbook_spec

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> bytes:
        sheets = tuple(workbook_spec().sheets)
        return xlsx.write(await export_cells(session, settings.tz, sheets))

    _write(file, _run(settings, work))


@catalog_app.command("template")
def template_cmd(
    file: Path = typer.Argument(..., help="where to write the empty template"),
) -> None:
    """Write the empty workbook: one sheet per list, column codes and their names."""
    _write(file, xlsx.write())


@catalog_app.command("load-sample")
def load_sample_cmd() -> None:
    """Load the demo's sample catalog (marked [MẪU]) into an empty catalog."""
    from bot.catalog.sample import load_sample
    from bot.content_loading import ContentError

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Report | None:
        now = datetime.now(UTC)
        today = now.astimezone(settings.tz).date()
        return await load_sample(session, today=today, now=now, tz=settings.tz, actor="cli")

    try:
        report = _run(settings, work)
    except ContentError as exc:
        typer.echo(f"The sample catalog is broken; fix it:\n{exc}", err=True)
        raise typer.Exit(2) from None
    if report is None:
        typer.echo(
            "The catalog is not empty: the sample loads only into an empty catalog "
            "(it is fictional and must not mix with real rows).",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"Sample catalog loaded: {report.count('created')} rows, marked [MẪU].")


def _write(file: Path, content: bytes) -> None:
    try:
        file.write_bytes(content)
    except OSError as exc:
        typer.echo(f"Cannot write {file}: {exc.strerror}. Choose another path.", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Wrote {file}.")
