"""Real browser (Debian's headless Chromium): a counsellor opens the questions inbox and replies;
the person gets the reply in the bot (the whole product runs against the Bot API emulator)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from admin.accounts import create_user
from bot.app import BotApp
from emulator import EmulatedUser, Emulator, EmulatorClient, RateLimits
from tests.admin_helpers import PASSWORD
from tests.conftest import make_settings
from tests.factories import make_person
from tests.test_admin_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

T = TypeVar("T")
TAM_THANH = "5986"
QUESTION = "Khi nào xã mình mở lớp dạy lái máy xúc vậy ạ?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed (/usr/bin/chromium)"
    ),
]


@dataclass
class Product:
    """The bot with its admin backend and the emulator, on an event loop in another thread."""

    loop: asyncio.AbstractEventLoop
    admin_url: str
    user: EmulatedUser

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)


@pytest.fixture
def product(tmp_path: Path) -> Iterator[Product]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    emu = Emulator(RateLimits.off())
    base = run(emu.start(host="127.0.0.1", port=0))
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path}/test.sqlite3", base)
    app = BotApp(settings, with_admin=True, with_scheduler=False)
    client = EmulatorClient(base)
    try:
        run(app.start())

        async def seed() -> None:
            assert app.sessionmaker is not None
            async with app.sessionmaker() as s:
                await make_person(s, telegram_user_id=5001, commune_code=TAM_THANH, trades=())
                await create_user(s, "tuvan", PASSWORD, "counsellor", (TAM_THANH,))
                await s.commit()

        run(seed())
        user = client.user(5001, first_name="Tâm")
        run(user.ask("/ask"))
        assert "Đã gửi câu hỏi" in run(user.ask(QUESTION)).text
        yield Product(loop, f"http://127.0.0.1:{settings.admin_port}", user)
    finally:
        run(app.stop())
        run(client.close())
        run(emu.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_counsellor_replies_from_the_inbox_in_chromium(product: Product) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    server = product.admin_url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 412, "height": 915}).new_page()
            page.goto(f"{server}/questions")
            page.fill("input[name=username]", "tuvan")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/questions")
            card = page.locator("section.question").first
            assert QUESTION in card.inner_text() and "Phường Tam Thanh" in card.inner_text()
            assert page.locator("nav a.on").inner_text() == "Câu hỏi"
            card.locator("textarea").fill("Tháng 10 có lớp ở xã Tuấn Sơn. Bạn gọi 0205 3xx xxxx.")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 412  # a phone-sized screen: nothing wider than the viewport
            page.screenshot(path=str(ARTIFACTS / "admin_questions_open.png"), full_page=True)
            card.locator("button[type=submit]").click()
            page.wait_for_url(f"{server}/questions#q*")
            assert "Không có câu hỏi nào." in page.inner_text("main")
            page.goto(f"{server}/questions?show=answered")
            answered = page.locator("section.question").first.inner_text()
            assert (
                "tuvan trả lời lúc" in answered
                and "user:" not in answered
                and "đã tới người hỏi" in answered
            )
            page.screenshot(path=str(ARTIFACTS / "admin_questions_answered.png"), full_page=True)
        finally:
            browser.close()
    message = product.run(product.user.wait_messages(2))[-1]  # after "Đã gửi câu hỏi"
    assert message.text is not None and "Tháng 10 có lớp ở xã Tuấn Sơn" in message.text
