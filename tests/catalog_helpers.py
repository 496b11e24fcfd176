"""Helpers for the catalog tests: workbooks built from rows, the database's catalog as plain
values, an institution account linked to its institution."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.catalog import xlsx
from bot.catalog.edit import MODELS
from storage.models.admin import AdminUser
from storage.models.catalog import Institution

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)
TODAY = date(2026, 8, 3)
SCHOOL = "Trường Cao đẳng Lạng Sơn"
CENTRE = "Trung tâm GDNN-GDTX Cao Lộc"
INSTITUTIONS = [
    {"name": SCHOOL, "kind": "cao_dang", "place_code": "Phường Đông Kinh", "trades": "weld"},
    {"name": CENTRE, "kind": "gdnn_gdtx", "place_code": "06187"},
]
WELDING = {
    "institution": SCHOOL,
    "title": "Hàn điện cơ bản",
    "trade_code": "weld",
    "level": "so_cap",
    "start_date": "14/09/2026",
    "enrol_deadline": "2026-09-05",
    "quota": 25,
    "seats_left": 20,
    "fee_vnd": "4.500.000 đ",
    "venue_code": "Đông Kinh",
    "status": "open",
}


def workbook(sheets: Mapping[str, Sequence[Mapping[str, Any]]]) -> bytes:
    """A catalog workbook with these rows (data from row 3, as the template)."""
    return xlsx.write(sheets)


def cells_of(content: bytes, sheet: str) -> list[dict[str, Any]]:
    """The data rows of one sheet of a workbook, column code → cell."""
    ws = load_workbook(io.BytesIO(content), read_only=True)[sheet]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(c) for c in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[2:]]


async def snapshot(session: AsyncSession) -> dict[str, list[dict[str, Any]]]:
    """Every catalog row as its stored values (updated_at left out), per list, by id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for sheet, model in MODELS.items():
        found = (await session.scalars(select(model).order_by(model.id))).all()
        out[sheet] = [
            {c.key: getattr(obj, c.key) for c in model.__table__.columns if c.key != "updated_at"}
            for obj in found
        ]
    return out


async def institution_id(session: AsyncSession, name: str) -> int:
    """The id of the institution with this name."""
    found = await session.scalar(select(Institution.id).where(Institution.name == name))
    assert found is not None, name
    return found


async def link(sm: async_sessionmaker[AsyncSession], username: str, institution: str) -> None:
    """Link an account to an institution (what the accounts page does)."""
    async with sm() as session:
        user = await session.scalar(select(AdminUser).where(AdminUser.username == username))
        assert user is not None
        user.institution_id = await institution_id(session, institution)
        await session.commit()


_INPUT = re.compile(r'<input name="([^"]+)" value="([^"]*)"')
_CHECKED = re.compile(r'<input type="checkbox" name="([^"]+)" value="([^"]*)" checked')


def form_values(page: str) -> dict[str, str]:
    """What an edit form would send as it is shown (text inputs and ticked boxes)."""
    values = {name: html.unescape(value) for name, value in _INPUT.findall(page)}
    values.update({name: html.unescape(value) for name, value in _CHECKED.findall(page)})
    return values
