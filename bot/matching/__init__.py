"""Free-text matching: trades (``content/trades.yaml``) and communes (vietnam-provinces data).

Trades: the catalog (``catalog``), how people spell trade words (``spelling``) and the matcher
(``trades``).
"""

from bot.matching.catalog import Trade, TradeCatalog, load_trades
from bot.matching.communes import CommuneCandidate, CommuneMatcher, CommuneResult
from bot.matching.trades import Candidate, MatchResult, TradeMatcher

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
