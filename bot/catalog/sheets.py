"""The catalog workbook's sheets and columns (``content/catalog_columns.yaml``): for each list,
its name and, in order, each column's code and name in both languages."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from bot.catalog.rows import ROW_MODELS
from bot.content_loading import CONTENT_DIR, Localized, load_yaml, validate_model

COLUMNS_PATH = CONTENT_DIR / "catalog_columns.yaml"


class Sheet(BaseModel):
    """One list: its label and its columns (code → label), in workbook order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Localized
    columns: dict[str, Localized]


class Sheets(BaseModel):
    """A workbook's sheets (name → label and columns), in order: what :mod:`bot.catalog.xlsx`
    writes and reads (the catalog's, the training cards')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    sheets: dict[str, Sheet]

    def columns(self, sheet: str) -> list[str]:
        """The column codes of one sheet, in order."""
        return list(self.sheets[sheet].columns)

    def column_label(self, sheet: str, column: str, lang: str) -> str:
        """A column's name in ``lang``."""
        return self.sheets[sheet].columns[column].get(lang)


class Workbook(Sheets):
    """Every list of the catalog, each with every column its row model has."""

    @model_validator(mode="after")
    def _matches_rows(self) -> Workbook:
        if list(self.sheets) != list(ROW_MODELS):
            raise ValueError(f"sheets must be, in this order: {', '.join(ROW_MODELS)}")
        for name, sheet in self.sheets.items():
            wanted = set(ROW_MODELS[name].model_fields)
            if set(sheet.columns) != wanted:
                missing = sorted(wanted - set(sheet.columns))
                extra = sorted(set(sheet.columns) - wanted)
                raise ValueError(f"{name}: columns missing {missing}, unknown {extra}")
        return self


def load_workbook_spec(path: Path | None = None) -> Workbook:
    """Load and validate ``content/catalog_columns.yaml``; problems raise ContentError."""
    path = path or COLUMNS_PATH
    return validate_model(Workbook, load_yaml(path), path)


@lru_cache(maxsize=1)
def workbook_spec() -> Workbook:
    """The shipped sheet and column names, loaded once."""
    return load_workbook_spec()
