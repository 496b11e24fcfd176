"""What the command line's sub-commands share."""

from __future__ import annotations

import typer

from bot.config import Settings, SettingsError, get_settings


def settings_or_exit() -> Settings:
    """Settings, or a one-line error and exit 2."""
    try:
        return get_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
