"""The scheduler on SQLite with a fake sender: who gets what, when, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.sending import BeforeCall, SendResult
from bot.timeline import answer_home, reschedule_person, tick
from bot.timeline.schedule import get_schedule
from storage.models import AnonymousCount, Person
from storage.models.timeline import ScheduledSend
from tests.test_timeline_support import (
    TZ,
    FakeSender,
    add_person,
    any_db_fixture,  # noqa: F401  (the any_db fixture)
    at,
    db_fixture,  # noqa: F401  (the db fixture)
    make_settings,
    rows_of,
)

SETTINGS = make_settings()
Sessions = async_sessionmaker[AsyncSession]


async def sent_log(session: AsyncSession) -> set[tuple[int, str, str]]:
    """(person id, entry id, local send date) of every sent row."""
    rows = await session.scalars(select(ScheduledSend).where(ScheduledSend.status == "sent"))
    return {(r.person_id, r.entry_id, r.sent_at.astimezone(TZ).date().isoformat()) for r in rows}


async def test_cohort_over_two_years_gets_exactly_its_reminders(db: Sessions) -> None:
    """Daily 09:00 ticks from 2027 to 2029; actions on the way; exact sets per person."""
    sender = FakeSender()
    async with db() as s:
        a = await add_person(s, enlisted="2026-02", discharge="2028-02")
        b = await add_person(s, enlisted="2026-09", discharge="2028-09", language="en")
        d = await add_person(s, enlisted="2026-02", discharge="2028-02", paused=True)
        e = await add_person(s, enlisted="2026-02", discharge="2028-02")
        no_dates = await add_person(s)
        await s.commit()
        ids = {"a": a.id, "b": b.id, "d": d.id, "e": e.id}
    sender.blocked.add(e.chat_id)

    async def complete_survey_a(s: AsyncSession, now: datetime) -> None:
        person = await s.get(Person, ids["a"])
        assert person is not None
        person.survey_completed_at = now

    async def a_is_home(s: AsyncSession, now: datetime) -> None:
        person = await s.get(Person, ids["a"])
        assert person is not None
        await answer_home(s, person, "this_month", tz=TZ, now=now)

    async def late_joiner(s: AsyncSession, now: datetime) -> None:
        person = await add_person(s, enlisted="2026-04", discharge="2028-04", survey_done=now)
        ids["c"] = person.id
        await reschedule_person(s, person, now=now, tz=TZ)

    actions = {
        "2027-05-03": complete_survey_a,
        "2028-02-16": a_is_home,
        "2028-03-10": late_joiner,
    }
    day = date(2027, 1, 1)
    while day < date(2029, 1, 1):
        await tick(db, sender, at(day.isoformat(), "09:00"), settings=SETTINGS)
        if day.isoformat() in actions:
            async with db() as s:
                await actions[day.isoformat()](s, at(day.isoformat(), "10:00"))
                await s.commit()
        day += timedelta(days=1)

    async with db() as s:
        log = await sent_log(s)
        a_rows = await rows_of(s, ids["a"])
        e_person = await s.get(Person, ids["e"])
        assert not await rows_of(s, no_dates.id)
    by_person: dict[str, set[tuple[str, str]]] = {
        k: {(entry, when) for pid, entry, when in log if pid == v} for k, v in ids.items()
    }
    assert by_person["a"] == {
        ("survey_invite", "2027-05-01"),
        ("trades_confirm", "2027-08-01"),
        ("training_support_30d", "2028-01-02"),
        ("training_support_7d", "2028-01-25"),
        ("home_check", "2028-02-15"),
        ("status_1m", "2028-03-01"),
        ("status_3m", "2028-05-01"),
        ("status_6m", "2028-08-01"),
    }
    assert a_rows["survey_nudge"].status == "skipped"  # finished by then: checked at send time
    assert a_rows["home_check_again"].result == "condition:not_returned"
    assert a_rows["status_12m"].status == "pending"  # due 2029-02-01, after the simulation
    assert by_person["b"] == {
        ("survey_invite", "2027-12-01"),
        ("survey_nudge", "2027-12-08"),
        ("survey_last_call", "2028-03-01"),
        ("training_support_30d", "2028-08-02"),
        ("training_support_7d", "2028-08-25"),
        ("home_check", "2028-09-15"),
        ("home_check_again", "2028-10-15"),
    }
    assert by_person["c"] == {  # joined 2028-03-10: only the current stage and later
        ("training_support_30d", "2028-03-11"),
        ("training_support_7d", "2028-03-25"),
        ("home_check", "2028-04-15"),
        ("home_check_again", "2028-05-15"),
    }
    assert by_person["d"] == set()  # paused
    assert by_person["e"] == set()  # blocked at the first try
    assert e_person is not None and e_person.blocked_at is not None
    assert len(sender.sent) == len(log)  # one message per sent row, no duplicates
    b_texts = [m.text for m in sender.sent if m.chat_id == b.chat_id]
    assert b_texts[0].startswith("Hi Minh! You have served 15 months")  # English for b


async def test_quiet_hours_hold_until_morning(db: Sessions) -> None:
    """Nothing goes out at 22:00 or 07:00; the 07:30 tick sends what was held."""
    sender = FakeSender()
    async with db() as s:
        person = await add_person(s, enlisted="2026-02", discharge="2028-02")
        await reschedule_person(s, person, now=at("2027-04-20"), tz=TZ)
        await s.commit()
    night = await tick(db, sender, at("2027-05-01", "22:00"), settings=SETTINGS)
    assert (night.sent, night.held_quiet) == (0, 1)
    early = await tick(db, sender, at("2027-05-02", "07:00"), settings=SETTINGS)
    assert (early.sent, early.held_quiet) == (0, 1)
    morning = await tick(db, sender, at("2027-05-02", "07:30"), settings=SETTINGS)
    assert (morning.sent, morning.held_quiet) == (1, 0)
    assert len(sender.sent) == 1 and sender.sent[0].chat_id == person.chat_id


async def test_downtime_drops_stale_sends_and_sends_relevant_ones_once(any_db: Sessions) -> None:
    """After 20 days down: the invite (14 days relevant) is dropped and counted; nudge goes once."""
    sender = FakeSender()
    async with any_db() as s:
        person = await add_person(s, enlisted="2026-02", discharge="2028-02")
        await reschedule_person(s, person, now=at("2027-04-01"), tz=TZ)
        await s.commit()
    result = await tick(any_db, sender, at("2027-05-21", "08:00"), settings=SETTINGS)
    assert (result.dropped, result.sent) == (1, 1)
    again = await tick(any_db, sender, at("2027-05-21", "08:01"), settings=SETTINGS)
    assert (again.dropped, again.sent) == (0, 0)
    async with any_db() as s:
        rows = await rows_of(s, person.id)
        counter = await s.get(AnonymousCount, "reminder_dropped")
    assert rows["survey_invite"].status == "dropped"
    assert rows["survey_nudge"].status == "sent"
    assert counter is not None and counter.count == 1
    assert len(sender.sent) == 1


async def test_late_joiner_gets_only_the_current_stage(db: Sessions) -> None:
    """Joining on month 15 + 9 days: invite superseded by the nudge; older stages skipped."""
    async with db() as s:
        person = await add_person(s, enlisted="2026-02", discharge="2028-02")
        await reschedule_person(s, person, now=at("2027-05-10", "12:00"), tz=TZ)
        await s.commit()
        rows = await rows_of(s, person.id)
    assert rows["survey_invite"].result == "superseded"
    assert rows["survey_nudge"].status == "pending"
    assert rows["trades_confirm"].status == "pending"
    assert {k for k, r in rows.items() if r.status == "pending"} == {
        "survey_nudge",
        "trades_confirm",
        "survey_last_call",
        "training_support_30d",
        "training_support_7d",
        "home_check",
        "home_check_again",
    }  # no return date yet: no status checks


async def test_reschedule_moves_only_unsent_rows(any_db: Sessions) -> None:
    """A corrected discharge month moves pending rows; sent ones stay; return rows follow."""
    sender = FakeSender()
    async with any_db() as s:
        person = await add_person(s, enlisted="2026-02", discharge="2028-02")
        await reschedule_person(s, person, now=at("2027-04-01"), tz=TZ)
        await s.commit()
    await tick(any_db, sender, at("2027-05-01"), settings=SETTINGS)
    async with any_db() as s:
        p = await s.get(Person, person.id)
        assert p is not None
        p.discharge_month = date(2028, 3, 1)
        p.return_date = date(2028, 3, 20)
        counts = await reschedule_person(s, p, now=at("2027-05-02"), tz=TZ)
        await s.commit()
        rows = await rows_of(s, person.id)
    assert counts.created == 4  # status_1m … status_12m
    assert rows["survey_invite"].status == "sent"
    assert rows["home_check"].due_at == at("2028-03-15")
    assert rows["status_1m"].due_at == at("2028-04-20")
    async with any_db() as s:
        p = await s.get(Person, person.id)
        assert p is not None
        p.return_date = None
        counts = await reschedule_person(s, p, now=at("2027-05-03"), tz=TZ)
        await s.commit()
        rows = await rows_of(s, person.id)
    assert counts.deleted == 4 and "status_1m" not in rows


async def test_first_tick_backfills_people_without_rows_once(any_db: Sessions) -> None:
    """People added without reschedule_person get rows on the first pass, and only then."""
    async with any_db() as s:
        await add_person(s, enlisted="2026-02", discharge="2028-02")
        await add_person(s, enlisted="2026-03", discharge="2028-03", returned="2028-03-05")
        await s.commit()
    first = await tick(any_db, FakeSender(), at("2027-01-01"), settings=SETTINGS)
    second = await tick(any_db, FakeSender(), at("2027-01-02"), settings=SETTINGS)
    assert first.created == 8 + 12  # the second person also has the 4 status checks
    assert second.created == 0


class StallingSender(FakeSender):
    """Sends the first ``ok`` messages; every later one hangs, either in the call after its
    attempt mark (``in_flight``) or before its turn came (the process will be killed)."""

    def __init__(self, ok: int, *, in_flight: bool) -> None:
        super().__init__()
        self.ok = ok
        self.in_flight = in_flight
        self.calls = 0
        self.hanging = 0

    async def send_text(
        self,
        chat_id: int,
        text: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        *,
        before_call: BeforeCall | None = None,
    ) -> SendResult:
        """Hang after ``ok`` messages."""
        self.calls += 1
        if self.calls <= self.ok:
            return await super().send_text(chat_id, text, reply_markup, before_call=before_call)
        if self.in_flight:
            assert before_call is not None and await before_call()
        self.hanging += 1
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def invite_statuses(sessions: Sessions) -> list[str]:
    """Statuses of the survey_invite rows, sorted."""
    async with sessions() as s:
        return sorted(
            await s.scalars(
                select(ScheduledSend.status).where(ScheduledSend.entry_id == "survey_invite")
            )
        )


async def kill_when(sessions: Sessions, task: asyncio.Task[Any], statuses: list[str]) -> None:
    """Cancel ``task`` (the process dies) once the invites have these statuses."""
    for _ in range(500):
        if await invite_statuses(sessions) == statuses:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await invite_statuses(sessions) == statuses


async def five_invites_due(sessions: Sessions) -> None:
    """Five people whose survey invite is due on 2027-05-01."""
    async with sessions() as s:
        for _ in range(5):
            p = await add_person(s, enlisted="2026-02", discharge="2028-02")
            await reschedule_person(s, p, now=at("2027-04-01"), tz=TZ)
        await s.commit()


async def test_kill_mid_send_never_duplicates(any_db: Sessions) -> None:
    """Sends in flight at the kill become 'unknown' after the claim timeout, never resent."""
    await five_invites_due(any_db)
    stalling = StallingSender(ok=2, in_flight=True)
    task = asyncio.create_task(tick(any_db, stalling, at("2027-05-01"), settings=SETTINGS))
    await kill_when(any_db, task, ["sending"] * 3 + ["sent"] * 2)
    assert stalling.hanging == 3
    after = FakeSender()
    restarted = await tick(any_db, after, at("2027-05-01", "09:01"), settings=SETTINGS)
    assert restarted.sent == 0 and after.sent == []
    later = await tick(any_db, after, at("2027-05-01", "09:30"), settings=SETTINGS)
    assert (later.abandoned, later.released, later.sent) == (3, 0, 0) and after.sent == []
    assert await invite_statuses(any_db) == ["sent"] * 2 + ["unknown"] * 3
    assert len({m.chat_id for m in stalling.sent}) == len(stalling.sent) == 2


async def test_kill_before_the_send_sends_later_once(any_db: Sessions) -> None:
    """Rows claimed but never tried at the kill go back to pending and are sent once."""
    await five_invites_due(any_db)
    stalling = StallingSender(ok=2, in_flight=False)
    task = asyncio.create_task(tick(any_db, stalling, at("2027-05-01"), settings=SETTINGS))
    await kill_when(any_db, task, ["claimed"] * 3 + ["sent"] * 2)
    after = FakeSender()
    restarted = await tick(any_db, after, at("2027-05-01", "09:01"), settings=SETTINGS)
    assert restarted.sent == 0 and after.sent == []  # the claims may still be alive
    later = await tick(any_db, after, at("2027-05-01", "09:30"), settings=SETTINGS)
    assert (later.released, later.abandoned, later.sent) == (3, 0, 3)
    assert await invite_statuses(any_db) == ["sent"] * 5
    chats = [m.chat_id for m in stalling.sent + after.sent]
    assert len(chats) == len(set(chats)) == 5


class GatedSender(FakeSender):
    """Holds every send before its turn until ``gate`` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.waiting = 0

    async def send_text(
        self,
        chat_id: int,
        text: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        *,
        before_call: BeforeCall | None = None,
    ) -> SendResult:
        """Wait for the gate, then send as the fake sender does."""
        self.waiting += 1
        await self.gate.wait()
        return await super().send_text(chat_id, text, reply_markup, before_call=before_call)


async def test_slow_pass_whose_claim_was_released_sends_nothing(any_db: Sessions) -> None:
    """A pass stuck past the claim timeout loses its claim: the rows go out once, by the other."""
    await five_invites_due(any_db)
    slow = GatedSender()
    task = asyncio.create_task(tick(any_db, slow, at("2027-05-01"), settings=SETTINGS))
    for _ in range(500):
        if slow.waiting == 5:
            break
        await asyncio.sleep(0.01)
    other = FakeSender()
    result = await tick(any_db, other, at("2027-05-01", "09:30"), settings=SETTINGS)
    assert (result.released, result.sent) == (5, 5)
    slow.gate.set()
    late = await asyncio.wait_for(task, 10)
    assert late.sent == 0 and slow.sent == []
    assert await invite_statuses(any_db) == ["sent"] * 5
    assert len({m.chat_id for m in other.sent}) == 5


async def test_two_schedulers_at_once_send_each_row_once(any_db: Sessions) -> None:
    """Two concurrent passes claim disjoint rows."""
    async with any_db() as s:
        for _ in range(40):
            p = await add_person(s, enlisted="2026-02", discharge="2028-02")
            await reschedule_person(s, p, now=at("2027-04-01"), tz=TZ)
        await s.commit()
    one, two = FakeSender(), FakeSender()
    now = at("2027-05-01")
    await asyncio.gather(
        tick(any_db, one, now, settings=SETTINGS, batch_size=7),
        tick(any_db, two, now, settings=SETTINGS, batch_size=7),
    )
    chats = [m.chat_id for m in one.sent + two.sent]
    assert len(chats) == len(set(chats)) == 40


async def test_dry_run_lists_without_writing(db: Sessions) -> None:
    """A dry run shows the text it would send and changes nothing."""
    async with db() as s:
        p = await add_person(s, enlisted="2026-02", discharge="2028-02", name="<Tú>")
        await reschedule_person(s, p, now=at("2027-04-01"), tz=TZ)
        await s.commit()
    result = await tick(db, None, at("2027-05-01"), dry_run=True, settings=SETTINGS)
    assert [x.entry_id for x in result.planned] == ["survey_invite"]
    assert "&lt;Tú&gt;" in result.planned[0].text
    async with db() as s:
        assert (await rows_of(s, p.id))["survey_invite"].status == "pending"


async def test_unknown_entry_and_erased_person_are_skipped(db: Sessions) -> None:
    """A row whose entry left the file, or whose person was erased, is skipped, not sent."""
    sender = FakeSender()
    async with db() as s:
        p = await add_person(s, enlisted="2026-02", discharge="2028-02")
        q = await add_person(s, enlisted="2026-02", discharge="2028-02")
        await reschedule_person(s, p, now=at("2027-04-01"), tz=TZ)
        await reschedule_person(s, q, now=at("2027-04-01"), tz=TZ)
        await s.commit()
    await tick(db, sender, at("2027-04-02"), settings=SETTINGS)  # the schedule is now current
    async with db() as s:
        row = (await rows_of(s, p.id))["survey_invite"]
        row.entry_id = "gone_entry"
        erased = await s.get(Person, q.id)
        assert erased is not None
        erased.erased_at = at("2027-04-02")
        await s.commit()
    result = await tick(db, sender, at("2027-05-01"), settings=SETTINGS, schedule=get_schedule())
    assert (result.sent, result.skipped) == (0, 2)
