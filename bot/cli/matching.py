"""Command line: ``xuatngu trades match TEXT``, ``xuatngu communes match TEXT`` and
``xuatngu match PERSON`` (a person's courses, fairs and jobs with each factor and the reason).

The main app mounts ``trades_app`` and ``communes_app`` and the ``match`` command.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import settings_or_exit
from bot.config import Settings
from bot.matching.catalog import load_trades
from bot.matching.communes import CommuneMatcher
from bot.matching.items import CourseItem, FairItem, Item, ItemKind
from bot.matching.rank import WEIGHTS
from bot.matching.reasons import reason_line
from bot.matching.service import Ranking, ranking_for, trade_catalog
from bot.matching.trades import TradeMatcher
from bot.survey.parsing import parse_phone
from storage import catalog as repo
from storage.db import create_engine, create_sessionmaker
from storage.models import Person

trades_app = typer.Typer(help="Match free text to the trade catalog.", no_args_is_help=True)
communes_app = typer.Typer(
    help="Match free text to the wards of the province.", no_args_is_help=True
)


@trades_app.callback()
def _trades_group() -> None:
    """Match free text to the trade catalog."""


@communes_app.callback()
def _communes_group() -> None:
    """Match free text to the wards (xã/phường) of the province."""


@lru_cache(maxsize=1)
def _trade_matcher() -> TradeMatcher:
    return TradeMatcher(load_trades())


@lru_cache(maxsize=4)
def _commune_matcher(province: int) -> CommuneMatcher:
    return CommuneMatcher(province)


@trades_app.command("match")
def match_trade(
    text: str = typer.Argument(..., help="What the person typed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    limit: int = typer.Option(5, min=1, max=20, help="Most candidates to show."),
) -> None:
    """Show the decision and top trade candidates for TEXT."""
    result = _trade_matcher().match(text, limit=limit)
    if as_json:
        payload = {
            "text": text,
            "decision": result.decision,
            "candidates": [
                {"code": c.code, "name_vi": c.name_vi, "name_en": c.name_en, "score": c.score}
                for c in result.candidates
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    typer.echo(f"decision: {result.decision}")
    rows = [(f"{c.score:5.1f}", c.code, c.name_vi) for c in result.candidates]
    _echo_table(("score", "code", "name"), rows)


@communes_app.command("match")
def match_commune(
    text: str = typer.Argument(..., help="What the person typed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    province: int = typer.Option(20, help="vietnam-provinces province code (20 = Lạng Sơn)."),
) -> None:
    """Show the decision and top ward candidates for TEXT."""
    result = _commune_matcher(province).match(text)
    if as_json:
        payload = {
            "text": text,
            "decision": result.decision,
            "outside_province_name": result.outside_province_name,
            "candidates": [c._asdict() for c in result.candidates],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    line = f"decision: {result.decision}"
    if result.outside_province_name:
        line += f" ({result.outside_province_name})"
    typer.echo(line)
    _echo_table(
        ("score", "code", "name"), [(f"{c.score:5.1f}", c.code, c.name) for c in result.candidates]
    )


KINDS = ("course", "fair", "vacancy")


class PersonNotFound(Exception):
    """PERSON names nobody, or several people; the message says which."""


async def find_person(session: AsyncSession, text: str) -> Person:
    """PERSON: a person id, ``tg:<telegram id>`` or a phone number."""
    text = text.strip()
    if text.startswith("tg:") and text[3:].isdigit():
        person = await repo.person_by_telegram_id(session, int(text[3:]))
    elif text.isdigit() and parse_phone(text) is None:
        person = await repo.person_by_id(session, int(text))
    else:
        phone = parse_phone(text)
        if phone is None:
            raise PersonNotFound(f"{text!r} is not a person id, tg:<telegram id> or a phone")
        people = list(await repo.people_by_phone(session, phone))
        if len(people) > 1:
            ids = ", ".join(str(p.id) for p in people)
            raise PersonNotFound(f"{len(people)} people have {phone} (ids {ids}); give an id")
        person = people[0] if people else None
    if person is None:
        raise PersonNotFound(f"nobody found for {text!r}")
    return person


async def _ranking(
    settings: Settings, who: str, kind: ItemKind | None, limit: int, today: date
) -> tuple[Person, Ranking]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            person = await find_person(session, who)
            ranking = await ranking_for(
                session, person, kind=kind, today=today, tz=settings.tz, limit=limit
            )
            return person, ranking
    finally:
        await engine.dispose()


def item_title(item: Item) -> str:
    """What the item is, in one line (as the catalog wrote it)."""
    if isinstance(item, CourseItem):
        return f"{item.title} ({item.institution})"
    if isinstance(item, FairItem):
        return item.title
    return f"{item.position} ({item.employer})"


def ranking_payload(person: Person, ranking: Ranking, today: date) -> dict[str, Any]:
    """The ranking as JSON-ready data: the profile, the weights, each match with its factors,
    their weighted parts, the reasons and the reason line in the person's language."""
    items = {(k, i.id): i for k in KINDS for i in ranking.catalog.of(cast(ItemKind, k))}
    profile = asdict(ranking.profile)
    profile["dismissed"] = sorted(f"{k}:{i}" for k, i in ranking.profile.dismissed)
    for key in ("licences", "groups"):
        profile[key] = sorted(profile[key])
    matches = []
    for rank, match in enumerate(ranking.matches, 1):
        matches.append(
            {
                "rank": rank,
                "kind": match.kind,
                "id": match.item_id,
                "title": item_title(items[(match.kind, match.item_id)]),
                "score": match.score,
                "related": match.related,
                "km": match.km,
                "trade": match.trade_code,
                "factors": match.factors,
                "weighted": {k: round(WEIGHTS[k] * v, 4) for k, v in match.factors.items()},
                "reasons": [{"key": r.key, **dict(r.values)} for r in match.reasons],
                "reason": reason_line(match, person.language, trade_catalog()),
            }
        )
    return {
        "person_id": person.id,
        "language": person.language,
        "today": today.isoformat(),
        "profile": profile,
        "weights": WEIGHTS,
        "matches": matches,
    }


def match_person(
    person: str = typer.Argument(..., help="A person id, tg:<telegram id>, or a phone number."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    kind: str | None = typer.Option(None, "--kind", help="course, fair or vacancy (default: all)"),
    limit: int = typer.Option(5, min=1, max=50, help="How many items to show."),
    on: str | None = typer.Option(None, "--today", help="Rank as on this day (YYYY-MM-DD)."),
) -> None:
    """Rank courses, fairs and vacancies for PERSON, with each factor and the reason."""
    settings = settings_or_exit()
    if kind is not None and kind not in KINDS:
        typer.echo(f"--kind must be one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(2)
    try:
        today = date.fromisoformat(on) if on else datetime.now(settings.tz).date()
    except ValueError:
        typer.echo(f"--today {on!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(2) from None
    try:
        who, ranking = asyncio.run(_ranking(settings, person, cast(ItemKind, kind), limit, today))
    except PersonNotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    payload = ranking_payload(who, ranking, today)
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
        return
    typer.echo(f"person {who.id} ({who.language}), {today.isoformat()}: {len(payload['matches'])}")
    factors = list(WEIGHTS)
    rows = [
        (
            str(m["rank"]),
            f"{m['kind']}:{m['id']}",
            f"{m['score']:.3f}",
            *(f"{m['factors'][f]:.2f}" if f in m["factors"] else "-" for f in factors),
            "related" if m["related"] else "",
            m["title"],
        )
        for m in payload["matches"]
    ]
    _echo_table(("#", "item", "score", *factors, "", "title"), rows)
    for m in payload["matches"]:
        typer.echo(f"{m['rank']}. {m['reason']}")


def _echo_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Print rows as left-aligned columns under a header (nothing if there are no rows)."""
    if not rows:
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
