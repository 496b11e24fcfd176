"""Who is on an institution's list on a given day, on SQLite and PostgreSQL: month 18 to the
month, or back home; the export rules (agreed to share with schools, survey done, not erased);
one of its trades, with the rank among the person's choices; interest only from people who
agreed to share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reporting.institution_lists import institution_list, intakes, progress
from storage.catalog import set_response
from storage.models import Person
from storage.models.base import utcnow
from tests.admin_helpers import admin_env
from tests.factories import make_person
from tests.institution_helpers import make_course, make_institution

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = date(2027, 3, 10)


@pytest.fixture
async def session(any_db_url: str, tmp_path: Path) -> AsyncIterator[AsyncSession]:
    async with admin_env(tmp_path, db_url=any_db_url) as env, env.sessionmaker() as s:
        yield s


async def person(s: AsyncSession, name: str, **kw: object) -> int:
    values: dict[str, object] = {
        "trades": ("weld",),
        "consent_sharing": True,
        "enlistment_month": date(2025, 2, 1),
        "discharge_month": date(2027, 2, 1),
    }
    values.update(kw)
    return (await make_person(s, full_name=name, **values)).id  # type: ignore[arg-type]


async def test_month_18_sharing_and_trades(session: AsyncSession) -> None:
    s = session
    await person(s, "Tháng 18", enlistment_month=date(2025, 9, 1), discharge_month=date(2027, 9, 1))
    await person(
        s, "Tháng 17", enlistment_month=date(2025, 10, 1), discharge_month=date(2027, 10, 1)
    )
    back = await person(
        s, "Về sớm", enlistment_month=date(2026, 6, 1), discharge_month=date(2028, 6, 1)
    )
    await person(s, "Đã xuất ngũ", enlistment_month=None, discharge_month=date(2027, 2, 1))
    await person(s, "Chỉ tư vấn", consent_sharing=False)
    await person(s, "Chưa xong khảo sát", completed=False)
    await person(s, "Đã xóa", erased=True)
    await person(s, "Nghề khác", trades=("drive_b",))
    await person(s, "Hàn thứ ba", trades=("drive_b", "cooking", "weld"))
    await person(s, "Điện rồi hàn", trades=("elec_home", "weld"))
    inst = await make_institution(s, "Trường Cao đẳng nghề Lạng Sơn", ["weld", "elec_home"])
    returned = await s.get(Person, back)
    assert returned is not None
    returned.return_date = date(2027, 1, 15)
    await s.flush()

    rows = await institution_list(s, inst, today=TODAY, tz=TZ, lang="vi")
    got = {r.full_name: r.trades for r in rows}
    assert got == {
        "Tháng 18": [(1, "weld")],
        "Về sớm": [(1, "weld")],
        "Đã xuất ngũ": [(1, "weld")],
        "Hàn thứ ba": [(3, "weld")],
        "Điện rồi hàn": [(1, "elec_home"), (2, "weld")],
    }
    assert (
        next(r for r in rows if r.full_name == "Điện rồi hàn")
        .trade_text("vi")
        .startswith("Điện dân dụng")
    )
    assert {r.status for r in rows} == {"listed"}
    # a month earlier, the one at month 18 today was at month 17
    earlier = await institution_list(s, inst, today=date(2027, 2, 28), tz=TZ, lang="vi")
    assert "Tháng 18" not in {r.full_name for r in earlier}


async def test_interest_only_from_people_who_share(session: AsyncSession) -> None:
    s = session
    sharing = await person(
        s, "Chia sẻ", enlistment_month=date(2026, 6, 1), discharge_month=date(2028, 6, 1)
    )
    advice = await person(s, "Chỉ tư vấn", consent_sharing=False)
    inst = await make_institution(s, "Trung tâm GDNN-GDTX Cao Lộc", ["weld"], kind="gdnn_gdtx")
    course = await make_course(s, inst, "Hàn cơ bản", trade_code="weld")
    draft = await make_course(s, inst, "Hàn nâng cao (nháp)", trade_code="weld", status="draft")
    for pid in (sharing, advice):
        await set_response(s, pid, "course", course.id, "interested", utcnow())
    await set_response(s, advice, "course", draft.id, "interested", utcnow())
    found = await intakes(s, inst, tz=TZ, lang="vi")
    assert [(i.course.title, [p.full_name for p in i.people]) for i in found] == [
        ("Hàn cơ bản", ["Chia sẻ"])  # before month 18, but asked for this intake itself
    ]
    (overview,) = await progress(s, today=TODAY, tz=TZ)
    assert overview.steps["listed"] == 0 and overview.total == 0
    assert [(c.title, n) for c, n in overview.interest] == [("Hàn cơ bản", 1)]
