"""Free-text matching: trades (``content/trades.yaml``) and communes (vietnam-provinces data)."""

from bot.matching.communes import CommuneCandidate, CommuneMatcher, CommuneResult
from bot.matching.trades import (
    Candidate,
    MatchResult,
    Trade,
    TradeCatalog,
    TradeMatcher,
    load_trades,
)

__all__ = [
    "Candidate",
    "CommuneCandidate",
    "CommuneMatcher",
    "CommuneResult",
    "MatchResult",
    "Trade",
    "TradeCatalog",
    "TradeMatcher",
    "load_trades",
]
