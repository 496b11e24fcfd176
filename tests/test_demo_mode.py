"""Demo mode as a newcomer meets it: `xuatngu run` with no token, the web chat in a real browser."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from emulator import EmulatorClient
from tests.conftest import ARTIFACTS, REQUIRE_SERVICES, free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class Demo:
    chat_url: str
    admin_url: str
    workdir: Path
    log: Path


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """`xuatngu run` in an empty folder with no BOT_TOKEN; stopped by its pid."""
    demo_port, admin_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("BOT_TOKEN", "TELEGRAM_API_BASE", "DATABASE_URL", "REDIS_URL")
    }
    env.update(
        DEMO_PORT=str(demo_port),
        ADMIN_PORT=str(admin_port),
        COOKIE_SECURE="false",
        PYTHONPATH=str(ROOT),
    )
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "xuatngu is running" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield Demo(
            f"http://127.0.0.1:{demo_port}",
            f"http://127.0.0.1:{admin_port}",
            tmp_path,
            log,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    assert code == 0, log.read_text()


async def test_demo_mode_runs_everything_on_localhost(demo: Demo) -> None:
    text = demo.log.read_text()
    assert f"web chat at {demo.chat_url}/" in text and f"admin backend at {demo.admin_url}/" in text
    assert (demo.workdir / "data" / "xuatngu.sqlite3").exists()
    async with httpx.AsyncClient() as http:
        page = await http.get(demo.chat_url + "/")
        assert page.status_code == 200 and 'id="user-picker"' in page.text
        admin = await http.get(demo.admin_url + "/", follow_redirects=True)
        assert admin.status_code == 200
        # the demo admin account printed in the log opens the dashboard
        login = await http.get(demo.admin_url + "/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        form = {"username": "admin", "password": "xuatngu-demo", "csrf_token": token}
        signed_in = await http.post(demo.admin_url + "/login", data=form, follow_redirects=True)
        assert signed_in.status_code == 200 and "/logout" in signed_in.text
    async with EmulatorClient(demo.chat_url) as emu:
        user = emu.user(555, first_name="Demo", language_code="vi")
        reply = await user.ask("/start")
        assert "Xin chào" in reply.text
        reply = await user.click("📝 Bắt đầu khảo sát")
        assert "Đồng ý tất cả" in reply.button_texts


@pytest.mark.browser
async def test_web_chat_in_headless_chromium(demo: Demo) -> None:
    if not HAVE_CHROMIUM:
        if REQUIRE_SERVICES:
            pytest.fail("Debian chromium is missing (.ci/run installs it)")
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 420, "height": 800})
            await page.goto(demo.chat_url + "/")
            await page.fill("#composer", "/start")
            await page.click("#send")
            greeting = page.locator(".msg.bot", has_text="Xin chào")
            await greeting.first.wait_for(timeout=15_000)
            await page.locator(".inline-btn", has_text="Bắt đầu khảo sát").first.click()
            await page.locator(".msg.bot", has_text="Đồng ý tất cả").first.wait_for(timeout=15_000)
            await page.locator(".inline-btn", has_text="Đồng ý tất cả").first.click()
            await page.locator(".msg.bot", has_text="Câu 1/14").first.wait_for(timeout=15_000)
            await page.screenshot(path=str(ARTIFACTS / "webchat.png"), full_page=True)
        finally:
            await browser.close()
