"""``xuatngu scheduler tick`` and ``xuatngu report kpi``."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from bot.config import Settings, SettingsError, get_settings

scheduler_app = typer.Typer(help="Reminder scheduler.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for officials.", no_args_is_help=True)

USAGE_ERROR = 2


@scheduler_app.callback()
def scheduler_main() -> None:
    """Reminder scheduler: run one pass by hand (the bot runs it every 30 s by itself)."""


@report_app.callback()
def report_main() -> None:
    """Reports for officials."""


def _settings() -> Settings:
    """Settings, or a one-line error and exit 2."""
    try:
        return get_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(USAGE_ERROR) from None


def parse_now(text: str, settings: Settings) -> datetime:
    """An ISO datetime; without a zone it is read as the province's local time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        typer.echo(
            f"--now {text!r} is not an ISO date-time; e.g. 2027-05-01T09:00 or "
            "2027-05-01T09:00+07:00",
            err=True,
        )
        raise typer.Exit(USAGE_ERROR) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=settings.tz)


def _make_bot(settings: Settings) -> Any:
    """An aiogram Bot from the settings (self-hosted Bot API or emulator when configured)."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    if settings.bot_token is None:
        typer.echo("BOT_TOKEN is not set: use --dry-run, or set BOT_TOKEN to send.", err=True)
        raise typer.Exit(USAGE_ERROR)
    token = settings.bot_token.get_secret_value()
    if settings.telegram_api_base:
        api = TelegramAPIServer.from_base(settings.telegram_api_base)
        return Bot(token, session=AiohttpSession(api=api))
    return Bot(token)


async def _tick(settings: Settings, now: datetime, dry_run: bool, rate: float) -> None:
    """Run one pass and print what happened."""
    from bot.sending import Sender
    from bot.timeline import tick
    from storage.db import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    bot = None if dry_run else _make_bot(settings)
    try:
        sender = Sender(bot, global_rate=rate) if bot is not None else None
        result = await tick(
            create_sessionmaker(engine), sender, now, dry_run=dry_run, settings=settings
        )
    finally:
        if bot is not None:
            await bot.session.close()
        await engine.dispose()
    for planned in result.planned:
        first_line = planned.text.splitlines()[0] if planned.text else ""
        what = f"skip ({planned.skip_reason})" if planned.skip_reason else first_line
        typer.echo(f"{planned.chat_id}\t{planned.entry_id}\t{what}")
    prefix = "dry run (nothing sent): " if dry_run else ""
    typer.echo(prefix + result.summary())


@scheduler_app.command("tick")
def tick_command(
    now: str = typer.Option(..., "--now", help="as if at this time, e.g. 2027-05-01T09:00"),
    dry_run: bool = typer.Option(False, "--dry-run", help="print what would be sent; send none"),
    rate: float = typer.Option(
        25.0, "--rate", min=0.1, help="messages per second at most (Telegram allows about 30)"
    ),
) -> None:
    """Run one scheduler pass as if at --now."""
    settings = _settings()
    asyncio.run(_tick(settings, parse_now(now, settings), dry_run, rate))


async def _kpi(settings: Settings, year: int) -> Any:
    """Compute the report: the indicators and the training support paid."""
    from bot.reporting.kpi import compute_kpis
    from bot.reporting.support_paid import support_paid
    from storage.db import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            report = await compute_kpis(session, year=year, tz=settings.tz)
            return report, await support_paid(session, year=year)
    finally:
        await engine.dispose()


@report_app.command("kpi")
def kpi_command(
    year: int = typer.Option(..., "--year", min=2000, max=2100, help="discharge year"),
    fmt: str = typer.Option("text", "--format", help="text or xlsx"),
    output: Path | None = typer.Option(None, "--output", help="file to write (xlsx needs one)"),
) -> None:
    """The plan's indicators for people discharged in --year, overall and by commune."""
    from bot.reporting import support_paid
    from bot.reporting.kpi import render_text, write_xlsx

    fmt = fmt.lower()
    if fmt not in ("text", "xlsx"):
        typer.echo(f"--format {fmt!r}: expected text or xlsx", err=True)
        raise typer.Exit(USAGE_ERROR)
    if fmt == "xlsx" and output is None:
        typer.echo("--format xlsx needs --output FILE.xlsx", err=True)
        raise typer.Exit(USAGE_ERROR)
    report, paid = asyncio.run(_kpi(_settings(), year))
    text = f"{render_text(report)}\n\n{support_paid.render_text(paid)}"
    if fmt == "xlsx":
        assert output is not None
        write_xlsx(report, output, support=paid)
        typer.echo(f"Wrote {output}")
    elif output is not None:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Wrote {output}")
    else:
        typer.echo(text)
