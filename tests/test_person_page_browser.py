"""Real browser (Debian's headless Chromium) on the real product: a soldier answers the survey in
the emulator (commune typed loosely, phone skipped, a trade typed and one from the quiz); an
officer opens the person page, records an outcome with the form, and reads the survey page.
Screenshots go to the test's tmp dir; the pages' text must hold no raw values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from admin.accounts import create_user
from bot.app import BotApp
from emulator import EmulatedUser, EmulatorClient, Reply
from tests.admin_helpers import PASSWORD
from tests.conftest import make_settings
from tests.survey_helpers import start_survey, tap_first, tap_until_summary
from tests.test_admin_browser import CHROMIUM, CHROMIUM_ARGS

RAW_VALUES = ("{'", "None", "<b>", "quiz:")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed (/usr/bin/chromium)"
    ),
]


@pytest.fixture
async def product(sqlite_url: str, emulator: str) -> AsyncIterator[tuple[BotApp, EmulatorClient]]:
    """The bot and its admin backend in one process, as ``xuatngu run`` starts them."""
    app = BotApp(make_settings(sqlite_url, emulator), with_admin=True, with_scheduler=False)
    await app.start()
    emu = EmulatorClient(emulator)
    try:
        yield app, emu
    finally:
        await app.stop()
        await emu.close()


async def answer_survey(user: EmulatedUser) -> None:
    """Typed and tapped as a soldier would, with the answers the person page used to garble."""
    await start_survey(user)
    await user.ask("Hoàng Văn Lộc")
    reply = await user.ask("Bỏ qua")  # no phone
    assert "Câu 3/14" in reply.text, reply
    await user.click("Quân đội")
    await user.ask("02/2024")
    await user.ask("2/2026")
    reply = await user.ask("cao loc")
    assert "Câu 7/14" in reply.text, reply
    reply = await tap_first(user, reply)
    reply = await user.ask("sua xe may")
    reply = await user.click(reply.button_texts[0])
    assert "Đã ghi nghề số 1" in reply.text, reply
    reply = await user.ask("chưa biết")  # the interest quiz for the second trade
    reply = await like_everything(user, reply)
    reply = await user.click(reply.button_texts[0])
    assert "Đã ghi nghề số 2" in reply.text, reply
    reply = await user.click("Xong")
    reply = await tap_until_summary(user, reply, until="gọi điện tư vấn trực tiếp")
    reply = await user.click("Không")  # no phone given: a call-back would ask for one
    await user.click("✅ Xác nhận")


async def like_everything(user: EmulatedUser, reply: Reply) -> Reply:
    for _ in range(13):
        if len(reply.button_texts) != 3 or "gõ lại" in reply.text:
            return reply
        reply = await user.click(reply.button_texts[0])
    return reply


async def test_person_and_survey_pages_in_chromium(
    product: tuple[BotApp, EmulatorClient], tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    app, emu = product
    await answer_survey(emu.user(3001, first_name="Lộc", language_code="vi"))
    assert app.sessionmaker is not None
    async with app.sessionmaker() as s:
        await create_user(s, "boss", PASSWORD, "admin")
        await s.commit()
    base = f"http://127.0.0.1:{app.settings.admin_port}"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 412, "height": 915})
            page = await context.new_page()
            await page.goto(f"{base}/login?next=/people")
            await page.fill("input[name=username]", "boss")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/people")
            await page.click("text=Hoàng Văn Lộc")
            await page.wait_for_selector("h1:has-text('Hoàng Văn Lộc')")
            await page.screenshot(path=str(tmp_path / "person.png"), full_page=True)
            text = await page.inner_text("main")
            for raw in (*RAW_VALUES, "6193", "2024-02"):
                assert raw not in text, raw
            assert "Xã Cao Lộc" in text and "02/2024" in text and "02/2026" in text
            assert "Sửa chữa xe máy" in text and "gợi ý từ bài trắc nghiệm sở thích" in text
            assert await page.evaluate("document.documentElement.scrollWidth") <= 412

            await page.select_option("select[name=status]", "in_training")
            await page.fill("input[name=day]", "2026-03-02")
            await page.select_option("#record select[name=trade_code]", "moto_repair")
            await page.click("#record button[type=submit]")
            await page.wait_for_selector("#saved")
            history = await page.inner_text("ul.history")
            assert "02/03/2026 — Đang học nghề (Sửa chữa xe máy)" in history
            assert "boss ghi lúc" in history
            await page.screenshot(path=str(tmp_path / "person_recorded.png"), full_page=True)

            await page.goto(f"{base}/survey")
            await page.screenshot(path=str(tmp_path / "survey.png"), full_page=True)
            for qid in ("full_name", "work_preference"):  # bold in a prompt; a condition
                question = page.locator("section.question", has_text=f"{qid} ·")
                await question.screenshot(path=str(tmp_path / f"survey_{qid}.png"))
            text = await page.inner_text("main")
            for raw in RAW_VALUES:
                assert raw not in text, raw
            assert "“Muốn được giới thiệu việc làm” là “Có”" in text
            assert await page.locator(".prompt b", has_text="Nguyễn Văn An").count() >= 1
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 412  # phone-sized screen: nothing wider than the viewport
        finally:
            await browser.close()
