"""The demo's sample catalog (``content/sample_catalog.yaml``): real institutions, fictional
courses, fairs, employers and vacancies marked "[MẪU]", dated from the day it is loaded.

It goes through the same validation and saving as an XLSX import, into an empty catalog only
(fictional rows never mix with real ones).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalog.edit import Names
from bot.catalog.importer import Report, Scope, check_references, import_rows, validate_rows
from bot.catalog.problems import say
from bot.config import LANG_SON_CODE
from bot.content_loading import CONTENT_DIR, ContentError, ContentProblem, load_yaml
from storage import catalog_edit as repo

SAMPLE_PATH = CONTENT_DIR / "sample_catalog.yaml"
# day offset → date column
DAY_OFFSETS = {
    "start_in_days": "start_date",
    "deadline_in_days": "enrol_deadline",
    "valid_from_in_days": "valid_from",
    "valid_to_in_days": "valid_to",
}


def _dated(row: dict[str, Any], today: date) -> dict[str, Any]:
    """One YAML row with its day offsets turned into dates (dd/mm/yyyy, as typed in a sheet)."""
    cells = dict(row)
    for offset, column in DAY_OFFSETS.items():
        if offset in cells:
            cells[column] = (today + timedelta(days=int(cells.pop(offset)))).strftime("%d/%m/%Y")
    if "starts_in_days" in cells:
        day = (today + timedelta(days=int(cells.pop("starts_in_days")))).strftime("%d/%m/%Y")
        cells["starts_at"] = f"{day} {cells.pop('start_time', '08:00')}"
        if "end_time" in cells:
            cells["ends_at"] = f"{day} {cells.pop('end_time')}"
    return cells


def sample_rows(
    today: date, path: Path | None = None
) -> dict[str, list[tuple[int, dict[str, Any]]]]:
    """The sample's rows per list, dated from ``today`` (row numbers count from 1 per list)."""
    data = load_yaml(path or SAMPLE_PATH)
    return {
        sheet: [(i, _dated(row, today)) for i, row in enumerate(rows, start=1)]
        for sheet, rows in data.items()
        if sheet != "version"
    }


def check_sample(path: Path | None = None, today: date | None = None) -> None:
    """Validate the sample file as an import would (it refers only to its own rows); problems
    raise ContentError (for ``xuatngu content check``)."""
    path = path or SAMPLE_PATH
    rows = sample_rows(today or date.today(), path)
    valid, problems = validate_rows(rows, LANG_SON_CODE, Scope())
    problems += check_references(valid, Names(), None, Scope())
    if problems:
        raise ContentError([ContentProblem(path, None, say(p, "en")) for p in problems])


async def load_sample(
    session: AsyncSession, *, today: date, now: datetime, tz: tzinfo, actor: str
) -> Report | None:
    """Load the sample into an empty catalog (committed); None when the catalog has rows.
    A sample that does not validate raises ContentError naming each problem."""
    if not await repo.is_empty(session):
        return None
    report = await import_rows(
        session, sample_rows(today), tz=tz, now=now, actor=actor, source="sample"
    )
    if not report.ok:
        raise ContentError(
            [ContentProblem(SAMPLE_PATH, None, say(p, "en")) for p in report.problems]
        )
    return report
