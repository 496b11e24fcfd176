"""Consent, refusal and erasure end to end (emulator; SQLite and PostgreSQL): no row before
consent, only a count after a refusal, one erasure however often the button is tapped, and
nothing left anywhere after /delete_me."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from admin.auth import Principal
from admin.dashboard import Dashboard, dashboard
from handlers.callbacks import EraseCb
from storage import people as repo
from storage.models import Base, FsmRecord, InboxUpdate, Person
from storage.models.admin import AuditEntry
from storage.models.base import utcnow
from tests.conftest import RunningBot
from tests.survey_helpers import run_to_trades, start_survey, tap_until_summary

ADMIN = Principal(kind="user", id=1, name="test", role="admin")
NOT_AGREED = "Bạn chưa đồng ý cho mình lưu thông tin nên mình chưa nhắc bạn được."
NOTHING_STORED = "Mình không lưu thông tin nào của bạn, nên không còn gì để xóa."


async def _figures(rb: RunningBot) -> tuple[int, int, int, int]:
    board: Dashboard = await dashboard(
        rb.sessionmaker, ADMIN, None, tz=rb.settings.tz, today=date.today(), now=utcnow()
    )
    return board.total, board.started, board.consented, board.completed


async def _fsm_keys(rb: RunningBot, user_id: int) -> list[str]:
    async with rb.sessionmaker() as session:
        keys = (await session.scalars(select(FsmRecord.key))).all()
    return [k for k in keys if f":{user_id}:" in k]


async def _all_replied(rb: RunningBot) -> None:
    """Wait until every update's handling finished (its inbox row marked replied)."""
    await rb.emu.settle(idle=0.3)
    for _ in range(50):
        async with rb.sessionmaker() as session:
            busy = await session.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.state != "replied")
            )
        if not busy:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("updates still being handled")


async def test_refusal_then_commands_store_nothing(running_bot_any_db: RunningBot) -> None:
    rb = running_bot_any_db
    agreed = rb.emu.user(6101, first_name="Quân", language_code="vi")
    await start_survey(agreed)
    before = await _figures(rb)
    assert before[0] == 1

    # before consent: /reminders says so and offers /survey; /delete_me has nothing to erase
    newcomer = rb.emu.user(6102, first_name="Vy", language_code="vi")
    reply = await newcomer.ask("/reminders")
    assert NOT_AGREED in reply.text and "/survey" in reply.text and not reply.button_texts
    assert NOTHING_STORED in (await newcomer.ask("/delete_me")).text

    refuser = rb.emu.user(6103, first_name="Sơn", language_code="vi")
    await refuser.ask("/start qr_unit_9")
    await refuser.ask("/language")
    await refuser.click("🇬🇧 English")
    reply = await start_survey(refuser, consent="I do not agree")
    assert "I respect your choice and store nothing about you" in reply.text
    # the language chosen went with the rest: back to Telegram's language
    assert "Các lệnh:" in (await refuser.ask("/help")).text
    reply = await refuser.ask("/reminders")
    assert NOT_AGREED in reply.text and "/survey" in reply.text
    reply = await refuser.ask("/reminders off")
    assert NOT_AGREED in reply.text
    await refuser.ask("hello?")
    await _all_replied(rb)

    assert await _figures(rb) == before  # not counted as contacted, not listed
    async with rb.sessionmaker() as session:
        assert await repo.get_person(session, telegram_user_id=6102) is None
        assert await repo.get_person(session, telegram_user_id=6103) is None
        assert await session.scalar(select(func.count()).select_from(Person)) == 1
        assert await repo.get_count(session, "consent_refused") == 1
    assert await _fsm_keys(rb, 6103) == []  # the conversation (language, source) went too


async def test_twenty_erase_taps_erase_once(
    running_bot_any_db: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    rb = running_bot_any_db
    caplog.set_level(logging.ERROR)
    user = rb.emu.user(6201, first_name="Hà", language_code="vi")
    await start_survey(user)
    await user.ask("Lò Thị Hà")
    confirm = (await user.ask("/delete_me")).last
    erase = EraseCb(confirm=True).pack()
    await asyncio.gather(
        *(
            user.press(callback_data=erase, message_id=confirm.message_id, force=True)
            for _ in range(20)
        )
    )
    await _all_replied(rb)

    async with rb.sessionmaker() as session:
        assert await repo.get_person(session, telegram_user_id=6201) is None
        assert await repo.get_count(session, "erasures") == 1
        audited = (await session.execute(select(AuditEntry.action, AuditEntry.detail))).all()
    assert audited == [("erasure", {"by": "person"})]
    answers = [a["text"] for a in await user.callback_answers() if a["data"] == erase]
    assert len(answers) == 20
    assert sorted(answers, key=str) == sorted([None] + [NOTHING_STORED] * 19, key=str)
    history = await user.history()
    erased = next(m for m in history if m.message_id == confirm.message_id)
    assert "toàn bộ dữ liệu của bạn. Nếu muốn bắt đầu lại" in (erased.text or "")
    assert len(erased.edits) == 1 and not erased.reply_markup
    assert not [m for m in history if "Xin lỗi" in (m.text or "")]
    assert await rb.emu.calls(chat_id=6201, errors=True) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_erased_ids_are_never_given_to_someone_else(running_bot_any_db: RunningBot) -> None:
    rb = running_bot_any_db
    first, second = rb.emu.user(6301), rb.emu.user(6302)
    await start_survey(first)
    await start_survey(second)
    await second.ask("/delete_me")
    await second.click("🗑 Xóa hết dữ liệu của tôi")
    third = rb.emu.user(6303)
    await start_survey(third)
    async with rb.sessionmaker() as session:
        ids = dict((await session.execute(select(Person.telegram_user_id, Person.id))).all())
    assert ids[6303] > ids[6301] + 1  # the erased person's id (audited) is not reused


NAME = "Hoàng Thị Nguyệt Quế"
PHONE_DIGITS = "912345678"  # typed "0912 345 678", stored "+84912345678"
TG_ID = 918273


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


async def _every_table(rb: RunningBot) -> dict[str, list[str]]:
    """Every row of every table the models define, as text."""
    rows: dict[str, list[str]] = {}
    async with rb.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            rows[table.name] = [" | ".join(_text(v) for v in row) for row in result]
    return rows


async def test_delete_me_leaves_nothing_but_the_count(running_bot_any_db: RunningBot) -> None:
    rb = running_bot_any_db
    user = rb.emu.user(TG_ID, first_name="Quế", language_code="vi")
    await user.ask("/start qr_commune_7")
    reply = await run_to_trades(user, name=NAME)
    reply = await user.ask("sua xe may")
    reply = await user.click(reply.button_texts[0])
    reply = await tap_until_summary(user, await user.click("Xong"))
    await user.click("✅ Xác nhận")
    await _all_replied(rb)
    before = await _every_table(rb)
    needles = (str(TG_ID), NAME, PHONE_DIGITS)
    for needle in needles:  # the scan finds them while they are there
        assert any(needle in row for rows in before.values() for row in rows), needle

    on_sqlite = make_url(rb.settings.database_url).get_backend_name() == "sqlite"
    assert _in_sqlite_files(rb) == (list(_forms()) if on_sqlite else [])  # on disk, for now

    await user.ask("/delete_me")
    await user.click("🗑 Xóa hết dữ liệu của tôi")
    await _all_replied(rb)
    after = await _every_table(rb)
    found = {
        (table, needle)
        for table, rows in after.items()
        for row in rows
        for needle in needles
        if needle in row
    }
    assert found == set()
    assert after["people"] == [] and after["fsm_states"] == []
    assert after["anonymous_counts"] == ["erasures | 1"]

    assert _in_sqlite_files(rb) == []  # nor in the database file or its write-ahead log


def _forms() -> tuple[bytes, ...]:
    """The name (UTF-8 and JSON-escaped) and the phone as they may sit in a file."""
    return (NAME.encode(), json.dumps(NAME).strip('"').encode(), PHONE_DIGITS.encode())


def _in_sqlite_files(rb: RunningBot) -> list[bytes]:
    """Which of :func:`_forms` the SQLite database and its write-ahead log hold (none on
    PostgreSQL: not read)."""
    url = make_url(rb.settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database is None:
        return []
    files = [Path(url.database), Path(url.database + "-wal")]
    raw = b"".join(f.read_bytes() for f in files if f.exists())
    return [form for form in _forms() if form in raw]
