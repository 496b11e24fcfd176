"""What the command line's sub-commands share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings, SettingsError, get_settings, load_settings

T = TypeVar("T")


def settings_or_exit(**overrides: object) -> Settings:
    """Settings (with ``overrides`` of the environment), or a one-line error and exit 2."""
    try:
        return load_settings(**overrides) if overrides else get_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
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


def progress_line(sheet: str, done: int, total: int) -> None:
    """One line per sheet on stderr, rewritten as rows are done."""
    end = "\n" if done == total else "\r"
    typer.echo(f"{sheet}: {done}/{total}", err=True, nl=False)
    typer.echo(end, err=True, nl=False)


def read_file(file: Path) -> bytes:
    """The file's bytes, or a one-line error and exit 2."""
    try:
        return file.read_bytes()
    except OSError as exc:
        typer.echo(f"Cannot read {file}: {exc.strerror}. Check the path.", err=True)
        raise typer.Exit(2) from None


def write_file(file: Path, content: bytes) -> None:
    try:
        file.write_bytes(content)
    except OSError as exc:
        typer.echo(f"Cannot write {file}: {exc.strerror}. Choose another path.", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Wrote {file}.")
