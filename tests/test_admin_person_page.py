"""The person page and the survey page show people and questions in words: names, trades,
months as typed, "—" for a skip, conditions in words, Telegram's formatting rendered safely."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from admin.survey_view import telegram_html
from storage.models import Answer, SurveyResponse, TradePreference
from tests.admin_helpers import admin_env
from tests.factories import SURVEY_VERSION, make_person

RAW_VALUES = ("{'", "None", "<b>", "quiz:")
# (question, stored value, what the soldier typed or tapped), as the bot stores them
ANSWERS: list[tuple[str, Any, str | None]] = [
    ("consent", "all", "Đồng ý tất cả"),
    ("full_name", "Hoàng Văn Lộc", "hoàng văn lộc"),
    ("phone", None, "Bỏ qua"),
    ("branch", "army", "Quân đội"),
    ("enlistment_month", "2024-02", "02/2024"),
    ("discharge_month", "2026-02", "2/2026"),
    ("home_commune", "6193", "cao loc"),
    (
        "trade_choices",
        [
            {
                "rank": 1,
                "code": "moto_repair",
                "raw": "sua xe may",
                "score": 95.0,
                "source": "typed",
            },
            {"rank": 2, "code": "weld", "raw": "quiz:CIR", "score": 100.0, "source": "quiz"},
        ],
        "quiz:CIR",
    ),
    ("job_referral", "yes", "Có"),
    ("work_preference", "in_province", "Trong tỉnh"),
]


def page_text(html: str) -> str:
    """What a reader sees: the page without its tags, entities decoded."""
    body = html.split("<main>", 1)[1]
    return unescape(re.sub(r"<[^>]+>", " ", body))


async def test_person_page_shows_people_as_people(tmp_path: Path) -> None:
    async with admin_env(tmp_path) as env:
        async with env.sessionmaker() as s:
            person = await make_person(
                s,
                full_name="Hoàng Văn Lộc",
                phone=None,
                commune_code="6193",
                trades=("moto_repair", "weld"),
                trade_raw=("sua xe may", "quiz:CIR"),
            )
            await s.execute(
                update(TradePreference)
                .where(TradePreference.person_id == person.id, TradePreference.rank == 2)
                .values(source="quiz")
            )
            response_id = await s.scalar(
                select(SurveyResponse.id).where(SurveyResponse.person_id == person.id)
            )
            for qid, value, raw in ANSWERS:
                s.add(
                    Answer(
                        response_id=response_id,
                        question_id=qid,
                        value=value,
                        raw_text=raw,
                        survey_version=SURVEY_VERSION,
                    )
                )
            await s.commit()
        await env.user("boss", "admin")
        html = (await (await env.login("boss")).get(f"/people/{person.id}")).text
    text = page_text(html)
    for raw in (*RAW_VALUES, "6193", "2024-02", "moto_repair", "Bỏ qua"):
        assert raw not in text, raw
    answers = " ".join(text.split())
    assert "Xã/phường nơi ở Xã Cao Lộc (đã gõ: “cao loc”)" in answers
    assert "Tháng nhập ngũ 02/2024" in answers and "Tháng xuất ngũ 02/2026" in answers
    assert "Số điện thoại —" in answers
    assert "Sửa chữa xe máy (đã gõ: “sua xe may”)" in answers
    assert "Hàn (gợi ý từ bài trắc nghiệm sở thích)" in answers
    assert "Muốn được giới thiệu việc làm Có" in answers
    assert "Họ và tên Hoàng Văn Lộc Số" in answers  # the typed case difference is no news


async def test_survey_page_renders_formatting_and_conditions_in_words(tmp_path: Path) -> None:
    async with admin_env(tmp_path) as env:
        await env.user("boss", "admin")
        client = await env.login("boss")
        html = (await client.get("/survey")).text
        english = (await client.get("/lang/en?next=/survey", follow_redirects=True)).text
    assert "Ví dụ: <b>Nguyễn Văn An</b>" in html  # Telegram's bold, as the soldier sees it
    assert "&lt;b&gt;" not in html
    text = " ".join(page_text(html).split())
    for raw in RAW_VALUES:
        assert raw not in text, raw
    assert "Chỉ hỏi khi: “Muốn được giới thiệu việc làm” là “Có”" in text
    assert "Asked only when: “Wants to be referred to jobs” is “Yes”" in " ".join(
        page_text(english).split()
    )


def test_telegram_html_keeps_telegram_tags_and_escapes_the_rest() -> None:
    hostile = (
        'Hi <b onclick="x()">bold</b> <i>it</i> <script>alert(1)</script>'
        '<a href="javascript:alert(1)">js</a> <a href="https://t.me/x" style="y">ok</a>'
        "<img src=x onerror=alert(1)> 1 < 2 & <u>open"
    )
    out = str(telegram_html(hostile))
    assert "<b>bold</b> <i>it</i>" in out
    assert "<script" not in out and "<img" not in out and "onclick" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;js&lt;/a&gt;" in out
    assert '<a href="https://t.me/x" rel="noopener noreferrer">ok</a>' in out
    assert "1 &lt; 2 &amp; <u>open</u>" in out  # unclosed tags are closed
    assert str(telegram_html("</b>x")) == "&lt;/b&gt;x"
    assert str(telegram_html(None)) == ""


async def test_a_stored_code_is_never_shown_as_typed_text(tmp_path: Path) -> None:
    """Answers whose raw text is the code itself (a button, an import) show the name alone."""
    async with admin_env(tmp_path) as env:
        async with env.sessionmaker() as s:
            person = await make_person(s, trades=("weld",), answers={"home_commune": "6187"})
            await s.commit()
        await env.user("boss", "admin")
        text = page_text((await (await env.login("boss")).get(f"/people/{person.id}")).text)
    assert "Phường Kỳ Lừa" in text and "6187" not in text
    assert "Hàn" in text and "weld" not in text
