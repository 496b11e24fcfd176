"""What the training support pays for one redeemed card (pure; rules from :mod:`bot.cards.rules`).

Under the rule in force on the first day of training:

- (a) tuition at the institution's actual rate, (b) meals per day of study, (c) travel per
  course, paid in the rule's order until the cap (``cap_base_salary_months`` × the base salary in
  force on the first day of training: a change of base salary during the course does not move
  the cap of a course already started [L: "at the time of training" read as its start]);
- tuition above what the support pays is the learner's to pay to the institution; meals and
  travel above the cap are simply not paid;
- a drop-out is settled up to its date: tuition in proportion to the course days attended, meals
  for the days attended, travel in full (the trip was made).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from bot.cards.rules import SupportRules


@dataclass(frozen=True)
class Amounts:
    """One redemption's figures in đồng."""

    cap: int
    base_salary: int
    tuition_cost: int  # what the institution charges for the days settled
    tuition_paid: int  # (a)
    meals_paid: int  # (b)
    travel_paid: int  # (c)
    learner_share: int  # tuition above what the support pays
    days: int
    legal_basis: str

    @property
    def total(self) -> int:
        """What the budget pays the institution: (a) + (b) + (c)."""
        return self.tuition_paid + self.meals_paid + self.travel_paid

    def frozen(self) -> dict[str, int | str]:
        """The figures as kept in ``CardRedemption.amounts`` when a settlement is submitted."""
        return {**asdict(self), "total": self.total}


def support_amounts(
    rules: SupportRules,
    *,
    tuition_vnd: int,
    start: date,
    course_days: int,
    attended_days: int | None = None,
) -> Amounts:
    """The amounts for a course of ``course_days`` days of study starting ``start``; with
    ``attended_days`` (a drop-out), settled up to that many days."""
    if course_days <= 0:
        raise ValueError("a course has at least one day of study")
    days = course_days if attended_days is None else max(0, min(attended_days, course_days))
    rule = rules.support_on(start)
    salary = rules.base_salary_on(start)
    cap = rule.cap_base_salary_months * salary.amount
    tuition_cost = tuition_vnd if days == course_days else round(tuition_vnd * days / course_days)
    wanted = {
        "tuition": tuition_cost,
        "meals": rule.meal_per_day * days,
        "travel": rule.travel_per_course if days > 0 else 0,
    }
    paid: dict[str, int] = {}
    left = cap
    for item in rule.order:
        paid[item] = min(wanted[item], left)
        left -= paid[item]
    return Amounts(
        cap=cap,
        base_salary=salary.amount,
        tuition_cost=tuition_cost,
        tuition_paid=paid["tuition"],
        meals_paid=paid["meals"],
        travel_paid=paid["travel"],
        learner_share=tuition_cost - paid["tuition"],
        days=days,
        legal_basis=rule.legal_basis,
    )
