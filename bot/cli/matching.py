"""Command line: ``xuatngu trades match TEXT`` and ``xuatngu communes match TEXT``.

The lead mounts ``trades_app`` and ``communes_app`` on the main typer app.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

import typer

from bot.matching.catalog import load_trades
from bot.matching.communes import CommuneMatcher
from bot.matching.trades import TradeMatcher

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


def _echo_table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Print rows as left-aligned columns under a header (nothing if there are no rows)."""
    if not rows:
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
