"""The ``xuatngu`` command line."""

from __future__ import annotations

import asyncio
import logging

import typer

from bot.cli.common import settings_or_exit

app = typer.Typer(help="xuatngu: career counselling bot for young people returning from service.")
db_app = typer.Typer(help="Database schema.")
content_app = typer.Typer(help="Content files in content/.")
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content")


@app.command()
def run(
    webhook: str | None = typer.Option(
        None,
        help="serve Telegram's updates on this webhook URL (default: WEBHOOK_URL, else polling)",
    ),
) -> None:
    """Start the bot (polling or webhook), the admin backend and (unless BACKGROUND=off) the
    scheduler and the outbox, in one process."""
    _serve(worker=False, webhook=webhook)


def _serve(*, worker: bool, webhook: str | None = None) -> None:
    """``xuatngu run`` or ``xuatngu worker`` until SIGINT/SIGTERM."""
    from bot.app import run as run_app
    from bot.config import SettingsError
    from bot.content_loading import ContentError
    from bot.logs import configure_logging

    settings = settings_or_exit(webhook_url=webhook) if webhook else settings_or_exit()
    configure_logging(settings)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    try:
        asyncio.run(run_app(settings, worker=worker))
    except ContentError as exc:
        typer.echo(f"Content is broken; fix it and start again:\n{exc}", err=True)
        raise typer.Exit(2) from None
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


@app.command()
def worker() -> None:
    """Run the background side alone: outbox sender, alert pass, reminders, retention, cards."""
    _serve(worker=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Apply pending database migrations."""
    from storage.migrate import upgrade

    settings = settings_or_exit()
    upgrade(settings.database_url, revision)
    typer.echo(f"Database at revision {revision}.")


@content_app.command("check")
def content_check() -> None:
    """Validate every content file; name the file, line and reason of each problem."""
    from bot.content_check import check_all

    problems = check_all()
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) found.", err=True)
        raise typer.Exit(1)
    typer.echo("Content OK.")


def _mount() -> None:
    """Sub-commands of the feature modules."""
    from bot.cli.admin import admin_app
    from bot.cli.backup import backup, restore
    from bot.cli.broadcast import broadcast_app
    from bot.cli.cards import cards_app
    from bot.cli.catalog import catalog_app
    from bot.cli.export import export_app
    from bot.cli.matching import communes_app, match_person, trades_app
    from bot.cli.telegram import telegram_app
    from bot.cli.timeline import report_app, scheduler_app

    app.add_typer(trades_app, name="trades", help="Trade catalog matcher.")
    app.add_typer(communes_app, name="communes", help="Commune matcher.")
    app.command("match")(match_person)
    app.add_typer(export_app, name="export", help="Exports (CSV/XLSX).")
    app.add_typer(admin_app, name="admin", help="Admin backend and accounts.")
    app.add_typer(scheduler_app, name="scheduler", help="Reminder scheduler.")
    app.add_typer(report_app, name="report", help="Reports.")
    app.add_typer(broadcast_app, name="broadcast", help="Broadcasts to a segment of people.")
    app.add_typer(catalog_app, name="catalog", help="Course and job catalog (XLSX, sample).")
    app.add_typer(cards_app, name="cards", help="Training cards (XLSX import, expiry).")
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.add_typer(telegram_app, name="telegram", help="The bot's webhook at Telegram.")


_mount()
