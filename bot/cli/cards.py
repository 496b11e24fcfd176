"""``xuatngu cards …``: import the units' lists of training cards (XLSX), write the empty
template, run the expiry pass."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.importer import Report
from bot.cli.catalog import LANG_HELP, echo_report
from bot.cli.common import progress_line, read_file, settings_or_exit, with_session, write_file

cards_app = typer.Typer(
    help="Training cards (Thẻ học nghề): XLSX import of the units' lists, expiry.",
    no_args_is_help=True,
)


@cards_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="the XLSX list (see `xuatngu cards template`)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check and report, write nothing"),
    lang: str = typer.Option("vi", "--lang", help=LANG_HELP),
) -> None:
    """Import cards: every row is checked first; any problem and nothing is written."""
    from bot.cards.importer import import_file

    settings = settings_or_exit()
    content = read_file(file)

    async def work(session: AsyncSession) -> Report:
        return await import_file(
            session,
            content,
            actor="cli",
            province=settings.province_code,
            dry_run=dry_run,
            progress=progress_line,
            source=file.name,
        )

    echo_report(with_session(settings, work), lang)


@cards_app.command("template")
def template_cmd(file: Path = typer.Argument(..., help="where to write the empty list")) -> None:
    """Write the empty workbook: the column codes and their names."""
    from bot.cards.importer import template

    write_file(file, template())


@cards_app.command("expire")
def expire_cmd() -> None:
    """Mark unredeemed cards past their validity expired (``xuatngu run`` does it hourly)."""
    from bot.cards.cards import expire_pass

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> int:
        today = datetime.now(UTC).astimezone(settings.tz).date()
        return await expire_pass(session, today, actor="cli")

    typer.echo(f"Expired: {with_session(settings, work)} card(s).")
