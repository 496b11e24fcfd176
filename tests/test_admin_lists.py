"""Lists officials read, on SQLite and PostgreSQL: the duplicate-phone warning in the people list
and the audit log in words (stored codes, shown as sentences)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage.audit import audit
from tests.admin_helpers import AdminEnv, admin_env, post_form, post_login
from tests.factories import make_person

KY_LUA, TAM_THANH = "6187", "5986"
SAME = "Trùng số điện thoại"
ROW = re.compile(r'<tr>\s*<td data-label=[^>]*><a href="/people/\d+">(.*?)</a>(.*?)</tr>', re.S)


@pytest.fixture
async def env(any_db_url: str, tmp_path: Path) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path, db_url=any_db_url) as e:
        yield e


def _rows(html: str) -> dict[str, str]:
    """People list rows by the person's name."""
    return dict(ROW.findall(html))


async def test_people_sharing_a_phone_number_are_flagged(env: AdminEnv) -> None:
    async with env.sessionmaker() as s:
        await make_person(s, full_name="An", phone="+84911111111")
        await make_person(s, full_name="Bảo", phone="+84911111111")
        await make_person(s, full_name="Chi", phone="0911111111")  # the same, not normalised
        await make_person(s, full_name="Dũng", phone="+84922222222")
        await make_person(s, full_name="Đã xóa", phone="+84922222222", erased=True)
        await make_person(s, full_name="Em", phone=None)
        await make_person(s, full_name="Giang", phone="+84933333333", commune_code=TAM_THANH)
        await make_person(s, full_name="Hà", phone="+84933333333", commune_code=KY_LUA)
        await s.commit()
    await env.user("boss", "admin")
    await env.user("kylua", "commune", communes=[KY_LUA])
    client = await env.login("boss")
    rows = _rows((await client.get("/people")).text)
    assert set(rows) == {"An", "Bảo", "Chi", "Dũng", "Em", "Giang", "Hà"}
    flagged = {name for name, row in rows.items() if SAME in row}
    assert flagged == {"An", "Bảo", "Chi", "Giang", "Hà"}  # an erased person does not count
    assert "3 người cùng khai số điện thoại này" in rows["Chi"]
    assert "2 người cùng khai số điện thoại này" in rows["Hà"]
    link = re.search(r'class="dup-phone" href="([^"]+)"', rows["An"])
    assert link is not None
    same_number = _rows((await client.get(link.group(1))).text)
    assert set(same_number) == {"An", "Bảo", "Chi"}
    # a commune officer is warned about people they can see, never about others' people
    officer = await env.login("kylua")
    rows = _rows((await officer.get("/people")).text)
    assert SAME in rows["An"] and "Giang" not in rows and SAME not in rows["Hà"]
    await client.get("/lang/en")
    assert "Same phone" in (await client.get("/people")).text


async def test_audit_log_reads_in_words(env: AdminEnv) -> None:
    async with env.sessionmaker() as s:
        person = await make_person(
            s, full_name="Hoàng Văn Bình", answers={"wants_call": "yes"}, consent_sharing=True
        )
        await audit(s, actor="bot", action="erasure", detail={"by": "person"})
        await audit(
            s,
            actor="cli",
            action="account.created",
            detail={"username": "xa1", "role": "commune", "communes": [KY_LUA], "trades": []},
        )
        await audit(s, actor="api:crm", action="some.new_action", detail={"count": 3})
        await s.commit()
    await env.user("boss", "admin")
    assert (await post_login(env.client(), "boss", "wrong password!")).status_code == 401
    env.advance(timedelta(seconds=1))  # a wrong password: this address waits a second
    client = await env.login("boss")
    await post_form(client, "/callbacks", f"/callbacks/{person.id}", {"note": "Đã gọi"})
    await post_form(client, "/exports", "/exports/download", {"fmt": "csv", "sharing_only": "true"})
    html = (await client.get("/audit")).text
    table = html[html.index("<table") : html.index("</table>")]
    for words in (
        "Đăng nhập thành công",
        "Đăng nhập không thành công",
        "sai tên đăng nhập hoặc mật khẩu",
        "Đã gọi lại xong",
        "Xuất tệp CSV",
        "1 người",
        "tất cả xã/phường",
        "chỉ người đồng ý chia sẻ cho trường nghề",
        "Tạo tài khoản",
        "tài khoản xa1",
        "vai trò: Cấp xã",
        "xã/phường: Phường Kỳ Lừa",
        "Dòng lệnh",
        "crm (API)",
        "Một người tự xóa dữ liệu của mình",
        "theo yêu cầu của chính người đó",
    ):
        assert words in table, words
    assert f'<a href="/people/{person.id}">hồ sơ số {person.id}</a>' in table
    for raw in (
        "login.succeeded",
        "callback.done",
        "export.csv",
        "person_id",
        "{",
        "'",
        "user:boss",
    ):
        assert raw not in table, raw
    assert "some.new_action" in table and "count: 3" in table  # not known yet: shown as stored
    # the filter is a list of words too, and still filters by the stored codes
    logins = (await client.get("/audit?action=login")).text
    assert '<option value="login" selected>Đăng nhập</option>' in logins
    assert "Đăng nhập thành công" in logins and "Xuất tệp CSV" not in logins
    await client.get("/lang/en")
    english = (await client.get("/audit")).text
    assert "Login succeeded" in english and "wrong username or password" in english
