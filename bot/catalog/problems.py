"""What is wrong with a catalog file or form, said in the officer's language.

A :class:`Problem` names the sheet, the spreadsheet row (as Excel numbers it), the column and a
message key; :func:`say` turns it into "row 14, column start_date: 31/02/2027 is not a date"
(admin domain of the gettext catalogs, kept by hand: msgids in English, Vietnamese in
``admin.po``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bot.i18n import ADMIN_DOMAIN, translator

MESSAGES: dict[str, str] = {
    "required": "a value is required",
    "not_a_date": "%(value)s is not a date",
    "not_a_datetime": "%(value)s is not a date and time (dd/mm/yyyy hh:mm)",
    "not_a_number": "%(value)s is not a whole number",
    "not_money": "%(value)s is not an amount in đồng",
    "not_yes_no": "%(value)s is not yes or no",
    "bad_code": "%(value)s is not one of: %(allowed)s",
    "bad_trade": "%(value)s is not a trade code of content/trades.yaml",
    "bad_place": "%(value)s is not a commune or ward of the province",
    "bad_country": "%(value)s is not a two-letter country code",
    "too_big": "%(value)s is too large",
    "too_long": "too long: at most %(max)s characters",
    "bad_age": "%(value)s is not an age",
    "before_from": "%(high)s is before %(low)s",
    "ends_before_start": "the end %(high)s is before the start %(low)s",
    "deadline_after_start": "the enrolment deadline %(low)s is after the start date %(high)s",
    "seats_over_quota": "%(low)s seats left is more than the quota of %(high)s",
    "max_below_min": "the maximum %(high)s is below the minimum %(low)s",
    "unknown_column": "unknown column (the column codes are in row 1 of the template)",
    "unknown_ref": "%(value)s is not in the list %(sheet)s: add it there first",
    "unknown_policy": "%(value)s is not the code of a support policy",
    "duplicate": "the same item is already in row %(other)s",
    "taken": "%(value)s is already in this list",
    "not_yours": "you may change only the courses of %(own)s",
    "not_allowed": "your account may not change this list",
    "no_institution": "your account is not linked to an institution: ask an administrator",
    "not_xlsx": "the file is not an XLSX workbook: save it as .xlsx and try again",
    "invalid": "%(value)s is not valid",
    # training cards (bot/cards/)
    "not_a_phone": "%(value)s is not a Vietnamese mobile number",
    "no_rule": "no support rule holds on %(value)s",
}
# pydantic's own error types that can reach an officer
_PYDANTIC = {"missing": "required", "extra_forbidden": "unknown_column"}


@dataclass(frozen=True)
class Problem:
    """One thing to fix: where (sheet, row, column; each optional) and what (key + fields)."""

    key: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def from_validation(error: ValidationError, sheet: str | None, row: int | None) -> list[Problem]:
    """The problems of one row's validation, each on its column."""
    out: list[Problem] = []
    for err in error.errors():
        ctx = dict(err.get("ctx") or {})
        key = _PYDANTIC.get(err["type"], err["type"])
        if key not in MESSAGES:
            key = "invalid"
        column = ctx.pop("column", None) or (str(err["loc"][0]) if err["loc"] else None)
        ctx.setdefault("value", "" if key == "required" else str(err.get("input", "")))
        out.append(Problem(key, sheet, row, column, ctx))
    return out


def reason(problem: Problem, lang: str | None) -> str:
    """What is wrong, without where."""
    say_in = translator(lang, ADMIN_DOMAIN)  # not "_": these msgids are the admin domain's
    return say_in(MESSAGES[problem.key], **{k: str(v) for k, v in problem.fields.items()})


def say(problem: Problem, lang: str | None) -> str:
    """The whole sentence: "courses: row 14, column start_date: 31/02/2027 is not a date"."""
    say_in: Callable[..., str] = translator(lang, ADMIN_DOMAIN)
    what = reason(problem, lang)
    if problem.row is not None and problem.column is not None:
        where = say_in("row %(row)s, column %(column)s", row=problem.row, column=problem.column)
    elif problem.row is not None:
        where = say_in("row %(row)s", row=problem.row)
    elif problem.column is not None:
        where = say_in("column %(column)s", column=problem.column)
    else:
        where = ""
    text = f"{where}: {what}" if where else what
    return f"{problem.sheet}: {text}" if problem.sheet else text
