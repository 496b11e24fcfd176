"""A redemption's checks and refusals in words (admin domain; msgids in English)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from bot.cards.redeem import Check, RedeemError
from bot.catalog.vocab import vocabularies

Gettext = Callable[..., str]

REASONS: dict[str, str] = {
    "no_card": "No card with this number.",
    "issued": "The card is issued and not used yet.",
    "already_redeemed": "The card was already used on %(day)s at %(institution)s.",
    "revoked": "The card was revoked: %(reason)s",
    "expired": "The card has expired.",
    "not_issued": "The card is not in the issued state.",
    "valid": "The card is valid today.",
    "expired_on": "The card was valid until %(day)s.",
    "entitled": "The holder is entitled: service completed, no other state-funded training.",
    "not_entitled": (
        "The holder is not entitled: service not completed, or other state-funded training "
        "received since."
    ),
    "identity": "The holder on the card is this person.",
    "other_person": "The card belongs to another person.",
    "name_differs": "The name on the card (%(name)s) is not this person's name.",
    "contact_differs": "Neither the phone nor the birth date on the card matches this person.",
    "in_scope": "The person is on this institution's list or interested in its courses.",
    "out_of_scope": (
        "This person is not on this institution's list or interested in its courses: ask them "
        "to register interest in the course in the bot."
    ),
    "course": "The course is eligible.",
    "not_own_course": "This course is not one of this institution's intakes.",
    "no_rule": "No support rule holds on the course's first day.",
    "level_not_supported": "The support does not pay for this course's level (%(level)s).",
    "too_long": "The support pays for courses of under one year only.",
    "no_declared_to": "Type the name of the officer before whom the person signed the declaration.",
    "no_declaration": "Upload the signed declaration or tick that it was signed.",
    "scan_too_large": "The scan is larger than %(mb)s MB.",
    "scan_type": "The scan must be a PDF, JPEG or PNG file.",
    "no_start": "Enter the first day of the course.",
    "bad_days": "Days of study must be a number from 1 to %(most)s.",
    "bad_tuition": "Tuition must be a whole number of dong, 0 or more.",
    "already_ended": "This course is already recorded as finished or dropped.",
    "before_start": "The course cannot finish before it starts.",
    "bad_attended": "Days attended must be a number from 0 to %(most)s.",
    "bad_date": "The date is not a date.",
    "step_out_of_scope": (
        "This person is not on this institution's list or interested in its courses."
    ),
    "step_bad_step": "This step cannot follow the person's current status with the institution.",
    "step_unknown_course": "This course is not one of this institution's intakes.",
    "step_future_date": "The date cannot be in the future.",
    "step_too_old": "The date is too long ago.",
    "step_unknown_trade": "The course's trade is not in the trade catalog.",
}
NOT_FOUND = frozenset({"no_card", "not_own_course", "out_of_scope", "step_out_of_scope"})
CONFLICT = frozenset({"already_redeemed", "already_ended", "step_bad_step"})


def _value(value: Any) -> Any:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value


def say(key: str, params: dict[str, Any], _: Gettext, lang: str) -> str:
    """One reason in the page's language (dates as dd/mm/yyyy, a level by its name)."""
    fields = {k: _value(v) for k, v in params.items()}
    if "level" in fields:
        fields["level"] = vocabularies().label("levels", str(fields["level"]), lang)
    return _(REASONS[key], **fields)


def said(check: Check, _: Gettext, lang: str) -> str:
    """A check in words."""
    return say(check.key, check.params, _, lang)


def status_of(exc: RedeemError) -> int:
    """The HTTP status of a refusal: 404 (not this institution's), 409 (already done), 400."""
    if exc.key in NOT_FOUND:
        return 404
    return 409 if exc.key in CONFLICT else 400
