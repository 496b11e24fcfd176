"""What the training support pays, one test per rule (bot/cards/amounts.py under the shipped
dated rules, content/training_support.yaml), and how days of study are counted
(bot/cards/settlement.py:days_of_study)."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from bot.cards.amounts import support_amounts
from bot.cards.rules import NoRuleError, SupportRule, SupportRules, shipped_rules
from bot.cards.settlement import days_of_study
from storage.models.cards import CardRedemption

CAP_OLD = 12 * 2_340_000  # 28.080.000 đ: base salary until 30/6/2026
CAP_NEW = 12 * 2_530_000  # 30.360.000 đ: from 1/7/2026


@pytest.fixture
def rules() -> SupportRules:
    return shipped_rules()


def test_tuition_only_under_the_old_decree(rules: SupportRules) -> None:
    """NĐ 61/2015 (until 31/12/2025) pays tuition only: no meals, no travel."""
    a = support_amounts(rules, tuition_vnd=5_000_000, start=date(2025, 9, 1), course_days=60)
    assert (a.tuition_paid, a.meals_paid, a.travel_paid) == (5_000_000, 0, 0)
    assert a.total == 5_000_000 and a.learner_share == 0
    assert a.cap == CAP_OLD and "61/2015" in a.legal_basis


def test_tuition_meals_and_travel_under_the_cap(rules: SupportRules) -> None:
    a = support_amounts(rules, tuition_vnd=6_000_000, start=date(2026, 3, 2), course_days=60)
    assert (a.tuition_paid, a.meals_paid, a.travel_paid) == (6_000_000, 60 * 50_000, 200_000)
    assert a.total == 9_200_000 and a.learner_share == 0 and a.days == 60
    assert "338/2025" in a.legal_basis


def test_over_the_cap_tuition_first_and_the_rest_is_the_learners(rules: SupportRules) -> None:
    """a → b → c: tuition above the cap takes it all; the learner pays the difference."""
    a = support_amounts(rules, tuition_vnd=29_000_000, start=date(2026, 3, 2), course_days=60)
    assert (a.tuition_paid, a.meals_paid, a.travel_paid) == (CAP_OLD, 0, 0)
    assert a.total == CAP_OLD
    assert a.learner_share == 29_000_000 - CAP_OLD == 920_000


def test_meals_then_travel_cut_by_the_cap(rules: SupportRules) -> None:
    """What is left after tuition pays meals, then travel; meals and travel above the cap are
    not paid and are not the learner's to pay."""
    a = support_amounts(rules, tuition_vnd=27_000_000, start=date(2026, 3, 2), course_days=40)
    assert (a.tuition_paid, a.meals_paid, a.travel_paid) == (27_000_000, 1_080_000, 0)
    b = support_amounts(rules, tuition_vnd=25_000_000, start=date(2026, 3, 2), course_days=60)
    assert (b.tuition_paid, b.meals_paid, b.travel_paid) == (25_000_000, 3_000_000, 80_000)
    assert a.total == b.total == CAP_OLD
    assert a.learner_share == b.learner_share == 0


def test_drop_out_settled_up_to_its_date(rules: SupportRules) -> None:
    """Tuition in proportion to the days attended, meals for them, travel in full; nothing for
    someone who never attended."""
    a = support_amounts(
        rules, tuition_vnd=6_000_000, start=date(2026, 3, 2), course_days=60, attended_days=20
    )
    assert (a.tuition_cost, a.tuition_paid, a.meals_paid, a.travel_paid) == (
        2_000_000,
        2_000_000,
        20 * 50_000,
        200_000,
    )
    assert a.days == 20
    none = support_amounts(
        rules, tuition_vnd=6_000_000, start=date(2026, 3, 2), course_days=60, attended_days=0
    )
    assert none.total == 0


def test_base_salary_change_in_the_middle_of_a_course(rules: SupportRules) -> None:
    """The cap follows the base salary of the first day of training: a course starting on
    20/6/2026 keeps 28.080.000 đ after 1/7; one starting on 1/7/2026 gets 30.360.000 đ."""
    before = support_amounts(rules, tuition_vnd=31_000_000, start=date(2026, 6, 20), course_days=60)
    after = support_amounts(rules, tuition_vnd=31_000_000, start=date(2026, 7, 1), course_days=60)
    assert (before.base_salary, before.cap) == (2_340_000, CAP_OLD)
    assert (after.base_salary, after.cap) == (2_530_000, CAP_NEW)
    assert before.learner_share == 31_000_000 - CAP_OLD
    assert after.learner_share == 31_000_000 - CAP_NEW


def test_rule_change_on_1_january_2026_brings_meals_and_travel(rules: SupportRules) -> None:
    old = support_amounts(rules, tuition_vnd=4_000_000, start=date(2025, 12, 31), course_days=30)
    new = support_amounts(rules, tuition_vnd=4_000_000, start=date(2026, 1, 1), course_days=30)
    assert (old.meals_paid, old.travel_paid) == (0, 0)
    assert (new.meals_paid, new.travel_paid) == (30 * 50_000, 200_000)
    assert "61/2015" in old.legal_basis and "338/2025" in new.legal_basis


def test_officers_rule_takes_effect_from_its_day(rules: SupportRules) -> None:
    current = rules.support_on(date(2026, 9, 1)).model_dump(by_alias=True)
    changed = rules.with_overrides(
        [
            ("support", {**current, "from": date(2026, 9, 1), "meal_per_day": 60_000}),
            ("base_salary", {"from": date(2026, 10, 1), "amount": 2_800_000}),
        ]
    )
    day_before = support_amounts(
        changed, tuition_vnd=1_000_000, start=date(2026, 8, 31), course_days=10
    )
    on_the_day = support_amounts(
        changed, tuition_vnd=1_000_000, start=date(2026, 9, 1), course_days=10
    )
    assert (day_before.meals_paid, on_the_day.meals_paid) == (500_000, 600_000)
    assert on_the_day.cap == CAP_NEW
    later = support_amounts(changed, tuition_vnd=1, start=date(2026, 10, 1), course_days=1)
    assert later.cap == 12 * 2_800_000
    with pytest.raises(NoRuleError):
        support_amounts(changed, tuition_vnd=1, start=date(2015, 1, 1), course_days=1)


def _redemption(**kw: object) -> CardRedemption:
    base: dict[str, object] = {
        "start_date": date(2026, 3, 2),
        "course_days": 60,
        "tuition_vnd": 6_000_000,
    }
    return CardRedemption(**{**base, **kw})


def test_days_of_study() -> None:
    """days_attended when recorded; else the whole course when finished; else a drop-out's
    calendar days before the drop-out date."""
    assert days_of_study(_redemption(finished_on=date(2026, 5, 1))) is None
    assert days_of_study(_redemption(finished_on=date(2026, 5, 1), days_attended=55)) == 55
    assert days_of_study(_redemption(dropped_on=date(2026, 3, 12))) == 10
    assert days_of_study(_redemption(dropped_on=date(2026, 3, 12), days_attended=7)) == 7


def test_a_rule_names_only_known_levels_and_each_item_once() -> None:
    base = shipped_rules().support[-1].model_dump(by_alias=True)
    with pytest.raises(ValidationError, match="unknown level 'so_cap_moi'"):
        SupportRule.model_validate({**base, "levels": ["so_cap_moi"]})
    with pytest.raises(ValidationError, match="once each"):
        SupportRule.model_validate({**base, "order": ["tuition", "tuition", "travel"]})
    assert SupportRule.model_validate({**base, "levels": ["so_cap"]}).levels == ["so_cap"]
