"""The units' lists of cards as an XLSX workbook (``content/card_columns.yaml``): the template,
and the import: every row checked (row-level problems, in the officer's language, through
:mod:`bot.catalog.problems`), duplicates refused (in the file or already stored), then every
card recorded in one transaction, or none (all-or-nothing); a dry run writes nothing.

The workbook is read and written by :mod:`bot.catalog.xlsx` and its cells by the catalog's
readers (:mod:`bot.catalog.fields`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cards.cards import ISSUERS, CardData, record, valid_until
from bot.cards.rules import NoRuleError, SupportRules, current_rules
from bot.catalog import fields as f
from bot.catalog import xlsx
from bot.catalog.importer import Report, longer_than_columns
from bot.catalog.problems import Problem, from_validation
from bot.catalog.rows import Day, Ward
from bot.catalog.sheets import Sheets
from bot.config import LANG_SON_CODE
from bot.content_loading import CONTENT_DIR, load_yaml, validate_model
from bot.survey.parsing import parse_phone
from storage import cards as repo
from storage.audit import audit
from storage.models.cards import TrainingCard

COLUMNS_PATH = CONTENT_DIR / "card_columns.yaml"
SHEET = "cards"
Progress = Callable[[str, int, int], None]


def phone(value: Any) -> str | None:
    """A Vietnamese mobile number, stored as the survey stores it (+84…); empty → None."""
    raw = f.text(value)
    if raw is None:
        return None
    found = parse_phone(raw)
    if found is None:
        raise f.problem("not_a_phone", raw)
    return found


def yes_unless_no(value: Any) -> bool:
    """Yes/no where an empty cell means yes."""
    return True if f.text(value) is None else f.to_bool(value)


class CardRow(BaseModel):
    """One card of a unit's list (the columns of the workbook)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: Annotated[str, BeforeValidator(f.required_text)]
    holder_name: Annotated[str, BeforeValidator(f.required_text)]
    holder_phone: Annotated[str | None, BeforeValidator(phone)] = None
    holder_birth_date: Day = None
    home_commune_code: Ward = None
    issuer_kind: Annotated[str, BeforeValidator(f.required(f.one_of(ISSUERS)))]
    issuer_unit: Annotated[str, BeforeValidator(f.required_text)]
    issue_date: Annotated[date, BeforeValidator(f.required(f.to_date))]
    discharge_date: Day = None
    service_completed: Annotated[bool, BeforeValidator(yes_unless_no)] = True
    other_state_training: Annotated[bool, BeforeValidator(f.to_bool)] = False

    def data(self) -> CardData:
        return CardData(**self.model_dump())


class CardSheets(Sheets):
    """The card workbook: one sheet whose columns are exactly :class:`CardRow`'s."""

    @model_validator(mode="after")
    def _matches_row(self) -> CardSheets:
        if list(self.sheets) != [SHEET] or set(self.columns(SHEET)) != set(CardRow.model_fields):
            raise ValueError(
                f"one sheet '{SHEET}' with the columns {', '.join(CardRow.model_fields)}"
            )
        return self


def load_card_sheets(path: Path | None = None) -> CardSheets:
    """Load and check ``content/card_columns.yaml`` (ContentError names file:line)."""
    path = path or COLUMNS_PATH
    return validate_model(CardSheets, load_yaml(path), path)


@lru_cache(maxsize=1)
def card_sheets() -> CardSheets:
    return load_card_sheets()


def template() -> bytes:
    """The empty workbook: the column codes and their names."""
    return xlsx.write(spec=card_sheets())


def check_row(
    cells: dict[str, Any], number: int | None, province: int, rules: SupportRules
) -> tuple[CardRow | None, list[Problem]]:
    """One row validated as the import validates it (the admin form too)."""
    try:
        row = CardRow.model_validate(cells, context={"province": province})
    except ValidationError as exc:
        return None, from_validation(exc, SHEET, number)
    columns = TrainingCard.__table__.columns
    problems = [
        Problem("too_long", SHEET, number, c, {"max": n})
        for c, n in longer_than_columns(columns, row.model_dump())
    ]
    try:
        valid_until(rules, row.issue_date)
    except NoRuleError:
        problems.append(
            Problem("no_rule", SHEET, number, "issue_date", {"value": f.shown(row.issue_date)})
        )
    return (row, problems) if not problems else (None, problems)


async def import_file(
    session: AsyncSession,
    content: bytes,
    *,
    actor: str,
    province: int = LANG_SON_CODE,
    dry_run: bool = False,
    progress: Progress | None = None,
    ip: str | None = None,
    source: str = "",
) -> Report:
    """Import a workbook's cards: committed with one audit entry when every row is right and it
    is not a dry run; otherwise rolled back, the problems reported."""
    sheets, problems = xlsx.read(content, card_sheets())
    report = Report(dry_run=dry_run, problems=problems)
    if problems:
        await session.rollback()
        return report
    rows = next((s.rows for s in sheets if s.name == SHEET), [])
    rules = await current_rules(session)
    valid, report.problems = await _check_all(session, rows, province, rules)
    if report.problems:
        await session.rollback()
        return report
    numbers: list[str] = []
    for done, (_, row) in enumerate(valid, start=1):
        card = await record(session, row.data(), rules=rules, actor=actor, audited=False)
        numbers.append(card.number)
        if progress is not None:
            progress(SHEET, done, len(valid))
    report.counts[SHEET] = {"created": len(valid), "updated": 0, "unchanged": 0}
    if dry_run:
        await session.rollback()
        return report
    detail = {"source": source, "created": len(numbers), "numbers": numbers[:50]}
    await audit(session, actor=actor, action="card.imported", detail=detail, ip=ip)
    await session.commit()
    return report


async def _check_all(
    session: AsyncSession,
    rows: Sequence[tuple[int, dict[str, Any]]],
    province: int,
    rules: SupportRules,
) -> tuple[list[tuple[int, CardRow]], list[Problem]]:
    """Every row checked; a number twice in the file or already stored refused with its row."""
    valid: list[tuple[int, CardRow]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for number, cells in rows:
        row, found = check_row(cells, number, province, rules)
        problems += found
        if row is None:
            continue
        if row.number in seen:
            problems.append(
                Problem("duplicate", SHEET, number, "number", {"other": seen[row.number]})
            )
            continue
        seen[row.number] = number
        valid.append((number, row))
    taken = await repo.taken_numbers(session, [row.number for _, row in valid])
    for number, row in valid:
        if row.number in taken:
            problems.append(Problem("taken", SHEET, number, "number", {"value": row.number}))
    return valid, problems
