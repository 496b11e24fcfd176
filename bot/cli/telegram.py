"""``xuatngu telegram``: the bot's webhook at Telegram, as one-shot operator commands.

Webhook mode's processes never register the webhook themselves (several replicas would fight
over it): the operator runs ``set-webhook`` once, ``delete-webhook`` to go back to polling, and
``status`` to see what Telegram holds (pending updates, the last delivery error).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import typer
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.cli.common import settings_or_exit
from bot.config import Settings

T = TypeVar("T")
telegram_app = typer.Typer(help="The bot's webhook at Telegram.")


def _with_bot(settings: Settings, work: Callable[[Bot], Awaitable[T]]) -> T:
    """Run ``work`` with a bot for BOT_TOKEN; a Telegram error is one line and exit 1."""
    from bot.app import create_bot

    if settings.bot_token is None:
        typer.echo("BOT_TOKEN is empty: set it (from @BotFather).", err=True)
        raise typer.Exit(2)
    token = settings.bot_token.get_secret_value()

    async def go() -> T:
        bot = create_bot(token, settings.telegram_api_base)
        try:
            return await work(bot)
        finally:
            await bot.session.close()

    try:
        return asyncio.run(go())
    except TelegramAPIError as exc:
        typer.echo(f"Telegram refused: {exc.message}", err=True)
        raise typer.Exit(1) from None


@telegram_app.command("set-webhook")
def set_webhook(
    url: str | None = typer.Option(None, help="the webhook URL (default: WEBHOOK_URL)"),
    drop_pending: bool = typer.Option(False, help="drop updates Telegram still holds"),
) -> None:
    """Tell Telegram to push updates to the webhook, with WEBHOOK_SECRET as its secret token."""
    settings = settings_or_exit(webhook_url=url) if url else settings_or_exit()
    refusal = settings.webhook_refusal()
    if not settings.webhook_url or refusal:
        typer.echo(refusal or "No webhook URL: give --url or set WEBHOOK_URL.", err=True)
        raise typer.Exit(2)
    assert settings.webhook_secret is not None
    hook, secret = settings.webhook_url, settings.webhook_secret.get_secret_value()
    _with_bot(
        settings,
        lambda bot: bot.set_webhook(hook, secret_token=secret, drop_pending_updates=drop_pending),
    )
    typer.echo(f"Webhook set: {hook}")


@telegram_app.command("delete-webhook")
def delete_webhook(
    drop_pending: bool = typer.Option(False, help="drop updates Telegram still holds"),
) -> None:
    """Remove the webhook (back to long polling)."""
    _with_bot(settings_or_exit(), lambda bot: bot.delete_webhook(drop_pending_updates=drop_pending))
    typer.echo("Webhook deleted: start the bot without WEBHOOK_URL to poll.")


@telegram_app.command("status")
def status() -> None:
    """What Telegram holds: the webhook URL, pending updates, the last delivery error."""
    info = _with_bot(settings_or_exit(), lambda bot: bot.get_webhook_info())
    typer.echo(f"Webhook: {info.url or '(none: long polling)'}")
    typer.echo(f"Pending updates: {info.pending_update_count}")
    if info.last_error_message:
        when = info.last_error_date or datetime.now(UTC)
        typer.echo(f"Last error: {when:%Y-%m-%d %H:%M:%S} UTC {info.last_error_message}")
