"""Training cards without the bot, on SQLite and PostgreSQL: the units' lists imported (row-level
problems in both languages and nothing written, dry runs, duplicates), validity from the dated
rule in force on the issue date, the expiry pass, revocation, matching to a person; the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from bot.cards.cards import CardError, card_for, expire_pass, record, revoke
from bot.cards.importer import import_file
from bot.cards.rules import current_rules
from bot.cards.service import remind_pass
from bot.catalog.problems import say
from bot.cli import app
from bot.config import get_settings
from storage.db import create_engine, create_sessionmaker
from storage.models import Person
from storage.models.cards import SupportRuleOverride, TrainingCard
from storage.models.outbox import OutboxRow
from tests.alerts_helpers import TZ
from tests.cards_helpers import (
    MINH,
    PHONE,
    ROW,
    add_card,
    audit_actions,
    card_data,
    cards_workbook,
    get_card,
)

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


async def _count(engine: AsyncEngine) -> int:
    async with create_sessionmaker(engine)() as s:
        return int(await s.scalar(select(func.count()).select_from(TrainingCard)) or 0)


async def _person(engine: AsyncEngine, uid: int, name: str, **fields: object) -> int:
    async with create_sessionmaker(engine)() as s:
        values: dict[str, object] = {"consent_at": NOW, "phone": PHONE, **fields}
        person = Person(telegram_user_id=uid, chat_id=uid, full_name=name, **values)
        s.add(person)
        await s.commit()
        return person.id


async def test_bad_rows_are_named_by_row_and_column_and_nothing_is_written(
    repo_engine: AsyncEngine,
) -> None:
    rows = [
        ROW,
        {**ROW, "number": "QK1-2", "issue_date": "31/02/2026"},
        {**ROW, "number": "QK1-3", "holder_phone": "0205 3870 000", "issuer_kind": "navy"},
        {**ROW, "holder_name": "Lê Văn Tám"},  # the number of row 3 again
        {**ROW, "number": "QK1-5", "issue_date": "01/03/2015"},  # before the first rule
    ]
    async with create_sessionmaker(repo_engine)() as s:
        report = await import_file(s, cards_workbook(rows), actor="test")
    assert not report.ok
    english = [say(p, "en") for p in report.problems]
    assert "cards: row 4, column issue_date: 31/02/2026 is not a date" in english
    assert (
        "cards: row 5, column holder_phone: 0205 3870 000 is not a Vietnamese mobile number"
        in english
    )
    assert any(
        m.startswith("cards: row 5, column issuer_kind: navy is not one of") for m in english
    )
    assert "cards: row 6, column number: the same item is already in row 3" in english
    assert "cards: row 7, column issue_date: no support rule holds on 01/03/2015" in english
    vietnamese = [say(p, "vi") for p in report.problems]
    assert "cards: dòng 4, cột issue_date: 31/02/2026 không phải là ngày" in vietnamese, vietnamese
    assert any("không phải số di động Việt Nam" in m for m in vietnamese)
    assert await _count(repo_engine) == 0


async def test_dry_run_writes_nothing_then_the_import_records_every_card(
    repo_engine: AsyncEngine,
) -> None:
    content = cards_workbook([ROW, {**ROW, "number": "CA-7", "issuer_kind": "police"}])
    seen: list[tuple[int, int]] = []
    async with create_sessionmaker(repo_engine)() as s:
        report = await import_file(s, content, actor="test", dry_run=True)
    assert report.ok and report.dry_run and report.count("created") == 2
    assert await _count(repo_engine) == 0
    async with create_sessionmaker(repo_engine)() as s:
        report = await import_file(
            s, content, actor="test", progress=lambda _s, d, t: seen.append((d, t))
        )
    assert report.ok and seen == [(1, 2), (2, 2)]
    card = await get_card(create_sessionmaker(repo_engine), "CA-7")
    assert card is not None and card.issuer_kind == "police" and card.status == "issued"
    assert card.holder_phone == PHONE and card.home_commune_code == "5986"
    assert card.valid_until == date(2027, 2, 28)  # 12 months from 1/3/2026, that day included
    assert card.service_completed and not card.other_state_training
    assert "card.imported" in await audit_actions(create_sessionmaker(repo_engine))
    # the same list again: every number is taken, named by its row
    async with create_sessionmaker(repo_engine)() as s:
        again = await import_file(s, content, actor="test")
    assert [say(p, "en") for p in again.problems] == [
        f"cards: row {n}, column number: {num} is already in this list"
        for n, num in ((3, ROW["number"]), (4, "CA-7"))
    ]
    assert await _count(repo_engine) == 2


async def test_validity_follows_the_rule_of_the_issue_date_and_a_later_rule_changes_no_old_card(
    repo_engine: AsyncEngine,
) -> None:
    sessions = create_sessionmaker(repo_engine)
    await add_card(sessions, number="OLD")
    async with sessions() as s:
        rule = (await current_rules(s)).support_on(date(2026, 6, 1)).model_dump(by_alias=True)
        fields = {**rule, "from": "2026-06-01", "card_valid_months": 6}
        s.add(
            SupportRuleOverride(
                kind="support", valid_from=date(2026, 6, 1), fields=fields, created_by="test"
            )
        )
        rule_none = {**fields, "from": "2026-09-01", "card_valid_months": None}
        s.add(
            SupportRuleOverride(
                kind="support", valid_from=date(2026, 9, 1), fields=rule_none, created_by="test"
            )
        )
        await s.commit()
    await add_card(sessions, number="NEW", issue_date=date(2026, 7, 1))
    await add_card(sessions, number="NOLIMIT", issue_date=date(2026, 10, 1))
    old, new, unlimited = [await get_card(sessions, n) for n in ("OLD", "NEW", "NOLIMIT")]
    assert old is not None and old.valid_until == date(2027, 2, 28)
    assert new is not None and new.valid_until == date(2026, 12, 31)
    assert unlimited is not None and unlimited.valid_until is None


async def test_expiry_pass_expires_only_unredeemed_cards_past_their_validity(
    repo_engine: AsyncEngine,
) -> None:
    sessions = create_sessionmaker(repo_engine)
    await add_card(sessions, number="PAST", issue_date=date(2025, 1, 1))  # until 31/12/2025
    await add_card(sessions, number="USED", issue_date=date(2025, 1, 1))
    await add_card(sessions, number="LIVE", issue_date=date(2025, 1, 2))  # until 1/1/2026
    async with sessions() as s:
        used = await s.scalar(select(TrainingCard).where(TrainingCard.number == "USED"))
        assert used is not None
        used.status = "redeemed"
        await s.commit()
    async with sessions() as s:
        assert await expire_pass(s, date(2026, 1, 1), actor="test") == 1
    async with sessions() as s:
        assert await expire_pass(s, date(2026, 1, 1), actor="test") == 0
    states = {n: (await get_card(sessions, n)).status for n in ("PAST", "USED", "LIVE")}  # type: ignore[union-attr]
    assert states == {"PAST": "expired", "USED": "redeemed", "LIVE": "issued"}
    assert (await audit_actions(sessions)).count("card.expired") == 1


async def test_revoke_needs_a_reason_and_refuses_a_redeemed_card(repo_engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(repo_engine)
    await add_card(sessions, number="A")
    await add_card(sessions, number="B")
    async with sessions() as s:
        a = await s.scalar(select(TrainingCard).where(TrainingCard.number == "A"))
        b = await s.scalar(select(TrainingCard).where(TrainingCard.number == "B"))
        assert a is not None and b is not None
        with pytest.raises(CardError, match="reason_required"):
            await revoke(s, a, "  ", actor="test")
        await revoke(s, a, "Cấp nhầm người", actor="test")
        b.status = "redeemed"
        with pytest.raises(CardError, match="not_revocable"):
            await revoke(s, b, "Cấp nhầm", actor="test")
        await s.commit()
    a2 = await get_card(sessions, "A")
    assert a2 is not None and a2.status == "revoked" and a2.revoked_reason == "Cấp nhầm người"
    assert "card.revoked" in await audit_actions(sessions)


async def test_a_card_is_matched_by_phone_and_folded_name_to_one_consented_person(
    repo_engine: AsyncEngine,
) -> None:
    sessions = create_sessionmaker(repo_engine)
    minh = await _person(repo_engine, 1, "hoang van  minh")
    await _person(repo_engine, 2, "Hoàng Văn Minh", consent_at=None)  # not consented
    await _person(repo_engine, 3, "Hoàng Văn Minh", erased_at=NOW)  # erased
    await _person(repo_engine, 4, "Lê Văn Tám")  # same phone, another name
    await add_card(sessions)
    card = await get_card(sessions, card_data().number)
    assert card is not None and card.person_id == minh
    # a second person with the same phone and name: ambiguous, no match
    await _person(repo_engine, 5, MINH)
    await add_card(sessions, number="X2")
    second = await get_card(sessions, "X2")
    assert second is not None and second.person_id is None
    assert "card.matched" in await audit_actions(sessions)


async def test_a_card_recorded_before_the_person_is_linked_when_they_look(
    repo_engine: AsyncEngine,
) -> None:
    sessions = create_sessionmaker(repo_engine)
    await add_card(sessions)
    pid = await _person(repo_engine, 1, MINH)
    async with sessions() as s:
        person = await s.get(Person, pid)
        assert person is not None
        card = await card_for(s, person)
        assert card is not None and card.person_id == pid
        await s.commit()
    async with sessions() as s:
        other = Person(
            telegram_user_id=9, chat_id=9, full_name="Lê Văn Tám", phone=PHONE, consent_at=NOW
        )
        s.add(other)
        await s.flush()
        assert await card_for(s, other) is None


async def test_record_refuses_a_number_already_stored(repo_engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(repo_engine)
    await add_card(sessions)
    async with sessions() as s:
        with pytest.raises(CardError, match="taken"):
            await record(s, card_data(), rules=await current_rules(s), actor="test")


async def test_the_reminder_is_queued_once_and_only_for_an_entitled_holder(
    repo_engine: AsyncEngine,
) -> None:
    sessions = create_sessionmaker(repo_engine)
    minh = await _person(repo_engine, 1, MINH)
    tam = await _person(repo_engine, 2, "Lê Văn Tám")
    soon = date(2025, 12, 20)  # valid until 19/12/2026: within a month of 7/12/2026
    await add_card(sessions, issue_date=soon)
    await add_card(
        sessions, number="T", holder_name="Lê Văn Tám", issue_date=soon, other_state_training=True
    )
    await add_card(sessions, number="FAR", holder_name="Lê Văn Tám", issue_date=date(2026, 3, 1))
    async with sessions() as s:
        assert await remind_pass(s, NOW, TZ) == 1
    async with sessions() as s:
        assert await remind_pass(s, NOW, TZ) == 0
        rows = (await s.execute(select(OutboxRow.person_id, OutboxRow.text))).all()
    assert [person for person, _ in rows] == [minh] and tam != minh
    assert "QK1-2026-000123" in rows[0][1] and "19/12/2026" in rows[0][1]
    card = await get_card(sessions, card_data().number)
    assert card is not None and card.expiry_reminded_at is not None


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _cli_cards(url: str) -> dict[str, str]:
    async def go() -> dict[str, str]:
        engine = create_engine(url)
        try:
            async with create_sessionmaker(engine)() as s:
                rows = await s.execute(select(TrainingCard.number, TrainingCard.status))
                return {str(n): str(st) for n, st in rows.all()}
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_cli_template_import_dry_run_and_expire(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    template = tmp_path / "template.xlsx"
    result = runner.invoke(app, ["cards", "template", str(template)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(template)["cards"]
    assert sheet["A1"].value == "number" and sheet["A2"].value == "Số thẻ (bắt buộc, không trùng)"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(cards_workbook([ROW, {**ROW, "number": "Y", "issue_date": "31/02/2026"}]))
    result = runner.invoke(app, ["cards", "import", str(bad), "--lang", "en"])
    assert result.exit_code == 1
    assert "cards: row 4, column issue_date: 31/02/2026 is not a date" in result.output
    good = tmp_path / "good.xlsx"
    good.write_bytes(cards_workbook([ROW, {**ROW, "number": "OLD", "issue_date": "01/01/2024"}]))
    result = runner.invoke(app, ["cards", "import", str(good), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Dry run" in result.output and _cli_cards(db_url) == {}
    result = runner.invoke(app, ["cards", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "cards: 2/2" in result.output  # progress (stderr, mixed in by the runner)
    result = runner.invoke(app, ["cards", "expire"])
    assert result.exit_code == 0 and "Expired: 1 card(s)." in result.output
    assert _cli_cards(db_url) == {ROW["number"]: "issued", "OLD": "expired"}
