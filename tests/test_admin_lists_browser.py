"""Real browser (Debian's headless Chromium): the commune pickers' search box, the export page's
sharing filter and words in the file, the duplicate-phone warning, the audit log and dashboard
labels that are not cut short. Screenshots go to the test's tmp dir."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.admin_helpers import PASSWORD, AdminEnv, serve_admin
from tests.factories import make_person
from tests.test_admin_browser import CHROMIUM, CHROMIUM_ARGS

KY_LUA, TAM_THANH, DONG_KINH = "6187", "5986", "5977"
LONG_TRADES = ("solar", "hospitality", "agri_machine", "drive_cd", "delivery")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed (/usr/bin/chromium)"
    ),
]


async def _seed(env: AdminEnv) -> None:
    communes = (KY_LUA, KY_LUA, TAM_THANH, DONG_KINH)
    async with env.sessionmaker() as s:
        for i in range(12):
            await make_person(
                s,
                full_name=f"Người thử {i}",
                phone="+84911111111" if i < 2 else f"+8491200{i:04d}",
                commune_code=communes[i % 4],
                trades=(LONG_TRADES[i % 5], LONG_TRADES[(i + 1) % 5]),
                consent_sharing=i % 3 == 0,
            )
        await s.commit()
    await env.user("boss", "admin")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The seeded admin app in a thread (see ``serve_admin``)."""
    with serve_admin(tmp_path, _seed) as url:
        yield url


def _visible(page: Any, select: str) -> list[str]:
    """Texts of the options of ``select`` a person can see."""
    script = "s => Array.from(s.options).filter(o => !o.hidden).map(o => o.text)"
    return list(page.eval_on_selector(select, script))


def _login(context: Any, server: str) -> Any:
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    return page


def test_pickers_search_exports_people_audit_and_dashboard(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            phone = browser.new_context(viewport={"width": 412, "height": 915})
            page = _login(phone, server)

            # exports: the 65-commune picker narrows as one types, accents or not
            page.goto(f"{server}/exports")
            communes = "select[name=commune]"
            search = page.locator("label:has(select[name=commune]) input.picker-search")
            assert len(_visible(page, communes)) == 65
            search.fill("ky lua")
            assert _visible(page, communes) == ["Phường Kỳ Lừa"]
            search.fill("ĐÔNG")
            assert _visible(page, communes) == ["Phường Đông Kinh", "Xã Đồng Đăng"]
            search.fill("van  xa")  # every word, in any order; Văn, Vân and Vạn alike
            assert _visible(page, communes) == [
                "Xã Hoàng Văn Thụ",
                "Xã Tân Văn",
                "Xã Vân Nham",
                "Xã Văn Lãng",
                "Xã Văn Quan",
                "Xã Vạn Linh",
            ]
            search.fill("ky lua")
            page.select_option(communes, KY_LUA)
            search.press("Enter")  # Enter in the search box does not send the form
            assert page.url == f"{server}/exports"
            page.click("#export-filter button[type=submit]")
            page.wait_for_url(f"{server}/exports?*")
            assert f"commune={KY_LUA}" in page.url
            assert page.inner_text("#row-count") == "6"
            page.check("#sharing-only")
            page.click("#export-filter button[type=submit]")
            page.wait_for_url("**sharing_only=true**")
            assert page.inner_text("#row-count") == "2"  # people 0 and 9 of Kỳ Lừa share
            page.screenshot(path=str(shots / "exports.png"), full_page=True)
            with page.expect_download() as info:
                page.click("#download-xlsx")
            target = tmp_path / info.value.suggested_filename
            info.value.save_as(target)
            sheet = openpyxl.load_workbook(io.BytesIO(target.read_bytes())).active
            assert sheet is not None and sheet.max_row == 3
            assert [c.value for c in sheet[1]][:3] == ["Mã Telegram", "Họ và tên", "Số điện thoại"]
            assert sheet["C2"].value == "0911 111 111" and sheet["C2"].data_type == "s"

            # people: the single commune list has the box too; "All" stays; duplicates flagged
            page.goto(f"{server}/people")
            page.locator("label:has(select[name=commune]) input.picker-search").fill("tam thanh")
            assert _visible(page, "select[name=commune]") == ["Tất cả", "Phường Tam Thanh"]
            assert page.locator("a.dup-phone").count() == 2
            assert page.evaluate("document.documentElement.scrollWidth") <= 412
            page.screenshot(path=str(shots / "people.png"), full_page=True)

            page.goto(f"{server}/audit")
            assert "Đăng nhập thành công" in page.inner_text("table")
            page.screenshot(path=str(shots / "audit.png"), full_page=True)

            # dashboard: every chart label readable in full, its whole name in the title
            page.goto(f"{server}/")
            labels = page.eval_on_selector_all(
                ".bar-label",
                "els => els.map(e => [e.textContent, e.title, e.scrollWidth <= e.clientWidth"
                " && e.scrollHeight <= e.clientHeight + 1])",
            )
            assert len(labels) >= 10
            cut = [text for text, _title, fits in labels if not fits]
            assert cut == []
            solar = next(lab for lab in labels if lab[1].startswith("Lắp đặt"))
            assert solar[0] == "Lắp đặt, bảo trì điện mặt trời"
            assert solar[1] == "Lắp đặt, bảo trì điện mặt trời (năng lượng tái tạo)"
            assert page.evaluate("document.documentElement.scrollWidth") <= 412
            page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

            # without JavaScript the picker is the plain list, and it still works
            plain = browser.new_context(java_script_enabled=False)
            page = _login(plain, server)
            page.goto(f"{server}/exports")
            assert page.locator("input.picker-search").count() == 0
            page.select_option("select[name=commune]", TAM_THANH)
            page.click("#export-filter button[type=submit]")
            page.wait_for_url(f"{server}/exports?*")
            assert page.inner_text("#row-count") == "3"
        finally:
            browser.close()
