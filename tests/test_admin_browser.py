"""Real browser (Debian's headless Chromium): log in, open the dashboard, download an export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.admin_helpers import PASSWORD, AdminEnv, serve_admin
from tests.factories import make_person

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed (/usr/bin/chromium)"
    ),
]


async def _seed(env: AdminEnv) -> None:
    trades = [("weld", "drive_b"), ("drive_b",), ("auto_repair", "weld"), ("delivery",)]
    async with env.sessionmaker() as s:
        for i in range(12):
            await make_person(
                s, full_name=f"Người thử {i}", trades=trades[i % 4], consent_sharing=i % 2 == 0
            )
        await s.commit()
    await env.user("boss", "admin")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The seeded admin app in a thread (see ``serve_admin``)."""
    with serve_admin(tmp_path, _seed) as url:
        yield url


def test_login_dashboard_and_export_in_chromium(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 412, "height": 915}).new_page()
            page.goto(f"{server}/people")
            assert "/login" in page.url
            page.fill("input[name=username]", "boss")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/people")
            page.goto(f"{server}/")
            assert page.locator(".tile b").first.inner_text() == "12"
            assert page.locator("svg.bar").count() >= 5
            # phone-sized screen: nothing wider than the viewport
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 412
            page.screenshot(path=str(ARTIFACTS / "admin_dashboard.png"), full_page=True)
            page.goto(f"{server}/exports")
            with page.expect_download() as info:
                page.click("#download-xlsx")
            target = tmp_path / info.value.suggested_filename
            info.value.save_as(target)
            assert target.suffix == ".xlsx" and target.stat().st_size > 1000
            assert target.read_bytes()[:2] == b"PK"
        finally:
            browser.close()
