"""``xuatngu catalog …``: import and export the catalog as an XLSX workbook, write the empty
template, load the demo's sample catalog."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog import xlsx
from bot.catalog.importer import Report
from bot.catalog.problems import say
from bot.cli.common import progress_line, read_file, settings_or_exit, with_session, write_file

catalog_app = typer.Typer(
    help="The course and job catalog: XLSX import and export, sample data.",
    no_args_is_help=True,
)
LANG_HELP = "language of the messages about rows: vi or en"


def echo_report(report: Report, lang: str) -> None:
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
    content = read_file(file)

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
            progress=progress_line,
            source=file.name,
        )

    echo_report(with_session(settings, work), lang)


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

    write_file(file, with_session(settings, work))


@catalog_app.command("template")
def template_cmd(
    file: Path = typer.Argument(..., help="where to write the empty template"),
) -> None:
    """Write the empty workbook: one sheet per list, column codes and their names."""
    write_file(file, xlsx.write())


@catalog_app.command("load-sample")
def load_sample_cmd() -> None:
    """Load the demo's sample catalog (marked [MẪU]) into an empty catalog, with the demo's
    sample training card (as demo mode does)."""
    from bot.cards.sample import load_sample_card
    from bot.catalog.sample import load_sample
    from bot.content_loading import ContentError

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Report | None:
        now = datetime.now(UTC)
        today = now.astimezone(settings.tz).date()
        report = await load_sample(session, today=today, now=now, tz=settings.tz, actor="cli")
        if report is not None:
            await load_sample_card(session, today=today, actor="cli")
        return report

    try:
        report = with_session(settings, work)
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
    typer.echo(
        f"Sample catalog loaded: {report.count('created')} rows and a training card, marked [MẪU]."
    )
