"""The ranking against the labelled set tests/data/match_cases.yaml (a counsellor's picks)."""

from __future__ import annotations

import pytest

from bot.matching.reasons import reason_line
from bot.matching.service import ranker, trade_catalog
from tests.match_cases import Case, agreement, key, load_cases

CASES = load_cases()
TOP3_BAR = 0.90


def test_the_set_is_big_and_varied() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    kinds = {c.kind for c in CASES}
    assert kinds == {"course", "fair", "vacancy"}
    assert any(not c.profile.returned for c in CASES)  # people still serving
    assert any(c.profile.language == "en" for c in CASES)
    assert sum(bool(c.excluded) for c in CASES) >= 15


def test_top3_agreement_meets_the_bar() -> None:
    found = agreement(ranker(), CASES)
    assert found.top3 / found.cases >= TOP3_BAR, found.misses


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_hard_filters_and_the_expected_item_is_shown(case: Case) -> None:
    everything = ranker().rank(case.profile, case.items, case.today, limit=len(case.items))
    shown = {key(m) for m in everything}
    assert case.best in shown, f"{case.id}: {case.best} filtered out"
    assert not shown & set(case.excluded), f"{case.id}: {shown & set(case.excluded)} shown"
    assert case.best in {f"{case.kind}:{i.id}" for i in case.items}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_match_has_a_reason_in_the_persons_language(case: Case) -> None:
    for match in ranker().rank(case.profile, case.items, case.today):
        line = reason_line(match, case.profile.language, trade_catalog())
        assert line and line[0].isupper()
        vietnamese = any(w in line for w in ("nghề", "nhà", "ngày", "lương", "học", "Trực"))
        assert vietnamese == (case.profile.language == "vi"), line
