"""The questions inbox without the bot: questions waiting over two working days flagged on the
dashboard and in the inbox (SQLite and PostgreSQL), the reply form without a running bot, erasure;
working days, the FAQ matcher and the FAQ file's checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content_loading import ContentError
from bot.questions import check_text, faq_matcher, load_faq, working_days_before
from storage import people as people_repo
from storage import questions as repo
from storage.db import create_sessionmaker
from storage.models.questions import Question
from tests.admin_helpers import admin_env, csrf_of
from tests.factories import make_person

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TAM_THANH, KY_LUA = "5986", "6187"


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 11, 30, 10), local(2026, 11, 26, 10)),  # Monday → Thursday, same hour
        (local(2026, 11, 27, 16), local(2026, 11, 25, 16)),  # Friday → Wednesday
        (local(2026, 11, 28, 15), local(2026, 11, 26)),  # Saturday: only Thu + Fri count
        (local(2026, 12, 2), local(2026, 11, 30)),  # Wednesday 00:00: a weekend question is late
        (local(2026, 2, 23, 10), local(2026, 2, 12, 10)),  # after Tết (16-20/02/2026 off)
        (local(2026, 9, 3, 9), local(2026, 8, 27, 9)),  # 31/08 (substitute day) and 1-2/09 off
    ],
)
def test_two_working_days_before(now: datetime, expected: datetime) -> None:
    assert working_days_before(now.astimezone(UTC), 2, TZ) == expected


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("Học nghề có được hỗ trợ tiền không?", "training_support"),
        ("hoc nghe co mat tien ko", "training_support"),
        ("thẻ học nghề còn dùng được không", "training_card"),
        ("em muốn vay vốn làm ăn", "job_loan"),
        ("hỗ trợ vayj vốn", "job_loan"),  # a Telex leftover
        ("Can I get a loann?", "job_loan"),  # one typo
        ("trợ cấp tạo việc làm được bao nhiêu", "discharge_allowance"),
        ("trowj caaps xuaats ngux", "discharge_allowance"),
        ("di xkld han quoc can gi", "abroad_loan"),
        ("giấy tờ cần giữ khi xuất ngũ", "documents"),
        ("khi nào có phiên giao dịch việc làm", "job_fairs"),
        ("where is the job fair", "job_fairs"),
        ("thời gian tại ngũ có tính bhxh không", "social_insurance"),
        ("Tôi xuất ngũ thì được hưởng gì", "province_plan"),
        ("con có được cộng điểm thi đại học không", "university_priority"),
    ],
)
def test_faq_matches_what_people_type(text: str, entry: str) -> None:
    found = faq_matcher().match(text)
    assert found is not None and found.id == entry


@pytest.mark.parametrize(
    "text",
    [
        "Khi nào xã mình mở lớp dạy lái máy xúc vậy ạ?",  # "vậy" folds to "vay": no loan answer
        "vậy thì sao",
        "Nhà văn hóa xã mở cửa mấy giờ?",
        "bao giờ tôi được nghỉ phép",
    ],
)
def test_faq_leaves_other_questions_to_a_counsellor(text: str) -> None:
    assert faq_matcher().match(text) is None


def test_every_faq_entry_cites_its_source_and_has_both_languages() -> None:
    faq = load_faq()
    lines = (Path(__file__).parent.parent / "content" / "faq.yaml").read_text(encoding="utf-8")
    for entry in faq.entries:
        head = lines[: lines.index(f"- id: {entry.id}\n")].rsplit("\n\n", 1)[-1]
        assert "# Source:" in head and ".md" in head, f"{entry.id}: no source comment above it"
        assert entry.answer.vi != entry.answer.en and entry.title.vi != entry.title.en


def test_a_broken_faq_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    path.write_text(
        "entries:\n"
        "  - id: one\n"
        "    title: {vi: Một, en: One}\n"
        "    answer: {vi: '<u>gạch</u>', en: 'a & b'}\n"
        "    keywords: [một]\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as err:
        load_faq(path)
    text = str(err.value)
    assert f"{path}:4: one.answer.vi: tag <u> is not allowed here" in text
    assert "one.answer.en: a bare '&'" in text


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "empty"), ("   ", "empty"), ("???", "empty"), ("👍", "empty"), ("x" * 1001, "too_long")],
)
def test_question_text_checks(text: str, problem: str) -> None:
    assert check_text(text, 1000)[1] == problem
    assert check_text(" Học nghề ở đâu? ", 1000) == ("Học nghề ở đâu?", None)


async def test_overdue_questions_on_the_dashboard_and_in_the_inbox(
    tmp_path: Path, any_db_url: str
) -> None:
    monday = local(2026, 11, 30, 10).astimezone(UTC)
    async with admin_env(tmp_path, db_url=any_db_url) as env:
        env.app.state.clock = lambda: monday
        async with env.sessionmaker() as s:
            here = await make_person(s, full_name="Lò Văn Tám", commune_code=TAM_THANH)
            there = await make_person(s, full_name="Hà Thị Lụa", commune_code=KY_LUA)
            asked = [
                (here, "late one", local(2026, 11, 26, 9), None),  # Thu 09:00: 49 h of work
                (here, "fresh one", local(2026, 11, 26, 11), None),  # Thu 11:00: 47 h
                (here, "answered one", local(2026, 11, 20, 9), local(2026, 11, 21, 9)),
                (there, "late elsewhere", local(2026, 11, 23, 9), None),
            ]
            for person, text, at, answered in asked:
                s.add(
                    Question(
                        person_id=person.id,
                        text=text,
                        asked_at=at,
                        answered_at=answered,
                        reply_status="sent" if answered else None,
                    )
                )
            await s.commit()
        await env.user("boss", "admin")
        await env.user("tt", "counsellor", communes=(TAM_THANH,))
        await env.user("watcher", "viewer")
        for name, late in (("boss", 2), ("tt", 1), ("watcher", 2)):
            client = await env.login(name)
            page = (await client.get("/")).text
            tile = re.search(r'id="questions-overdue"><b>(\d+)</b>', page)
            assert tile and int(tile.group(1)) == late, name
            assert ('href="/questions?overdue=true"' in page) == (name != "watcher")
        boss = await env.login("boss")
        page = (await boss.get("/questions?overdue=true")).text
        assert "late one" in page and "late elsewhere" in page
        assert "fresh one" not in page and "answered one" not in page
        page = (await boss.get("/questions")).text
        assert page.count('class="card question late"') == 2
        assert "fresh one" in page and "answered one" not in page
        viewer = await env.login("watcher")  # viewers see the count, not the questions
        assert (await viewer.get("/questions")).status_code == 403

        # without a running bot a reply cannot go out: 503, and what was typed is kept
        async with env.sessionmaker() as s:
            qid = await s.scalar(select(Question.id).where(Question.text == "fresh one"))
        resp = await boss.post(
            f"/questions/{qid}/reply",
            data={"csrf_token": csrf_of(page), "text": "Cán bộ sẽ gọi bạn"},
        )
        assert resp.status_code == 503 and "Cán bộ sẽ gọi bạn" in resp.text
        async with env.sessionmaker() as s:
            question = await s.get(Question, qid)
            assert question is not None and question.answered_at is None


async def test_erasing_a_person_erases_their_questions(repo_engine: AsyncEngine) -> None:
    sessionmaker = create_sessionmaker(repo_engine)
    async with sessionmaker() as s:
        person = await make_person(s)
        await repo.add_question(s, person_id=person.id, text="Học ở đâu?", faq_declined=None)
        await s.commit()
        await people_repo.delete_person(s, person)
        await s.commit()
        assert await s.scalar(select(func.count()).select_from(Question)) == 0
