"""The people list warns of a phone number given twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.admin_helpers import AdminEnv, admin_env
from tests.factories import make_person

KY_LUA, TAM_THANH = "6187", "5986"
SAME = "Trùng số điện thoại"
ROW = re.compile(r'<tr>\s*<td data-label=[^>]*><a href="/people/\d+">(.*?)</a>(.*?)</tr>', re.S)


@pytest.fixture
async def env(any_db_url: str, tmp_path: Path) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path, db_url=any_db_url) as e:
        yield e


def _rows(html: str) -> dict[str, str]:
    """People list rows by the person's name."""
    return dict(ROW.findall(html))


async def test_people_sharing_a_phone_number_are_flagged(env: AdminEnv) -> None:
    async with env.sessionmaker() as s:
        await make_person(s, full_name="An", phone="+84911111111")
        await make_person(s, full_name="Bảo", phone="+84911111111")
        await make_person(s, full_name="Chi", phone="0911111111")  # the same, not normalised
        await make_person(s, full_name="Dũng", phone="+84922222222")
        await make_person(s, full_name="Đã xóa", phone="+84922222222", erased=True)
        await make_person(s, full_name="Em", phone=None)
        await make_person(s, full_name="Giang", phone="+84933333333", commune_code=TAM_THANH)
        await make_person(s, full_name="Hà", phone="+84933333333", commune_code=KY_LUA)
        await s.commit()
    await env.user("boss", "admin")
    await env.user("kylua", "commune", communes=[KY_LUA])
    client = await env.login("boss")
    rows = _rows((await client.get("/people")).text)
    assert set(rows) == {"An", "Bảo", "Chi", "Dũng", "Em", "Giang", "Hà"}
    flagged = {name for name, row in rows.items() if SAME in row}
    assert flagged == {"An", "Bảo", "Chi", "Giang", "Hà"}  # an erased person does not count
    assert "3 người cùng khai số điện thoại này" in rows["Chi"]
    assert "2 người cùng khai số điện thoại này" in rows["Hà"]
    link = re.search(r'class="dup-phone" href="([^"]+)"', rows["An"])
    assert link is not None
    same_number = _rows((await client.get(link.group(1))).text)
    assert set(same_number) == {"An", "Bảo", "Chi"}
    # a commune officer is warned about people they can see, never about others' people
    officer = await env.login("kylua")
    rows = _rows((await officer.get("/people")).text)
    assert SAME in rows["An"] and "Giang" not in rows and SAME not in rows["Hà"]
    await client.get("/lang/en")
    assert "Same phone" in (await client.get("/people")).text
