"""A counsellor in a real browser (Debian's headless Chromium) composes a broadcast, previews
it as the phone shows it, sends it to one commune and watches the live report fill up, while
the whole bot (polling, outbox sender, admin) runs against the Bot API emulator."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from admin.accounts import create_user
from bot.app import BotApp
from emulator import Emulator, RateLimits
from tests.admin_helpers import PASSWORD
from tests.broadcast_helpers import add_recipients, daytime, open_chats
from tests.conftest import make_settings
from tests.test_admin_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed (/usr/bin/chromium)"
    ),
]
HERE = [f"{n}" for n in range(90_001, 90_041)]
THERE = range(90_101, 90_111)


@dataclass
class Running:
    """The bot and the emulator in a thread of their own; ``admin`` is the admin's URL."""

    tmp: Path
    admin: str = ""
    emu: Emulator | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    failed: list[BaseException] = field(default_factory=list)

    async def main(self) -> None:
        emu = Emulator(RateLimits())
        base = await emu.start()
        settings = make_settings(
            f"sqlite+aiosqlite:///{self.tmp / 'bot.sqlite3'}", base, send_rate=10, **daytime()
        )
        app = BotApp(settings, with_scheduler=False)
        try:
            await app.start()
            assert app.side_sessionmaker is not None
            sessions = app.side_sessionmaker
            await add_recipients(sessions, [int(c) for c in HERE])
            await add_recipients(sessions, list(THERE), home_commune_code="6190")
            open_chats(emu, [int(c) for c in HERE] + list(THERE))
            async with sessions() as s:
                await create_user(s, "canbo", PASSWORD, "provincial")
                await s.commit()
            self.admin, self.emu = f"http://127.0.0.1:{settings.admin_port}", emu
            self.ready.set()
            await asyncio.to_thread(self.stop.wait)
        finally:
            await app.stop()
            await emu.stop()

    def run(self) -> None:
        try:
            asyncio.run(self.main())
        except BaseException as exc:  # reported to the test, which fails with it
            self.failed.append(exc)
            self.ready.set()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    state = Running(tmp_path)
    thread = threading.Thread(target=state.run, daemon=True)
    thread.start()
    assert state.ready.wait(30) and not state.failed, state.failed
    try:
        yield state
    finally:
        state.stop.set()
        thread.join(timeout=20)


def test_compose_preview_send_and_watch_the_report(running: Running) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    server = running.admin
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 412, "height": 915}).new_page()
            page.goto(f"{server}/broadcasts")
            page.fill("input[name=username]", "canbo")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/broadcasts")
            page.click("#new-broadcast")
            page.fill(
                "textarea[name=text_vi]",
                "Ngày hội việc làm <b>thứ Bảy 5/12</b> tại nhà văn hóa xã.\nMời bạn đến!",
            )
            page.fill("textarea[name=text_en]", "Job fair on <b>Saturday 5/12</b>.")
            page.select_option("select[name=commune]", "6187")
            page.click("#preview-button")
            expect(page.locator("#recipient-count")).to_have_text("40")
            bold = page.locator("#preview .bubble-text b").first
            expect(bold).to_have_text("thứ Bảy 5/12")
            assert page.evaluate("document.documentElement.scrollWidth") <= 412
            # the preview follows the typing
            page.fill("textarea[name=text_vi]", "Ngày hội việc làm <i>thứ Bảy</i>")
            expect(page.locator("#preview .bubble-text i").first).to_have_text("thứ Bảy")
            page.screenshot(path=str(ARTIFACTS / "broadcast_compose.png"), full_page=True)
            page.click("#send-button")
            page.wait_for_url(f"{server}/broadcasts/*")
            sent = page.locator("#r-sent")
            expect(sent).not_to_have_text("0", timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "broadcast_sending.png"), full_page=True)
            expect(sent).to_have_text("40", timeout=20_000)
            expect(page.locator("#status")).to_contain_text("Đã xong", timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "broadcast_report.png"), full_page=True)
        finally:
            browser.close()
    assert running.emu is not None
    delivered = running.emu.core.delivered()
    assert all(delivered[int(c)] == 1 for c in HERE)
    assert not any(delivered[c] for c in THERE)
