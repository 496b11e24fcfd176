"""A plain-http trial in a real browser (Debian's headless Chromium): `xuatngu admin serve` on a
non-local address with Secure cookies (the default) tells why login cannot work and what to set;
the same server at 127.0.0.1, where browsers keep Secure cookies, logs in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ARTIFACTS, REQUIRE_SERVICES, free_port

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
XUATNGU = str(Path(sys.executable).parent / "xuatngu")
PASSWORD = "trial password 1"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.browser


def own_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(sock.getsockname()[0])
    return None if address.startswith("127.") else address


@pytest.fixture
def trial_server(tmp_path: Path) -> Iterator[int]:
    """`xuatngu admin serve` on every address with the default COOKIE_SECURE; stopped by pid."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("COOKIE_SECURE", "BOT_TOKEN")}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/trial.sqlite3")
    made = subprocess.run(
        [XUATNGU, "admin", "create-user", "officer", "--role", "viewer", "--password-stdin"],
        env=env,
        input=PASSWORD,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [XUATNGU, "admin", "serve", "--host", "0.0.0.0", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "admin serve never answered"
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


async def test_plain_http_trial_in_chromium(trial_server: int) -> None:
    if not HAVE_CHROMIUM:
        if REQUIRE_SERVICES:
            pytest.fail("Debian chromium is missing")
        pytest.skip("Debian chromium not installed (apt-get install chromium)")
    address = own_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"http://{address}:{trial_server}/login")
            assert "COOKIE_SECURE=false" in await page.locator("#cookies-lost").inner_text()
            await page.fill("input[name=username]", "officer")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_load_state()
            text = await page.locator("main, body").first.inner_text()
            assert "COOKIE_SECURE=false" in text and "https" in text
            assert "Không có quyền" not in text
            await page.screenshot(path=str(ARTIFACTS / "login-plain-http.png"), full_page=True)

            local = await browser.new_page()  # the same server, at 127.0.0.1: it just works
            await local.goto(f"http://127.0.0.1:{trial_server}/login")
            assert await local.locator("#cookies-lost").count() == 0
            await local.fill("input[name=username]", "officer")
            await local.fill("input[name=password]", PASSWORD)
            await local.click("button[type=submit]")
            await local.wait_for_url(f"http://127.0.0.1:{trial_server}/")
            assert await local.locator("form[action='/logout']").count() == 1
        finally:
            await browser.close()
