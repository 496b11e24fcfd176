"""The catalog workbook on disk (openpyxl): one sheet per list, row 1 the column codes (what
the import reads), row 2 the column names in Vietnamese (what an officer reads), data from row
3 on (from row 2 when the names row was deleted). Writing gives the template (no data) or the
export; reading gives each sheet's rows with their spreadsheet row numbers."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from bot.catalog.problems import Problem
from bot.catalog.sheets import Sheets, workbook_spec

FIRST_DATA_ROW = 3
LABEL_LANG = "vi"
_HEAD = Font(bold=True)
_LABEL = Font(italic=True, color="555555")
_FILL = PatternFill("solid", fgColor="EEF3F8")


def write(
    data: Mapping[str, Sequence[Mapping[str, Any]]] | None = None, spec: Sheets | None = None
) -> bytes:
    """The workbook (``spec``: the catalog's unless given): every sheet with its two header
    rows, and ``data``'s rows (by column)."""
    spec = spec or workbook_spec()
    book = Workbook()
    book.remove(book.worksheets[0])
    for sheet, meta in spec.sheets.items():
        ws = book.create_sheet(sheet)
        columns = spec.columns(sheet)
        ws.append(columns)
        ws.append([meta.columns[c].get(LABEL_LANG) for c in columns])
        for col, _ in enumerate(columns, start=1):
            ws.cell(1, col).font = _HEAD
            ws.cell(2, col).font = _LABEL
            ws.cell(2, col).fill = _FILL
            ws.column_dimensions[ws.cell(1, col).column_letter].width = 22
        ws.freeze_panes = f"A{FIRST_DATA_ROW}"
        for row in (data or {}).get(sheet, ()):
            ws.append([row.get(c, "") for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass
class ReadSheet:
    """One sheet's data rows: (spreadsheet row number, column code → cell), empty rows left out."""

    name: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def read(content: bytes, spec: Sheets | None = None) -> tuple[list[ReadSheet], list[Problem]]:
    """The sheets of ``spec`` (the catalog's unless given) found in ``content`` (in workbook
    order) and what is wrong with the file itself (not a workbook, unknown columns). Sheets of
    other names are ignored."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        return [], [Problem("not_xlsx")]
    spec = spec or workbook_spec()
    found: list[ReadSheet] = []
    problems: list[Problem] = []
    try:
        for sheet in spec.sheets:
            if sheet not in book.sheetnames:
                continue
            values = list(book[sheet].iter_rows(values_only=True))
            header = [
                str(v).strip() if v is not None else "" for v in (values[0] if values else ())
            ]
            known = set(spec.columns(sheet))
            for code in header:
                if code and code not in known:
                    problems.append(Problem("unknown_column", sheet, 1, code))
            read_sheet = ReadSheet(sheet)
            # row 2 holds the column names, unless an officer deleted it: then data starts there
            first = FIRST_DATA_ROW if _labels(spec, sheet, header, values) else FIRST_DATA_ROW - 1
            for number, cells in enumerate(values[first - 1 :], start=first):
                row = {
                    code: value
                    for code, value in zip(header, cells, strict=False)
                    if code in known and value is not None and str(value).strip() != ""
                }
                if row:
                    read_sheet.rows.append((number, row))
            found.append(read_sheet)
    finally:
        book.close()
    return found, problems


def _labels(spec: Sheets, sheet: str, header: list[str], values: list[tuple[Any, ...]]) -> bool:
    """Whether row 2 is the row of column names (in either language)."""
    if len(values) < 2:
        return False
    known = set(spec.columns(sheet))
    return any(
        str(cell).strip()
        in (spec.column_label(sheet, code, "vi"), spec.column_label(sheet, code, "en"))
        for code, cell in zip(header, values[1], strict=False)
        if code in known and cell is not None
    )
