"""``xuatngu broadcast send|report|pause|resume|cancel``: queue a broadcast for the running bot
and follow it (scripts of the employment centre use it as the admin pages are used)."""

from __future__ import annotations

import asyncio
import getpass
import json
import mimetypes
from collections import defaultdict
from pathlib import Path
from typing import Any

import typer

from bot.cli.common import settings_or_exit
from bot.config import Settings

broadcast_app = typer.Typer(help="Broadcasts to a segment of people.", no_args_is_help=True)
USAGE_ERROR = 2


@broadcast_app.callback()
def broadcast_main() -> None:
    """Queue broadcasts and follow them; the running bot (``xuatngu run``) sends them."""


def _author() -> Any:
    from bot.broadcasts.service import Author

    return Author(actor=f"cli:{getpass.getuser()}"[:128], scope=None, sees_all=True)


def _fail(lines: list[str]) -> typer.Exit:
    for line in lines:
        typer.echo(line, err=True)
    return typer.Exit(USAGE_ERROR)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail([f"cannot read {path}: {exc}"]) from None


def _segment(items: list[str]) -> dict[str, list[str]]:
    """``key=value`` options (``answer=loan_interest=abroad`` keeps the second ``=``)."""
    values: dict[str, list[str]] = defaultdict(list)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not value:
            raise _fail([f"--segment {item!r}: expected key=value, e.g. commune=6187"])
        values[key.strip()].append(value.strip())
    return dict(values)


def _media(photo: Path | None, document: Path | None) -> Any:
    from bot.broadcasts.compose import Media

    if photo and document:
        raise _fail(["give --photo or --document, not both"])
    path, kind = (photo, "photo") if photo else (document, "document")
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail([f"cannot read {path}: {exc}"]) from None
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Media(kind, path.name, mime, data)


async def _send(settings: Settings, draft_args: dict[str, Any], yes: bool) -> tuple[int, int]:
    from bot.broadcasts import service
    from bot.broadcasts.compose import (
        DraftError,
        check_draft,
        needs_confirmation,
        parse_segment,
        parse_when,
    )
    from storage.db import create_engine, create_sessionmaker
    from storage.models.base import utcnow

    now = utcnow()
    try:
        draft = check_draft(
            draft_args["text_vi"],
            draft_args["text_en"],
            parse_segment(draft_args["segment"]),
            draft_args["media"],
            parse_when(draft_args["at"], settings.tz, now),
        )
    except DraftError as exc:
        raise _fail([text % fields for text, fields in exc.problems]) from None
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            author = _author()
            count = await service.count_recipients(session, draft.segment, author)
            if count == 0:
                raise _fail(["Nobody is in this segment"])
            if needs_confirmation(count, count if yes else None) and not typer.confirm(
                f"Send to {count} people?"
            ):
                raise typer.Exit(1)
            message = await service.create(session, draft, author, now, count)
            await session.commit()
            return message.id, count
    finally:
        await engine.dispose()


@broadcast_app.command("send")
def send_command(
    text_file: Path = typer.Option(..., "--text-file", help="Vietnamese text (Telegram HTML)"),
    text_file_en: Path | None = typer.Option(None, "--text-file-en", help="English text"),
    segment: list[str] = typer.Option(
        [],
        "--segment",
        help=(
            "key=value, repeatable: commune, force, service (in_service|returned), "
            "discharge_from/discharge_to (YYYY-MM), trade, survey (finished|unfinished), "
            "training (registered|not_registered), language, answer (e.g. loan_interest=abroad)"
        ),
    ),
    at: str | None = typer.Option(None, "--at", help="send time, e.g. 2026-12-01T08:00 (local)"),
    photo: Path | None = typer.Option(None, "--photo", help="a JPEG/PNG/WebP to send with it"),
    document: Path | None = typer.Option(None, "--document", help="a file to send with it"),
    yes: bool = typer.Option(False, "--yes", help="no question above 500 recipients"),
) -> None:
    """Queue a broadcast; the running bot sends it (at night it waits for the morning)."""
    settings = settings_or_exit()
    args = {
        "text_vi": _read(text_file),
        "text_en": _read(text_file_en) if text_file_en else None,
        "segment": _segment(segment),
        "media": _media(photo, document),
        "at": at,
    }
    message_id, count = asyncio.run(_send(settings, args, yes))
    typer.echo(f"broadcast {message_id} queued for {count} recipients")


async def _report(settings: Settings, message_id: int, action: str | None) -> dict[str, Any]:
    from bot.broadcasts import service
    from storage.db import create_engine, create_sessionmaker
    from storage.models.base import utcnow

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            message = await service.visible(session, message_id, _author())
            if message is None:
                raise _fail([f"no broadcast {message_id}"])
            if action is not None:
                if not await service.control(session, message, action, _author(), utcnow()):
                    raise _fail([f"cannot {action} a {message.status} broadcast"])
                await session.commit()
            report = await service.report(session, message, settings, utcnow())
            return report.as_json()
    finally:
        await engine.dispose()


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report["counts"].items()))
    left = report["seconds_left"]
    typer.echo(
        f"broadcast {report['id']}: {report['status']}"
        + (" (held for the night)" if report["held_for_night"] else "")
        + f"\nrecipients {report['recipients']}: {counts or 'none yet'}"
        + f"\nrate {report['rate_per_second']}/s"
        + (f", about {left} s left" if left is not None else "")
        + f"\nopted out {report['opt_outs']}"
    )


@broadcast_app.command("report")
def report_command(
    message_id: int = typer.Argument(..., min=1),
    as_json: bool = typer.Option(False, "--json", help="the report as JSON"),
) -> None:
    """Counts by status, rate, time left, opt-outs."""
    _print(asyncio.run(_report(settings_or_exit(), message_id, None)), as_json)


def _control(action: str) -> Any:
    def command(message_id: int = typer.Argument(..., min=1)) -> None:
        _print(asyncio.run(_report(settings_or_exit(), message_id, action)), False)

    command.__doc__ = f"{action.capitalize()} a broadcast."
    return command


for _action in ("pause", "resume", "cancel"):
    broadcast_app.command(_action)(_control(_action))
