"""Catalog alerts through the one outbox and the Bot API emulator: people a new course or fair
fits well get it with their own reason line, in their language; at most two a week; held
through the quiet hours; never the same item twice; the alert pass is all or nothing; the
button under an alert (or /alerts) stops alerts but not broadcasts; counsellors see who was
alerted and who answered, within their scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.alerts import scan as scan_module
from bot.alerts.scan import scan
from bot.config import load_settings
from bot.timeline.dates import add_months
from emulator import Emulator, RateLimits
from storage import alerts as alerts_repo
from storage.catalog import set_response
from storage.models import Person
from storage.models.alerts import AlertOptOut, ItemAlert
from storage.models.base import utcnow
from storage.models.outbox import OutboxMessage
from tests.admin_helpers import admin_env
from tests.alerts_helpers import (
    KY_LUA,
    TAM_THANH,
    add_course,
    add_institution,
    drain,
    local,
    outbox_rows,
    runner,
    start_quiet_bot,
    texts,
    today,
)
from tests.broadcast_helpers import open_chats, queue
from tests.conftest import RunningBot
from tests.factories import make_person

VI_HEADER = "🔔 Khóa học mới hợp với bạn"
EN_HEADER = "🔔 A new course that suits you"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    emulator = Emulator(RateLimits.off())
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def rb(any_db_url: str, emu: Emulator) -> AsyncIterator[RunningBot]:
    bot = await start_quiet_bot(any_db_url, emu.base_url)
    try:
        yield bot
    finally:
        await bot.stop()
        await bot.emu.close()


async def people(rb: RunningBot, emu: Emulator, specs: dict[int, dict[str, Any]]) -> None:
    """Welders at home in Tam Thanh by chat id, each with ``specs`` fields; chats open."""
    async with rb.sessionmaker() as s:
        for chat, fields in specs.items():
            extra = {k: v for k, v in fields.items() if k in ("language", "discharge_month")}
            person = await make_person(
                s, telegram_user_id=chat, trades=("weld",), commune_code=TAM_THANH, **extra
            )
            person.return_date = fields.get("return_date")
        await s.commit()
    open_chats(emu, list(specs))


async def alert_texts(rb: RunningBot, chat: int) -> list[str]:
    return [t for t in await texts(rb.emu.user(chat)) if t.startswith(("🔔",))]


async def test_cap_quiet_hours_never_twice_and_languages(rb: RunningBot, emu: Emulator) -> None:
    home, serving, later = 9501, 9502, 9503
    this_month = today().replace(day=1)
    await people(
        rb,
        emu,
        {
            home: {"discharge_month": add_months(this_month, -2), "return_date": today()},
            serving: {"discharge_month": add_months(this_month, 2), "language": "en"},
            later: {"discharge_month": add_months(this_month, 12)},  # too early for alerts
        },
    )
    school = await add_institution(rb.sessionmaker)
    start = add_months(this_month, 2) + timedelta(days=20)  # after the serving one's discharge
    courses = [
        await add_course(rb.sessionmaker, school, title=f"Hàn khóa {n}", start_date=start)
        for n in (1, 2, 3)
    ]
    run = runner(rb)
    t0 = local(today(), "10:00")

    assert await scan(rb.sessionmaker, rb.settings, t0) == 4  # two each: the weekly cap
    await drain(run, t0)
    got = await alert_texts(rb, home)
    assert len(got) == 2 and all(t.startswith(VI_HEADER) for t in got)
    assert "Gần nhà ~4 km · đúng nghề hàn" in got[0]
    english = await alert_texts(rb, serving)
    assert len(english) == 2 and all(t.startswith(EN_HEADER) for t in english)
    assert "Near home, ~4 km · your trade: Welding" in english[0]
    assert await alert_texts(rb, later) == []
    last = (await rb.emu.user(home).history())[-1]
    assert last.button_texts == [
        "ℹ️ Xem chi tiết",
        "✅ Đăng ký quan tâm",
        "🚫 Không quan tâm",
        "🔕 Tắt thông báo khóa học, việc làm",
    ]

    # never twice: a second pass, and a course closed and opened again, add nothing
    assert await scan(rb.sessionmaker, rb.settings, t0 + timedelta(minutes=1)) == 0
    async with rb.sessionmaker() as s:
        from storage.models.catalog import Course

        course = await s.get(Course, courses[0])
        assert course is not None
        course.status = "closed"
        await s.commit()
        course.status = "open"
        await s.commit()
    assert await scan(rb.sessionmaker, rb.settings, t0 + timedelta(minutes=2)) == 0
    # a fourth course within the week: the cap holds it back
    await add_course(rb.sessionmaker, school, title="Hàn khóa 4", start_date=start)
    assert await scan(rb.sessionmaker, rb.settings, t0 + timedelta(days=2)) == 0
    await drain(run, t0 + timedelta(days=2))
    assert len(await alert_texts(rb, home)) == 2

    # a week on: a new course gets through, but it was published at night: held till morning
    await add_course(rb.sessionmaker, school, title="Hàn khóa 5", start_date=start)
    night = local(today() + timedelta(days=7), "22:30")
    assert await scan(rb.sessionmaker, rb.settings, night) == 2
    await drain(run, night)
    await drain(run, local(today() + timedelta(days=8), "07:29"))
    assert len(await alert_texts(rb, home)) == 2
    await drain(run, local(today() + timedelta(days=8), "07:30"))
    got = await alert_texts(rb, home)
    assert len(got) == 3 and "Hàn khóa 5" in got[2]
    assert len(await alert_texts(rb, serving)) == 3
    statuses = [r[2] for r in await outbox_rows(rb.sessionmaker, "alert")]
    assert statuses == ["sent"] * 6
    async with rb.sessionmaker() as s:
        given = (
            await s.execute(select(ItemAlert.person_id, func.count()).group_by(ItemAlert.person_id))
        ).all()
    assert sorted(n for _, n in given) == [3, 3]


async def test_a_failed_pass_leaves_nothing_and_the_next_one_does_it_once(
    rb: RunningBot, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass is one transaction: a crash half-way stores nothing; run again, each person
    gets each alert once."""
    await people(rb, emu, {9601: {"return_date": today()}, 9602: {"return_date": today()}})
    school = await add_institution(rb.sessionmaker)
    await add_course(rb.sessionmaker, school, title="Hàn A")
    await add_course(rb.sessionmaker, school, title="Hàn B")
    real = alerts_repo.queue_alerts
    calls = 0

    async def crash_on_second(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("the process died here")
        await real(*args, **kwargs)

    monkeypatch.setattr(scan_module.repo, "queue_alerts", crash_on_second)
    now = local(today(), "10:00")
    with pytest.raises(OSError):
        await scan(rb.sessionmaker, rb.settings, now)
    async with rb.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(ItemAlert)) == 0
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    monkeypatch.setattr(scan_module.repo, "queue_alerts", real)
    assert await scan(rb.sessionmaker, rb.settings, now) == 4
    run = runner(rb)
    await drain(run, now)
    await drain(run, now + timedelta(minutes=5))
    for chat in (9601, 9602):
        got = await alert_texts(rb, chat)
        assert sorted(t.splitlines()[2] for t in got) == ["🎓 Hàn A", "🎓 Hàn B"]


async def test_opt_out_stops_alerts_not_broadcasts(rb: RunningBot, emu: Emulator) -> None:
    chat = 9701
    await people(rb, emu, {chat: {"return_date": today()}})
    user = rb.emu.user(chat)
    school = await add_institution(rb.sessionmaker)
    run = runner(rb)
    await add_course(rb.sessionmaker, school, title="Hàn một")
    now = local(today(), "10:00")
    await scan(rb.sessionmaker, rb.settings, now)
    await drain(run, now)
    alert = (await user.history())[-1]
    reply = await user.click("🔕 Tắt thông báo khóa học, việc làm", message_id=alert.message_id)
    assert "Đã tắt thông báo khóa học và phiên việc làm mới" in reply.text
    async with rb.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(AlertOptOut)) == 1

    await add_course(rb.sessionmaker, school, title="Hàn hai")
    later = now + timedelta(days=8)
    assert await scan(rb.sessionmaker, rb.settings, later) == 0
    await queue(rb.sessionmaker, "Thông báo <b>ngày hội việc làm</b>")
    await drain(run, later)
    got = await texts(user)
    assert got[-1] == "Thông báo ngày hội việc làm"  # broadcasts still come
    assert len(await alert_texts(rb, chat)) == 1

    reply = await user.ask("/alerts")
    assert "đang tắt" in reply.text and reply.button_texts == ["🔔 Bật lại thông báo"]
    # an odd word after /alerts changes nothing: the state again, with the way to change it
    reply = await user.ask("/alerts chắc là có")
    assert "đang tắt" in reply.text and "/alerts on" in reply.text
    assert reply.button_texts == ["🔔 Bật lại thông báo"]
    reply = await user.click("🔔 Bật lại thông báo")
    assert "Đã bật thông báo" in reply.text
    await add_course(rb.sessionmaker, school, title="Hàn ba")
    assert await scan(rb.sessionmaker, rb.settings, later) == 1
    await drain(run, later)
    assert "Hàn ba" in (await alert_texts(rb, chat))[-1]


async def test_counsellors_see_who_was_alerted_and_answered(tmp_path: Path) -> None:
    async with admin_env(tmp_path) as env:
        async with env.sessionmaker() as s:
            ours = await make_person(
                s,
                full_name="Lâm Văn Tú",
                trades=("weld",),
                commune_code=TAM_THANH,
                discharge_month=date(2026, 1, 1),
            )
            theirs = await make_person(
                s,
                full_name="Hoàng Văn Sơn",
                trades=("weld",),
                commune_code=KY_LUA,
                discharge_month=date(2026, 1, 1),
            )
            quiet = await make_person(
                s,
                full_name="Nông Văn Hải",
                trades=("weld",),
                commune_code=TAM_THANH,
                discharge_month=date(2026, 1, 1),
            )
            for p in (ours, theirs, quiet):
                p.return_date = today()
            await s.commit()
        school = await add_institution(env.sessionmaker)
        course = await add_course(env.sessionmaker, school, title="Hàn điện cơ bản")
        settings = load_settings(database_url=env.db_url)
        assert await scan(env.sessionmaker, settings, utcnow()) == 3
        async with env.sessionmaker() as s:
            await set_response(s, ours.id, "course", course, "interested", utcnow())
            await s.commit()
        await env.user("tamthanh", "commune", communes=[TAM_THANH])
        await env.user("school", "institution", trades=["weld"])
        client = await env.login("tamthanh")
        page = (await client.get("/alerts")).text
        assert "Lâm Văn Tú" in page and "Nông Văn Hải" in page and "Hoàng Văn Sơn" not in page
        assert "Đăng ký quan tâm" in page and "Hàn điện cơ bản" in page
        answered = (await client.get("/alerts?show=responded")).text
        assert "Lâm Văn Tú" in answered and "Nông Văn Hải" not in answered
        waiting = (await client.get("/alerts?show=waiting")).text
        assert "Nông Văn Hải" in waiting and "Lâm Văn Tú" not in waiting
        school_client = await env.login("school")
        assert (await school_client.get("/alerts")).status_code == 403
        async with env.sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(Person)) == 3


async def test_the_weekly_cap_counts_by_when_alerts_went_out(rb: RunningBot, emu: Emulator) -> None:
    """Two alerts queued one night go out the next morning; a third queued a week after that
    night (the queue count has room) is held by the quiet hours until exactly a week after the
    two went out: the cap by send time skips it."""
    chat = 9801
    await people(rb, emu, {chat: {"return_date": today()}})
    school = await add_institution(rb.sessionmaker)
    run = runner(rb)
    await add_course(rb.sessionmaker, school, title="Hàn A")
    await add_course(rb.sessionmaker, school, title="Hàn B")
    night = local(today(), "22:30")
    assert await scan(rb.sessionmaker, rb.settings, night) == 2
    morning = local(today() + timedelta(days=1), "07:30")
    await drain(run, morning)
    assert len(await alert_texts(rb, chat)) == 2
    await add_course(rb.sessionmaker, school, title="Hàn C")
    assert await scan(rb.sessionmaker, rb.settings, night + timedelta(days=7, minutes=1)) == 1
    await drain(run, morning + timedelta(days=7))
    assert len(await alert_texts(rb, chat)) == 2
    rows = await outbox_rows(rb.sessionmaker, "alert")
    assert [(r[2], r[3]) for r in rows][-1] == ("skipped", "weekly_cap")
