"""The plan's indicators from people, survey answers and outcomes; the report CLI."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from bot.cli.timeline import report_app, scheduler_app
from bot.reporting.kpi import compute_kpis, helped_into_work, render_text, write_xlsx
from bot.timeline import record_outcome, reschedule_person
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import Answer, Person, SurveyResponse, TradePreference
from tests.test_timeline_support import (
    TZ,
    add_person,
    any_db_fixture,  # noqa: F401  (the any_db fixture)
    at,
    db_fixture,  # noqa: F401  (the db fixture)
)

Sessions = async_sessionmaker[AsyncSession]


async def register(session: AsyncSession, person: Person, *, level: bool = True) -> None:
    """A completed survey with one trade and (optionally) the training level answered."""
    response = SurveyResponse(
        person_id=person.id, survey_version="t", completed_at=person.survey_completed_at
    )
    session.add(response)
    await session.flush()
    session.add(
        TradePreference(person_id=person.id, response_id=response.id, rank=1, trade_code="weld")
    )
    if level:
        session.add(
            Answer(
                response_id=response.id,
                question_id="training_level",
                value="elementary",
                survey_version="t",
            )
        )
    await session.flush()


async def build_cohort(session: AsyncSession) -> dict[str, Person]:
    """Seven people: five discharged in 2028 in communes A, B and unknown; two left out."""
    p = {
        "p1": await add_person(
            s := session,
            discharge="2028-02",
            returned="2028-03-01",
            commune="A",
            survey_done=at("2027-06-01"),
        ),
        "p2": await add_person(
            s,
            discharge="2028-02",
            returned="2028-03-01",
            commune="A",
            survey_done=at("2028-04-01"),
        ),
        "p3": await add_person(s, discharge="2028-02", commune="B", survey_done=at("2028-02-20")),
        "p4": await add_person(
            s,
            discharge="2028-04",
            returned="2028-05-01",
            commune="B",
            survey_done=at("2028-01-10"),
        ),
        "p7": await add_person(s, discharge="2028-11"),
        "old": await add_person(s, discharge="2027-12", commune="A", survey_done=at("2027-01-01")),
        "gone": await add_person(s, discharge="2028-05", commune="A", survey_done=at("2027-01-01")),
    }
    p["gone"].erased_at = at("2028-06-01")
    for key in ("p1", "p3", "p4", "old"):
        await register(s, p[key])
    await register(s, p["p2"], level=False)
    await record_outcome(s, p["p1"], "in_training", status_date=date(2028, 4, 1))
    await record_outcome(s, p["p1"], "employed_in_trade", status_date=date(2028, 9, 1))
    await record_outcome(s, p["p2"], "employed_other", status_date=date(2028, 5, 1))
    await record_outcome(s, p["p3"], "self_employed", status_date=date(2028, 1, 10))
    await record_outcome(s, p["p4"], "abroad", status_date=date(2028, 7, 1))
    await record_outcome(s, p["old"], "in_training", status_date=date(2028, 2, 1))
    await session.commit()
    return p


async def test_indicators_overall_and_by_commune(any_db: Sessions) -> None:
    """Exact counts, rates and targets for a hand-built cohort."""
    async with any_db() as s:
        await build_cohort(s)
        report = await compute_kpis(s, year=2028, tz=TZ)
        only_b = await compute_kpis(s, year=2028, commune_codes=["B"], tz=TZ)
    assert (
        report.total,
        report.counselled_before_return,
        report.registered_for_training,
        report.trained,
        report.helped_into_work_after_training,
    ) == (5, 3, 3, 1, 2)
    assert report.helped_rate == pytest.approx(2 / 3)
    assert report.trained_rate == pytest.approx(0.2)
    lines = {line.key: line for line in report.lines()}
    assert (lines["trained"].target, lines["trained"].met) == (0.6, False)
    assert lines["helped_into_work_after_training"].base == 3
    assert lines["registered_for_training"].target is None
    by = {c.commune_code: c for c in report.by_commune}
    assert (
        by["A"].total,
        by["A"].counselled_before_return,
        by["A"].helped_into_work_after_training,
    ) == (2, 1, 1)
    assert (by["B"].total, by["B"].registered_for_training, by["B"].trained) == (2, 2, 0)
    assert by[None].total == 1 and by[None].counselled_rate == 0.0
    assert only_b.total == 2 and [c.commune_code for c in only_b.by_commune] == ["B"]
    text = render_text(report)
    assert "3/5 = 60.0%" in text and "mục tiêu 100%" in text


def test_helped_needs_work_after_training_or_return() -> None:
    """Work before training and before return does not count; after either does."""
    work_early = [("employed_other", date(2028, 1, 1)), ("in_training", date(2028, 2, 1))]
    assert not helped_into_work(work_early, date(2028, 3, 1))
    assert helped_into_work(work_early, date(2027, 12, 1))
    assert helped_into_work([("in_training", date(2028, 2, 1)), ("abroad", date(2028, 2, 1))], None)
    assert not helped_into_work([("looking", date(2028, 9, 1))], date(2028, 1, 1))


async def test_xlsx_has_province_and_commune_rows(db: Sessions, tmp_path: Path) -> None:
    """The spreadsheet has a header, the province row and one row per commune."""
    async with db() as s:
        await build_cohort(s)
        report = await compute_kpis(s, year=2028, tz=TZ)
    path = tmp_path / "kpi.xlsx"
    write_xlsx(report, path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "Toàn tỉnh" and rows[1][2] == 5
    assert len(rows) == 1 + 1 + 3
    assert rows[1][4] == pytest.approx(0.6)


def _seed(url: str) -> None:
    """A migrated database with the cohort and one reminder due on 2027-06-01."""

    async def go() -> None:
        engine = create_engine(url)
        await upgrade_async(engine)
        async with create_sessionmaker(engine)() as s:
            people = await build_cohort(s)
            people["p7"].enlistment_month = date(2026, 3, 1)
            await reschedule_person(s, people["p7"], now=at("2027-05-01"), tz=TZ)
            await s.commit()
        await engine.dispose()

    asyncio.run(go())


def test_cli_report_and_dry_run_tick(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`report kpi` prints and writes xlsx; `scheduler tick --dry-run` lists and sends nothing."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    _seed(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    runner = CliRunner()
    out = runner.invoke(report_app, ["kpi", "--year", "2028"])
    assert out.exit_code == 0, out.output
    assert "Tổng số: 5" in out.output
    xlsx = tmp_path / "k.xlsx"
    out = runner.invoke(
        report_app, ["kpi", "--year", "2028", "--format", "xlsx", "--output", str(xlsx)]
    )
    assert out.exit_code == 0 and xlsx.exists()
    out = runner.invoke(report_app, ["kpi", "--year", "2028", "--format", "pdf"])
    assert out.exit_code == 2
    out = runner.invoke(scheduler_app, ["tick", "--now", "2027-06-01T09:00", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "survey_invite" in out.output and "sent=1" in out.output
    out = runner.invoke(scheduler_app, ["tick", "--now", "2027-06-01T09:00"])
    assert out.exit_code == 2 and "BOT_TOKEN" in out.output
    out = runner.invoke(scheduler_app, ["tick", "--now", "yesterday"])
    assert out.exit_code == 2


async def test_helped_in_sql_follows_the_python_rule_person_by_person(any_db: Sessions) -> None:
    """The database count of "helped into work" equals helped_into_work() applied to each person.

    Each person's work is compared with *their own* first training: someone else's earlier
    training must not count (work in June, own training in August, no return date: not helped).
    """
    import random

    rnd = random.Random(7)
    statuses = ["in_training", "finished_training", "employed_in_trade", "self_employed", "abroad"]
    expected = 0
    async with any_db() as s:
        early = await add_person(s, discharge="2029-01", survey_done=at("2028-06-01"))
        await register(s, early)
        await record_outcome(s, early, "in_training", status_date=date(2029, 1, 2))
        history = [("in_training", date(2029, 1, 2))]
        expected += helped_into_work(history, None)
        for i in range(60):
            returned = f"2029-{rnd.randint(1, 12):02d}-15" if rnd.random() < 0.4 else None
            person = await add_person(
                s, discharge="2029-06", returned=returned, survey_done=at("2028-12-01")
            )
            await register(s, person)
            history = []
            if i == 0:  # the case above, made sure
                history = [("self_employed", date(2029, 6, 1)), ("in_training", date(2029, 8, 1))]
            else:
                for _ in range(rnd.randint(0, 3)):
                    history.append((rnd.choice(statuses), date(2029, rnd.randint(1, 12), 1)))
            for status, day in history:
                await record_outcome(s, person, status, status_date=day)
            expected += helped_into_work(history, person.return_date)
        await s.commit()
        report = await compute_kpis(s, year=2029, tz=TZ)
    assert report.registered_for_training == 61
    assert report.helped_into_work_after_training == expected
