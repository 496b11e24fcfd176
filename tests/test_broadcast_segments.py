"""A broadcast's segment as SQL on SQLite and PostgreSQL: each filter, the author's communes,
who is never reached (erased, blocked, opted out), and the outbox filled once; the sender's
answers classified."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from sqlalchemy import func, select

from bot.broadcasts import optout
from bot.broadcasts.compose import DraftError, parse_segment
from bot.sending import Sender
from storage import outbox
from storage.db import create_sessionmaker
from storage.models import Person
from storage.models.base import utcnow
from storage.models.outbox import BroadcastOptOut, OutboxMessage, OutboxRow
from storage.segments import Segment, count, fill_outbox
from tests.factories import make_person
from tests.test_timeline_sending import StubBot, VirtualTime

OTHER = "6190"


@pytest.fixture
async def people(repo_engine: Any) -> Any:
    """Eight people; the names say what they are."""
    sessions = create_sessionmaker(repo_engine)
    async with sessions() as s:
        made = {
            "army_abroad": await make_person(
                s, answers={"loan_interest": "abroad", "training_level": "elementary"}
            ),
            "police_other": await make_person(
                s, branch="police", commune_code=OTHER, discharge_month=date(2026, 9, 1)
            ),
            "english": await make_person(s, language="en", trades=("lai_xe_b",)),
            "unfinished": await make_person(s, completed=False, answers={"wants_call": True}),
            "returned": await make_person(s),
            "erased": await make_person(s, erased=True),
            "blocked": await make_person(s),
            "opted_out": await make_person(s),
        }
        made["returned"].return_date = date(2026, 3, 1)
        made["blocked"].blocked_at = utcnow()
        await outbox.add_opt_out(s, made["opted_out"].id, None, utcnow())
        await s.commit()
        yield sessions, {name: p.id for name, p in made.items()}


async def reached(sessions: Any, segment: Segment, scope: list[str] | None = None) -> int:
    async with sessions() as s:
        return await count(s, segment, scope)


async def test_each_filter(people: Any) -> None:
    sessions, _ = people
    live = 5  # eight, less the erased, the blocked and the one who opted out
    assert await reached(sessions, Segment()) == live
    assert await reached(sessions, Segment(), scope=["6187"]) == live - 1
    assert await reached(sessions, Segment(communes=(OTHER,))) == 1
    assert await reached(sessions, Segment(forces=("police",))) == 1
    assert await reached(sessions, Segment(service="returned")) == 1
    assert await reached(sessions, Segment(service="in_service")) == live - 1
    assert await reached(sessions, Segment(discharge_from=date(2026, 6, 1))) == 1
    assert await reached(sessions, Segment(discharge_to=date(2026, 2, 1))) == live - 1
    assert await reached(sessions, Segment(trades=("lai_xe_b",))) == 1
    assert await reached(sessions, Segment(survey="unfinished")) == 1
    assert await reached(sessions, Segment(training="registered")) == 1
    assert await reached(sessions, Segment(training="not_registered")) == live - 1
    assert await reached(sessions, Segment(language="en")) == 1
    assert await reached(sessions, Segment(answers=(("loan_interest", "abroad"),))) == 1
    assert await reached(sessions, Segment(answers=(("wants_call", "yes"),))) == 1
    both = Segment(forces=("army",), answers=(("loan_interest", "abroad"),), language="vi")
    assert await reached(sessions, both) == 1
    assert Segment.from_json(both.to_json()) == both


async def test_outbox_filled_once(people: Any) -> None:
    sessions, ids = people
    async with sessions() as s:
        message = OutboxMessage(created_by="test", text_vi="x", segment={})
        s.add(message)
        await s.flush()
        assert await fill_outbox(s, message.id, Segment(), None) == 5
        assert await fill_outbox(s, message.id, Segment(), None) == 5  # nobody twice
        await s.commit()
        rows = await s.scalar(select(func.count()).select_from(OutboxRow))
        assert rows == 5
        people_in = set(await s.scalars(select(OutboxRow.person_id)))
    assert not people_in & {ids["erased"], ids["blocked"], ids["opted_out"]}


async def test_opt_out_from_a_forged_button_still_counts(people: Any) -> None:
    sessions, ids = people
    async with sessions() as s:
        person = await s.get(Person, ids["english"])
        assert person is not None
        await optout.opt_out(s, person, 987_654)
        await s.commit()
        stored = await s.get(BroadcastOptOut, person.id)
        assert stored is not None and stored.message_id is None
        assert await optout.resubscribe(s, person) and not await optout.resubscribe(s, person)


def test_segment_values_are_checked() -> None:
    segment = parse_segment(
        {"commune": ["6187"], "answer": "loan_interest=abroad", "discharge_from": "2026-01"}
    )
    assert segment.answers == (("loan_interest", "abroad"),)
    assert segment.discharge_from == date(2026, 1, 1)
    with pytest.raises(DraftError) as bad:
        parse_segment(
            {
                "commune": "0",
                "answer": ["loan_interest=moon", "full_name=An"],
                "service": "gone",
                "colour": "red",
                "discharge_from": "2026-09",
                "discharge_to": "2026-01",
            }
        )
    assert len(bad.value.problems) == 6


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TelegramForbiddenError(SendMessage(chat_id=1, text="x"), "blocked"), "blocked"),
        (
            TelegramBadRequest(SendMessage(chat_id=1, text="x"), "Bad Request: chat not found"),
            "not_found",
        ),
        (TelegramBadRequest(SendMessage(chat_id=1, text="x"), "can't parse entities"), "failed"),
        (TelegramServerError(SendMessage(chat_id=1, text="x"), "Bad Gateway"), "unknown"),
        (TelegramNetworkError(SendMessage(chat_id=1, text="x"), "timeout"), "unknown"),
        (ClientDecodeError("Failed to decode object", ValueError(), "<html>"), "unknown"),
        (TelegramRetryAfter(SendMessage(chat_id=1, text="x"), "flood", 3), "retry"),
    ],
)
async def test_answers_are_classified(error: Exception, status: str) -> None:
    """A journaled send makes one call; a 429 comes back as 'retry' and pauses the sender."""
    t = VirtualTime()
    bot = StubBot(t, errors=[error])
    sender = Sender(bot, clock=t.clock, sleep=t.sleep)  # type: ignore[arg-type]

    async def mark() -> bool:
        return True

    result = await sender.send_text(1, "x", before_call=mark)
    assert result.status == status and len(bot.calls) == 1
    assert sender.pauses == (status == "retry")
