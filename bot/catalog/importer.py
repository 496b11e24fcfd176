"""Importing a catalog workbook: every row validated, references checked, then all rows saved
in one transaction, or none at all when anything is wrong (all-or-nothing per file).

A dry run does everything but keep the changes: it reports what would be created, updated or
left unchanged. The same path loads the sample catalog (:mod:`bot.catalog.sample`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog import xlsx
from bot.catalog.edit import MODELS, NAME_COLUMN, REF_KEYS, Change, Names, load_names, save
from bot.catalog.problems import Problem, from_validation
from bot.catalog.rows import ROW_MODELS, CourseRow, Row
from bot.config import LANG_SON_CODE
from storage import catalog_edit as repo
from storage.audit import audit

Progress = Callable[[str, int, int], None]
NAMED_LISTS = ("institutions", "support_policies", "employers", "job_fairs")
CHANGES: tuple[Change, ...] = ("created", "updated", "unchanged")


@dataclass(frozen=True)
class Scope:
    """What an importer may change: these lists; courses only of ``institution_id`` if set."""

    lists: frozenset[str] = frozenset(ROW_MODELS)
    institution_id: int | None = None


@dataclass
class Report:
    """What an import did (or, dry run, would do): per list the rows created, updated and left
    unchanged; or the problems, when nothing was written."""

    dry_run: bool = False
    counts: dict[str, dict[Change, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, change: Change) -> int:
        """Rows of every list with this change."""
        return sum(c.get(change, 0) for c in self.counts.values())


Rows = Mapping[str, Sequence[tuple[int, Mapping[str, Any]]]]


def validate_rows(
    rows: Rows, province: int, scope: Scope
) -> tuple[dict[str, list[tuple[int, Row]]], list[Problem]]:
    """Each row validated on its own (``scope``: which lists may have rows); duplicates of a
    natural key within a sheet refused."""
    valid: dict[str, list[tuple[int, Row]]] = {}
    problems: list[Problem] = []
    for sheet in ROW_MODELS:
        sheet_rows = rows.get(sheet, ())
        if sheet_rows and sheet not in scope.lists:
            problems.append(Problem("not_allowed", sheet, sheet_rows[0][0]))
            continue
        model, seen = ROW_MODELS[sheet], dict[tuple[Any, ...], int]()
        for number, cells in sheet_rows:
            try:
                row = model.model_validate(dict(cells), context={"province": province})
            except ValidationError as exc:
                problems.extend(from_validation(exc, sheet, number))
                continue
            long = [
                Problem("too_long", sheet, number, c, {"max": n}) for c, n in too_long(sheet, row)
            ]
            if long:
                problems.extend(long)
                continue
            if row.key() in seen:
                other = {"other": seen[row.key()]}
                problems.append(Problem("duplicate", sheet, number, row.KEY[0], other))
                continue
            seen[row.key()] = number
            valid.setdefault(sheet, []).append((number, row))
    return valid, problems


def too_long(sheet: str, row: Row) -> list[tuple[str, int]]:
    """Text values longer than their column holds: (column, its length)."""
    return longer_than_columns(MODELS[sheet].__table__.columns, row.stored())


def longer_than_columns(columns: Any, values: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Text ``values`` longer than their table ``columns`` hold: (column, its length)."""
    out: list[tuple[str, int]] = []
    for column, value in values.items():
        length = getattr(columns[column].type, "length", None)
        if isinstance(value, str) and length and len(value) > length:
            out.append((column, length))
    return out


def check_references(
    valid: dict[str, list[tuple[int, Row]]], names: Names, own: str | None, scope: Scope
) -> list[Problem]:
    """References to rows neither stored nor in the file; courses of another institution."""
    known = {
        sheet: set(names.ids.get(sheet, {}))
        | {str(getattr(row, NAME_COLUMN[sheet])) for _, row in valid.get(sheet, ())}
        for sheet in NAMED_LISTS
    }
    problems: list[Problem] = []
    for sheet, sheet_rows in valid.items():
        for number, row in sheet_rows:
            for column in row.REFS:
                value, target = getattr(row, column), REF_KEYS[column][0]
                if value is not None and value not in known[target]:
                    fields = {"value": value, "sheet": target}
                    problems.append(Problem("unknown_ref", sheet, number, column, fields))
            if not isinstance(row, CourseRow):
                continue
            for code in row.policy_codes:
                if code not in known["support_policies"]:
                    fields = {"value": code}
                    problems.append(
                        Problem("unknown_policy", sheet, number, "policy_codes", fields)
                    )
            if scope.institution_id is not None and row.institution != own:
                problems.append(
                    Problem("not_yours", sheet, number, "institution", {"own": own or ""})
                )
    return problems


async def validate_one(
    session: AsyncSession, sheet: str, cells: Mapping[str, Any], scope: Scope, province: int
) -> tuple[Row | None, list[Problem], Names]:
    """One row of a form checked as an import checks it (no row number); the stored names."""
    valid, problems = validate_rows({sheet: [(0, cells)]}, province, scope)
    names = await load_names(session)
    own = await repo.institution_name(session, scope.institution_id)
    problems += check_references(valid, names, own, scope)
    rows = valid.get(sheet, [])
    return (rows[0][1] if rows else None), [replace(p, row=None) for p in problems], names


async def import_rows(
    session: AsyncSession,
    rows: Rows,
    *,
    tz: tzinfo,
    now: datetime,
    actor: str,
    scope: Scope | None = None,
    province: int = LANG_SON_CODE,
    dry_run: bool = False,
    progress: Progress | None = None,
    ip: str | None = None,
    source: str = "",
) -> Report:
    """Validate and save ``rows`` (sheet → [(row number, column → cell)]); commits when every
    row is right and it is not a dry run (with one audit entry), else rolls back."""
    scope = scope or Scope()
    report = Report(dry_run=dry_run)
    valid, problems = validate_rows(rows, province, scope)
    names = await load_names(session)
    own = await repo.institution_name(session, scope.institution_id)
    if scope.institution_id is not None and own is None and any(rows.values()):
        problems.insert(0, Problem("no_institution"))
    problems += check_references(valid, names, own, scope)
    if problems:
        report.problems = problems
        await session.rollback()
        return report
    for sheet in ROW_MODELS:
        sheet_rows = valid.get(sheet, [])
        counts = report.counts.setdefault(sheet, dict.fromkeys(CHANGES, 0))
        for done, (_, row) in enumerate(sheet_rows, start=1):
            counts[(await save(session, sheet, row, names, tz, now)).change] += 1
            if progress is not None:
                progress(sheet, done, len(sheet_rows))
    if dry_run:
        await session.rollback()
        return report
    changed = {s: dict(c) for s, c in report.counts.items() if any(c.values())}
    detail: dict[str, Any] = {"source": source, **changed}
    await audit(session, actor=actor, action="catalog.import", detail=detail, ip=ip)
    await session.commit()
    return report


async def import_file(session: AsyncSession, content: bytes, **options: Any) -> Report:
    """Import a workbook's bytes (see :func:`import_rows` for the options)."""
    sheets, problems = xlsx.read(content)
    if problems:
        await session.rollback()
        return Report(dry_run=bool(options.get("dry_run")), problems=problems)
    return await import_rows(session, {s.name: s.rows for s in sheets}, **options)
