"""Helpers of the catalog-bot and alert tests: catalog rows made with the ORM, a bot whose
outbox loop is off (the tests drive the runner and the alert pass with their own clock), a
soldier who finished the survey, and what a chat got."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import BotApp
from bot.broadcasts.runner import Runner
from bot.sending import Sender
from emulator import EmulatedUser, EmulatorClient
from storage.models.catalog import Course, Institution, ItemResponse, JobFair
from storage.models.outbox import OutboxMessage, OutboxRow
from tests.conftest import RunningBot, make_settings
from tests.survey_helpers import run_to_trades, tap_until_summary

Sessions = async_sessionmaker[AsyncSession]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FAST: dict[str, Any] = {"global_rate": 1000.0, "per_chat_rate": 100.0, "per_chat_burst": 10.0}
TAM_THANH = "5986"  # the soldiers' home in these tests (phường Tam Thanh, Lạng Sơn)
KY_LUA = "6187"  # next door
FAR_AWAY = "6124"  # xã Na Sầm, ~35 km by road


def local(day: date, clock: str = "10:00") -> datetime:
    """A local wall-clock moment in the province as UTC."""
    hh, mm = clock.split(":")
    return datetime.combine(day, time(int(hh), int(mm)), TZ).astimezone(UTC)


def today() -> date:
    return datetime.now(TZ).date()


async def start_quiet_bot(database_url: str, api_base: str, **extra: Any) -> RunningBot:
    """The bot polling the emulator without its own outbox loop: the tests run the outbox
    runner and the alert pass at the times they choose."""
    settings = make_settings(database_url, api_base, **extra)
    app = BotApp(settings, with_admin=False, with_scheduler=False, with_outbox=False)
    await app.start()
    return RunningBot(settings=settings, emu=EmulatorClient(api_base), app=app)


def runner(rb: RunningBot) -> Runner:
    """An outbox runner on the bot's database and Bot API."""
    return Runner(rb.sessionmaker, Sender(rb.bot, **FAST), rb.settings)


async def drain(run: Runner, now: datetime) -> None:
    """Send everything the outbox has to send at ``now`` (a step that finds a message done
    says False, so go on while a message is being sent)."""
    for _ in range(100):
        if not await run.step(now):
            async with run.sessions() as s:
                sending = await s.scalar(
                    select(OutboxMessage.id).where(OutboxMessage.status == "sending").limit(1)
                )
            if sending is None or run.quiet(now):
                return
    raise AssertionError("the outbox never ran dry")


async def add_institution(sessions: Sessions, name: str = "Trường Cao đẳng Nghề Lạng Sơn") -> int:
    async with sessions() as s:
        institution = Institution(
            name=name, kind="cao_dang", place_code=KY_LUA, phone="0205 3870 000", trades=[]
        )
        s.add(institution)
        await s.commit()
        return institution.id


async def add_course(sessions: Sessions, institution_id: int, **fields: Any) -> int:
    """An open course (weld, elementary, near home, starting in 20 days unless told)."""
    start = today() + timedelta(days=20)
    values: dict[str, Any] = {
        "institution_id": institution_id,
        "trade_code": "weld",
        "level": "so_cap",
        "title": "Hàn điện cơ bản",
        "start_date": start,
        "enrol_deadline": start - timedelta(days=5),
        "venue_code": KY_LUA,
        "policy_codes": [],
        "status": "open",
        "published_at": datetime.now(UTC),
        **fields,
    }
    async with sessions() as s:
        course = Course(**values)
        s.add(course)
        await s.commit()
        return course.id


async def add_fair(sessions: Sessions, starts_at: datetime, **fields: Any) -> int:
    """A published job fair near home."""
    values: dict[str, Any] = {
        "title": "Phiên giao dịch việc làm tháng 12",
        "kind": "dinh_ky",
        "starts_at": starts_at,
        "mode": "offline",
        "venue_code": KY_LUA,
        "venue_text": "Trung tâm Dịch vụ việc làm, 1 Lê Lợi",
        "organiser": "Trung tâm Dịch vụ việc làm tỉnh Lạng Sơn",
        "expected_employers": 25,
        "expected_vacancies": 600,
        "also_offers": ["tư vấn vay vốn"],
        "status": "published",
        "published_at": datetime.now(UTC),
        **fields,
    }
    async with sessions() as s:
        fair = JobFair(**values)
        s.add(fair)
        await s.commit()
        return fair.id


async def surveyed_soldier(
    rb: RunningBot, user_id: int, *, discharge: date, language: str = "vi"
) -> EmulatedUser:
    """A soldier (home: Tam Thanh) who finished the survey choosing welding (hàn điện)."""
    user = rb.emu.user(user_id, first_name="Minh", language_code="vi")
    enlisted = date(discharge.year - 2, discharge.month, 1)
    reply = await run_to_trades(
        user,
        months=(f"{enlisted.month:02d}/{enlisted.year}", f"{discharge.month}/{discharge.year}"),
    )
    reply = await user.ask("han dien")
    reply = await user.click(reply.button_texts[0])
    reply = await tap_until_summary(user, await user.click("Xong"))
    await user.click("✅ Xác nhận")
    if language == "en":
        await user.ask("/language")
        await user.click("🇬🇧 English")
    return user


async def response(sessions: Sessions, kind: str, item_id: int) -> str | None:
    """What the (only) person said about an item."""
    async with sessions() as s:
        return await s.scalar(
            select(ItemResponse.response).where(
                ItemResponse.item_kind == kind, ItemResponse.item_id == item_id
            )
        )


async def outbox_rows(sessions: Sessions, kind: str) -> list[tuple[int, int | None, str, str]]:
    """(person, item id, status, result) of every outbox row of messages of ``kind``."""
    async with sessions() as s:
        rows = await s.execute(
            select(OutboxRow.person_id, OutboxMessage.item_id, OutboxRow.status, OutboxRow.result)
            .join(OutboxMessage, OutboxMessage.id == OutboxRow.message_id)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxRow.id)
        )
        return [(int(p), i, str(st), str(r)) for p, i, st, r in rows.all()]


async def texts(user: EmulatedUser, since: int = 0) -> list[str]:
    """Texts the bot sent the user, oldest first, from index ``since``."""
    return [m.text or "" for m in (await user.history())[since:]]
