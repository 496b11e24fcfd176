"""``matches_for`` and ``xuatngu match`` over a real database (SQLite and PostgreSQL) with
catalog rows: policies, courses, fairs, vacancies, what the person said and finished."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from bot.matching.service import matches_for, profile_for
from storage.db import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import Person, TradePreference
from storage.models.catalog import (
    Course,
    Employer,
    Enrolment,
    Institution,
    ItemResponse,
    JobFair,
    SupportPolicy,
    Vacancy,
)
from tests.factories import make_person

TODAY = date(2026, 9, 1)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DONG_KINH, KY_LUA, HUU_LUNG, DONG_DANG = "5977", "6187", "6385", "6184"
ANSWERS = {
    "education": "upper_secondary",
    "training_level": "elementary",
    "training_place": "in_province",
    "work_preference": "abroad",
}


async def add_catalog(session: AsyncSession) -> dict[str, int]:
    """A small catalog around a welder from Kỳ Lừa; returns row ids by name."""
    college = Institution(name="Trường CĐ Lạng Sơn", kind="cao_dang", place_code=DONG_KINH)
    driving = Institution(name="Trung tâm lái xe", kind="lai_xe", place_code=DONG_KINH)
    firm = Employer(name="Cơ khí Đồng Đăng")
    session.add_all([college, driving, firm])
    session.add_all(
        [
            SupportPolicy(
                code="nd338",
                name_vi="Hỗ trợ đào tạo sơ cấp",
                legal_basis="NĐ 338/2025 Điều 25",
                target_groups=["discharged", "police_discharged"],
                levels=["so_cap", "duoi_3_thang"],
                items=["tuition", "meals", "travel"],
                valid_from=date(2026, 1, 1),
            ),
            SupportPolicy(
                code="nd61",
                name_vi="Thẻ học nghề (cũ)",
                legal_basis="NĐ 61/2015",
                levels=["so_cap"],
                items=["tuition"],
                valid_to=date(2025, 12, 31),
            ),
        ]
    )
    await session.flush()

    def intake(name: str, **values: Any) -> Course:
        row = Course(institution_id=college.id, level="so_cap", title=name, status="open")
        for field, value in values.items():
            setattr(row, field, value)
        return row

    courses = {
        "weld_city": intake("Hàn", trade_code="weld", venue_code=DONG_KINH,
                            start_date=date(2026, 9, 14), enrol_deadline=date(2026, 9, 5)),
        "weld_far": intake("Hàn", trade_code="weld", venue_code=HUU_LUNG,
                           start_date=date(2026, 9, 28), policy_codes=["nd61"]),
        "steel": intake("Kết cấu thép", trade_code="steel_structure", venue_code=DONG_DANG,
                        start_date=date(2026, 9, 25)),
        "alu": intake("Nhôm kính", trade_code="alu_glass", venue_code=KY_LUA,
                      start_date=date(2026, 9, 25)),
        "closed": intake("Hàn", trade_code="weld", venue_code=KY_LUA,
                         start_date=date(2026, 9, 10), enrol_deadline=date(2026, 8, 28)),
        "draft": intake("Hàn", trade_code="weld", venue_code=KY_LUA, status="draft",
                        start_date=date(2026, 9, 10)),
        "dismissed": intake("Hàn", trade_code="weld", venue_code=KY_LUA,
                            start_date=date(2026, 9, 12)),
        "upgrade": Course(institution_id=driving.id, level="lai_xe", title="Nâng hạng C",
                          trade_code="drive_cd", venue_code=DONG_KINH, status="open",
                          start_date=date(2026, 10, 1), requires_license="C1"),
        "c1": Course(institution_id=driving.id, level="lai_xe", title="Lái xe C1",
                     trade_code="drive_c1", venue_code=DONG_KINH, status="finished"),
    }  # fmt: skip
    session.add_all(courses.values())
    fairs = {
        "september": JobFair(title="Phiên tháng 9", kind="dinh_ky", organiser="TT DVVL",
                             starts_at=datetime(2026, 9, 10, 1, 0, tzinfo=UTC), mode="hybrid",
                             venue_code=DONG_KINH, trades=["weld"], status="published"),
        "past": JobFair(title="Phiên tháng 8", kind="dinh_ky", organiser="TT DVVL",
                        starts_at=datetime(2026, 8, 20, 1, 0, tzinfo=UTC),
                        venue_code=DONG_KINH, status="published"),
    }  # fmt: skip
    session.add_all(fairs.values())
    await session.flush()
    jobs = {
        "welder": Vacancy(employer_id=firm.id, trade_code="weld", position="Thợ hàn",
                          work_place_code=DONG_DANG, pay_min_vnd=9_000_000),
        "korea": Vacancy(employer_id=firm.id, trade_code="weld", position="Thợ hàn EPS",
                         country="KR", pay_min_vnd=35_000_000, age_max=39),
        "expired": Vacancy(employer_id=firm.id, trade_code="weld", position="Thợ hàn",
                           work_place_code=KY_LUA, valid_to=date(2026, 8, 1)),
    }  # fmt: skip
    session.add_all(jobs.values())
    await session.flush()
    ids = {f"course:{k}": v.id for k, v in courses.items()}
    ids |= {f"fair:{k}": v.id for k, v in fairs.items()}
    ids |= {f"vacancy:{k}": v.id for k, v in jobs.items()}
    ids["college"], ids["driving"] = college.id, driving.id
    return ids


async def add_welder(session: AsyncSession, ids: dict[str, int]) -> Person:
    """A welder home in Kỳ Lừa since February, who took the quiz, holds a C1 licence (finished
    course) and said "not interested" to one course."""
    welder = await make_person(
        session,
        trades=("weld", "drive_cd"),
        commune_code=KY_LUA,
        answers=ANSWERS,
        enlistment_month=date(2024, 2, 1),
        discharge_month=date(2026, 2, 1),
        branch="police",
    )
    session.add(
        TradePreference(person_id=welder.id, rank=3, trade_code="fitter", raw_text="quiz:RCI",
                        source="quiz")
    )  # fmt: skip
    session.add(
        Enrolment(person_id=welder.id, institution_id=ids["driving"],
                  course_id=ids["course:c1"], status="finished")
    )  # fmt: skip
    session.add(
        ItemResponse(person_id=welder.id, item_kind="course", item_id=ids["course:dismissed"],
                     response="not_interested", at=datetime.now(UTC))
    )  # fmt: skip
    await session.flush()
    return welder


def keys(matches: list[Any], ids: dict[str, int]) -> list[str]:
    names = {(k.split(":")[0], v): k for k, v in ids.items() if ":" in k}
    return [names[(m.kind, m.item_id)] for m in matches]


async def test_matches_for_over_the_database(repo_engine: AsyncEngine) -> None:
    async with create_sessionmaker(repo_engine)() as session:
        ids = await add_catalog(session)
        welder = await add_welder(session, ids)
        await session.commit()

        profile = await profile_for(session, welder, TODAY)
        assert profile.interest_code == "RCI"
        assert profile.licences == {"B", "C1"}
        assert profile.groups == {"police_discharged"}
        assert profile.work_place == "abroad" and profile.training_place == "in_province"
        assert (profile.min_age, profile.max_age) == (20, 30)

        courses = await matches_for(session, welder, kind="course", today=TODAY, tz=TZ, limit=9)
        shown = keys(courses, ids)
        assert shown[0] == "course:weld_city"
        assert set(shown) == {
            "course:weld_city", "course:weld_far", "course:steel", "course:alu", "course:upgrade"
        }  # fmt: skip
        assert sum(m.related for m in courses[:3]) <= 1
        by_key = dict(zip(shown, courses, strict=True))
        assert by_key["course:weld_city"].factors["support"] == 1.0  # nd338 covers police
        assert by_key["course:weld_far"].factors["support"] == 0.0  # names the ended nd61
        assert by_key["course:weld_city"].factors["interest"] == 0.929  # weld RC, quiz RCI: 13/14

        top3 = await matches_for(session, welder, kind="course", today=TODAY, tz=TZ)
        assert len(top3) == 3 and sum(m.related for m in top3) == 1

        fairs = await matches_for(session, welder, kind="fair", today=TODAY, tz=TZ)
        assert keys(fairs, ids) == ["fair:september"]
        jobs = await matches_for(session, welder, kind="vacancy", today=TODAY, tz=TZ)
        assert keys(jobs, ids) == ["vacancy:korea", "vacancy:welder"]


async def test_nothing_for_someone_without_trades(repo_engine: AsyncEngine) -> None:
    async with create_sessionmaker(repo_engine)() as session:
        await add_catalog(session)
        nobody = await make_person(session, trades=(), commune_code=KY_LUA)
        await session.commit()
        assert await matches_for(session, nobody, kind="course", today=TODAY, tz=TZ) == []


@pytest.fixture
async def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    from bot.config import get_settings

    url = f"sqlite+aiosqlite:///{tmp_path / 'match.sqlite3'}"
    engine = create_engine(url)
    try:
        await upgrade_async(engine)
        async with create_sessionmaker(engine)() as session:
            ids = await add_catalog(session)
            welder = await add_welder(session, ids)
            ids["person"], ids["tg"] = welder.id, welder.telegram_user_id
            await session.commit()
    finally:
        await engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    return ids


def test_cli_match_json_and_table(cli_db: dict[str, int]) -> None:
    from bot.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["match", str(cli_db["person"]), "--json", "--today", "2026-09-01"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    first = payload["matches"][0]
    assert (first["kind"], first["id"]) == ("course", cli_db["course:weld_city"])
    assert set(first["factors"]) == {"trade", "distance", "timing", "support", "interest", "level"}
    assert first["reason"].startswith("Gần nhà ~8 km · đúng nghề hàn")
    assert first["weighted"]["trade"] == 0.35
    assert payload["profile"]["licences"] == ["B", "C1"]

    by_tg = runner.invoke(
        app, ["match", f"tg:{cli_db['tg']}", "--kind", "vacancy", "--today", "2026-09-01"]
    )
    assert by_tg.exit_code == 0, by_tg.output
    assert "Thợ hàn EPS" in by_tg.output and "Làm việc tại Hàn Quốc" in by_tg.output
    by_phone = runner.invoke(
        app, ["match", "0912 345 678", "--kind", "fair", "--limit", "1", "--today", "2026-09-01"]
    )
    assert by_phone.exit_code == 0, by_phone.output
    assert "fair:" in by_phone.output and "Phiên tháng 9" in by_phone.output
    later = runner.invoke(app, ["match", "+84912345678", "--kind", "fair", "--today", "2026-09-11"])
    assert later.exit_code == 0 and "Phiên tháng 9" not in later.output  # the fair is past


def test_cli_match_refuses_what_it_cannot_find(cli_db: dict[str, int]) -> None:
    from bot.cli import app

    runner = CliRunner()
    missing = runner.invoke(app, ["match", "999999"])
    assert missing.exit_code == 1 and "nobody found" in missing.output
    bad = runner.invoke(app, ["match", str(cli_db["person"]), "--kind", "job"])
    assert bad.exit_code == 2 and "--kind" in bad.output
    nonsense = runner.invoke(app, ["match", "abc"])
    assert nonsense.exit_code == 1 and "not a person id" in nonsense.output
