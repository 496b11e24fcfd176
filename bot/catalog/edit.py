"""Saving one validated catalog row (import, sample, admin form) and showing a stored row as the
workbook's cells.

Rows are matched on their natural key (institution name; course = institution + title + start
date; policy code; employer name; fair title; vacancy = employer + position + valid from).
A course that becomes ``open`` and a fair that becomes ``published`` get ``published_at`` the
first time (the alerts go out once, from then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.rows import Row
from bot.catalog.sheets import workbook_spec
from storage import catalog_edit as repo
from storage.catalog_edit import CatalogModel
from storage.models.catalog import Course, Employer, Institution, JobFair, SupportPolicy, Vacancy

MODELS: dict[str, type[CatalogModel]] = {
    "institutions": Institution,
    "support_policies": SupportPolicy,
    "courses": Course,
    "employers": Employer,
    "job_fairs": JobFair,
    "vacancies": Vacancy,
}
# the column that names a row of a list (what other lists refer to, what the admin list shows)
NAME_COLUMN = {
    "institutions": "name",
    "support_policies": "code",
    "courses": "title",
    "employers": "name",
    "job_fairs": "title",
    "vacancies": "position",
}
# reference column of a row → (the list it names a row of, the stored foreign key)
REF_KEYS = {
    "institution": ("institutions", "institution_id"),
    "employer": ("employers", "employer_id"),
    "fair": ("job_fairs", "fair_id"),
}
NATURAL_KEYS = {
    "institutions": ("name",),
    "support_policies": ("code",),
    "courses": ("institution_id", "title", "start_date"),
    "employers": ("name",),
    "job_fairs": ("title",),
    "vacancies": ("employer_id", "position", "valid_from"),
}
PUBLISHED = {"courses": "open", "job_fairs": "published"}
LOCAL_TIMES = ("starts_at", "ends_at")
YES, NO = "có", "không"
Change = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True)
class Saved:
    """What saving one row did: created, updated or unchanged; the row; the columns changed."""

    change: Change
    obj: CatalogModel
    columns: list[str]


@dataclass
class Names:
    """Names of the rows other rows refer to, both ways, per list."""

    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    _names: dict[str, dict[int, str]] = field(default_factory=dict, repr=False)

    def id_of(self, sheet: str, name: str | None) -> int | None:
        return self.ids.get(sheet, {}).get(name) if name else None

    def name_of(self, sheet: str, row_id: int | None) -> str | None:
        return None if row_id is None else self._names.get(sheet, {}).get(row_id)

    def add(self, sheet: str, name: str, row_id: int) -> None:
        self.ids.setdefault(sheet, {})[name] = row_id
        self._names.setdefault(sheet, {})[row_id] = name


async def load_names(session: AsyncSession) -> Names:
    """The names of every institution, policy, employer and fair in the database."""
    out = Names()
    for sheet in ("institutions", "support_policies", "employers", "job_fairs"):
        found = await repo.names(session, MODELS[sheet], NAME_COLUMN[sheet])
        for row_id, name in found.items():
            out.add(sheet, name, row_id)
    return out


def stored_values(sheet: str, row: Row, names: Names, tz: tzinfo) -> dict[str, Any]:
    """What to store for a validated row: references as ids, local times as UTC."""
    values = row.stored()
    for column in row.REFS:
        target, fk = REF_KEYS[column]
        values[fk] = names.id_of(target, getattr(row, column))
    for column in LOCAL_TIMES:
        if isinstance(values.get(column), datetime):
            values[column] = values[column].replace(tzinfo=tz).astimezone(UTC)
    return values


def key_of(sheet: str, values: dict[str, Any]) -> dict[str, Any]:
    """The natural key of a row's stored values."""
    return {column: values[column] for column in NATURAL_KEYS[sheet]}


def assign(sheet: str, obj: CatalogModel, values: dict[str, Any], now: datetime) -> list[str]:
    """Set the stored values on ``obj``; the names of the columns that changed."""
    changed = [k for k, v in values.items() if getattr(obj, k, None) != v]
    for column in changed:
        setattr(obj, column, values[column])
    published = PUBLISHED.get(sheet)
    if (
        isinstance(obj, Course | JobFair)
        and values.get("status") == published
        and obj.published_at is None
    ):
        obj.published_at = now
    return changed


async def save(
    session: AsyncSession,
    sheet: str,
    row: Row,
    names: Names,
    tz: tzinfo,
    now: datetime,
    obj: CatalogModel | None = None,
) -> Saved:
    """Create or update the row (``obj``, else the one with the same natural key); flushed."""
    values = stored_values(sheet, row, names, tz)
    model = MODELS[sheet]
    target = obj or await repo.find(session, model, key_of(sheet, values))
    change: Change
    if target is None:
        target = model()
        columns = assign(sheet, target, values, now)
        session.add(target)
        change = "created"
    else:
        columns = assign(sheet, target, values, now)
        change = "updated" if columns else "unchanged"
    await session.flush()
    if sheet in ("institutions", "support_policies", "employers", "job_fairs"):
        names.add(sheet, str(getattr(target, NAME_COLUMN[sheet])), target.id)
    return Saved(change, target, columns)


def cell(value: Any, tz: tzinfo) -> Any:
    """A stored value as a workbook cell: dates dd/mm/yyyy, times local, lists comma-separated,
    yes/no as có/không, unknown as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def to_cells(sheet: str, obj: CatalogModel, names: Names, tz: tzinfo) -> dict[str, Any]:
    """A stored row as its workbook cells, column code → cell."""
    out: dict[str, Any] = {}
    for column in workbook_spec().columns(sheet):
        if column in REF_KEYS:
            target, fk = REF_KEYS[column]
            out[column] = names.name_of(target, getattr(obj, fk)) or ""
        else:
            out[column] = cell(getattr(obj, column), tz)
    return out


async def export_cells(
    session: AsyncSession, tz: tzinfo, sheets: tuple[str, ...], institution_id: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every stored row of ``sheets`` as cells (courses of one institution when given)."""
    names = await load_names(session)
    out: dict[str, list[dict[str, Any]]] = {}
    for sheet in sheets:
        stored = await repo.rows(session, MODELS[sheet], institution_id)
        out[sheet] = [to_cells(sheet, obj, names, tz) for obj in stored]
    return out
