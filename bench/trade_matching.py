"""Benchmark the trade matcher on the labelled set ``tests/data/trade_inputs.csv``.

Run: ``.venv/bin/python bench/trade_matching.py [--verbose]``. Prints accuracy, ask/none rates,
wrong accepts, time per match and PASS/FAIL bar lines. Always exits 0 unless it crashes.
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.matching.catalog import load_trades  # noqa: E402
from bot.matching.trades import MatchResult, TradeMatcher  # noqa: E402

DATA = ROOT / "tests" / "data" / "trade_inputs.csv"
TOP1_BAR = 0.95
ASK_BAR = 0.10


@dataclass
class Row:
    """One labelled input and what the matcher did with it."""

    text: str
    expected: str
    note: str
    result: MatchResult
    seconds: float

    @property
    def top1_ok(self) -> bool:
        """Expected trade accepted or asked first; or nothing expected and none/unknown given."""
        if not self.expected:
            return self.result.decision in ("none", "unknown")
        best = self.result.best
        return (
            self.result.decision in ("accept", "ask")
            and best is not None
            and (best.code == self.expected)
        )

    @property
    def wrong_accept(self) -> bool:
        """Accepted a trade that is not the expected one."""
        best = self.result.best
        return self.result.decision == "accept" and best is not None and best.code != self.expected


def read_rows(path: Path = DATA) -> list[tuple[str, str, str]]:
    """The labelled set as (text, expected_code, note)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [(r["text"], r["expected_code"], r["note"]) for r in csv.DictReader(fh)]


def run(matcher: TradeMatcher, rows: list[tuple[str, str, str]], repeat: int = 3) -> list[Row]:
    """Match every row; its time is the best of ``repeat`` calls (less noise on a busy machine)."""
    out: list[Row] = []
    for text, expected, note in rows:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            result = matcher.match(text)
            best = min(best, time.perf_counter() - start)
        out.append(Row(text, expected, note, result, best))
    return out


def summary(rows: list[Row]) -> dict[str, float]:
    """The headline figures."""
    n = len(rows)
    times = sorted(r.seconds for r in rows)
    return {
        "n": n,
        "top1": sum(r.top1_ok for r in rows) / n,
        "ask": sum(r.result.decision == "ask" for r in rows) / n,
        "none": sum(r.result.decision == "none" for r in rows) / n,
        "unknown": sum(r.result.decision == "unknown" for r in rows) / n,
        "wrong_accepts": sum(r.wrong_accept for r in rows),
        "mean_ms": statistics.fmean(times) * 1000,
        "p99_ms": times[min(n - 1, int(n * 0.99))] * 1000,
    }


def _describe(row: Row) -> str:
    cands = ", ".join(f"{c.code}:{c.score:g}" for c in row.result.candidates[:3])
    return f"  {row.text!r} expected={row.expected or '-'} got={row.result.decision} [{cands}]"


def main(argv: list[str]) -> int:
    """Run the benchmark and print the report."""
    matcher = TradeMatcher(load_trades())
    rows = read_rows()
    for text, _, _ in rows[:50]:  # warm-up
        matcher.match(text)
    results = run(matcher, rows)
    s = summary(results)
    print(f"n                {s['n']:.0f}")
    print(f"top-1 accuracy   {s['top1']:.1%}")
    print(f"ask decisions    {s['ask']:.1%}")
    print(f"none decisions   {s['none']:.1%}")
    print(f"unknown          {s['unknown']:.1%}")
    print(f"wrong accepts    {s['wrong_accepts']:.0f}")
    print(f"time per match   mean {s['mean_ms']:.3f} ms, p99 {s['p99_ms']:.3f} ms (best of 3)")
    print(f"BAR top1 >= {TOP1_BAR:.0%}: {'PASS' if s['top1'] >= TOP1_BAR else 'FAIL'}")
    print(f"BAR asks <= {ASK_BAR:.0%}: {'PASS' if s['ask'] <= ASK_BAR else 'FAIL'}")
    verbose = "--verbose" in argv or "-v" in argv
    misses = [r for r in results if not r.top1_ok]
    if misses:
        print(f"misses ({len(misses)}):")
        for row in misses:
            print(_describe(row))
    if verbose:
        print("asks:")
        for row in results:
            if row.result.decision == "ask" and row.top1_ok:
                print(_describe(row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
