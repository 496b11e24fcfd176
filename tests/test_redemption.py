"""Redemption of training cards by an institution (admin pages, SQLite and PostgreSQL): the
checks and their reasons, the redemption with a tick or a scan, a second one refused, the
course finished or dropped moving the person's enrolment and the KPI, and scoping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import get_settings
from bot.reporting.kpi import compute_kpis
from storage.models.admin import AuditEntry
from storage.models.cards import TrainingCard
from storage.models.catalog import Enrolment
from tests.admin_helpers import admin_env, csrf_of
from tests.redemption_helpers import (
    DISCHARGE,
    PDF,
    World,
    build_world,
    local_today,
    make_card,
    outcomes,
    post_redeem,
    stored,
)


@pytest.fixture
async def world(any_db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    db_url = None if any_db_url.startswith("sqlite") else any_db_url
    async with admin_env(tmp_path, db_url=db_url) as env:
        yield await build_world(env)


async def card(world: World, number: str, **fields: Any) -> int:
    async with world.env.sessionmaker() as s:
        row = await make_card(s, number, **fields)
        await s.commit()
        return row.id


async def get_card(world: World, card_id: int) -> TrainingCard:
    async with world.env.sessionmaker() as s:
        found = await s.get(TrainingCard, card_id)
    assert found is not None
    return found


async def trained(world: World) -> int:
    async with world.env.sessionmaker() as s:
        report = await compute_kpis(s, year=DISCHARGE.year, tz=get_settings().tz)
    return report.trained


async def test_lookup_redeem_with_tick_then_finish(world: World) -> None:
    env = world.env
    card_id = await card(world, "QK1-0001", birth=date(2004, 5, 6))
    school = await env.login("school_a")
    # look up by the person (folded name, no diacritics) among the institution's people
    found = await school.get(
        f"/redemptions/{world.school_a}/redeem", params={"q": "nguyen van anh"}
    )
    assert found.status_code == 200
    assert f"person_id={world.person_id}" in found.text
    assert "Lý Văn Bảo" not in found.text  # on school B's list only
    page = await school.get(
        f"/redemptions/{world.school_a}/redeem", params={"person_id": world.person_id}
    )
    assert "QK1-0001" in page.text and 'id="confirm"' in page.text
    assert "Thẻ còn hạn hôm nay." in page.text
    assert "Hàn trung cấp" in page.text and "Trung cấp (1–2 năm)" in page.text
    assert await trained(world) == 0
    # the institution's list links each person to this page
    listing = await school.get(f"/institution-lists/{world.school_a}")
    assert f"/redemptions/{world.school_a}/redeem?person_id={world.person_id}" in listing.text
    # by number: a card linked to nobody yet asks for the person
    by_number = await school.get(
        f"/redemptions/{world.school_a}/redeem", params={"number": "QK1-0001"}
    )
    assert 'id="find-person"' in by_number.text and 'id="confirm"' not in by_number.text

    resp = await post_redeem(
        school,
        world.school_a,
        await get_card(world, card_id),
        world.person_id,
        world.course_a,
        birth_date="2004-05-06",
    )
    assert resp.status_code == 303, resp.text
    status, rows = await stored(env, card_id)
    assert status == "redeemed" and len(rows) == 1
    row = rows[0]
    assert (row.declaration, row.declared_to) == ("tick", "Cán bộ Hoàng Thị Mai")
    assert (row.course_days, row.tuition_vnd, row.start_date) == (
        60,
        3_000_000,
        local_today(world.env),
    )
    assert (row.institution_id, row.person_id, row.redeemed_by) == (
        world.school_a,
        world.person_id,
        "user:school_a",
    )
    assert (await get_card(world, card_id)).person_id == world.person_id  # linked
    assert await outcomes(env, world.person_id) == ["in_training"]
    assert await trained(world) == 1
    listing = await school.get(f"/redemptions/{world.school_a}")
    assert "QK1-0001" in listing.text and "Hàn điện sơ cấp" in listing.text

    page = await school.get(f"/redemptions/{world.school_a}")
    end = await school.post(
        f"/redemptions/{world.school_a}/{row.id}/end",
        data={
            "csrf_token": csrf_of(page.text),
            "outcome": "finished",
            "day": local_today(world.env).isoformat(),
        },
    )
    assert end.status_code == 303, end.text
    _status, rows = await stored(env, card_id)
    assert rows[0].finished_on == local_today(world.env) and rows[0].days_attended == 60
    assert await outcomes(env, world.person_id) == ["in_training", "finished_training"]
    assert await trained(world) == 1
    async with env.sessionmaker() as s:
        enrol = await s.scalar(select(Enrolment).where(Enrolment.person_id == world.person_id))
        actions = set(await s.scalars(select(AuditEntry.action)))
    assert enrol is not None and (enrol.status, enrol.course_id) == ("finished", world.course_a)
    assert {"redemption.recorded", "redemption.finished", "enrolment.status"} <= actions
    again = await school.post(
        f"/redemptions/{world.school_a}/{row.id}/end",
        data={"csrf_token": csrf_of(page.text), "outcome": "dropped", "days_attended": "3"},
    )
    assert again.status_code == 409


async def test_scan_second_redemption_and_drop_out(world: World) -> None:
    env = world.env
    card_id = await card(world, "QK1-0002")
    school = await env.login("school_a")
    c = await get_card(world, card_id)
    bad = await post_redeem(
        school, world.school_a, c, world.person_id, world.course_a, scan=b"GIF89a not a scan"
    )
    assert bad.status_code == 400 and "PDF, JPEG hoặc PNG" in bad.text
    assert (await stored(env, card_id))[0] == "issued"
    # the institution enrolled him on its list first: the redemption keeps that step
    listed = await school.get(f"/institution-lists/{world.school_a}")
    enrol = await school.post(
        f"/institution-lists/{world.school_a}/people/{world.person_id}",
        data={"csrf_token": csrf_of(listed.text), "status": "enrolled"},
    )
    assert enrol.status_code == 303
    started = local_today(env) - timedelta(days=20)  # the course began 20 days ago
    resp = await post_redeem(
        school,
        world.school_a,
        c,
        world.person_id,
        world.course_a,
        scan=PDF,
        tuition_vnd="2500000",
        course_days="45",
        start_date=started.isoformat(),
    )
    assert resp.status_code == 303, resp.text
    _status, rows = await stored(env, card_id)
    assert (rows[0].declaration, rows[0].tuition_vnd, rows[0].course_days) == (
        "scan",
        2_500_000,
        45,
    )
    assert rows[0].start_date == started
    assert await outcomes(env, world.person_id) == ["in_training"]  # recorded once
    got = await school.get(f"/redemptions/{world.school_a}/{rows[0].id}/declaration")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    # the second redemption of the same card: refused with the day and the institution
    again = await post_redeem(school, world.school_a, c, world.person_id, world.course_a)
    assert again.status_code == 409
    assert (
        f"Thẻ đã được dùng ngày {local_today(env):%d/%m/%Y} tại Trường Cao đẳng Lạng Sơn"
        in again.text
    )
    assert len((await stored(env, card_id))[1]) == 1
    page = await school.get(f"/redemptions/{world.school_a}/redeem", params={"number": "QK1-0002"})
    assert "Thẻ đã được dùng ngày" in page.text and 'id="confirm"' not in page.text
    # drop-out: its date and days attended; the enrolment is dropped, still counted trained
    listing = await school.get(f"/redemptions/{world.school_a}")
    for too_many in ("46", "22"):  # more than the course, more than days since its start
        refused = await school.post(
            f"/redemptions/{world.school_a}/{rows[0].id}/end",
            data={
                "csrf_token": csrf_of(listing.text),
                "outcome": "dropped",
                "days_attended": too_many,
            },
        )
        assert refused.status_code == 400 and "từ 0 đến 21" in refused.text
    drop = await school.post(
        f"/redemptions/{world.school_a}/{rows[0].id}/end",
        data={
            "csrf_token": csrf_of(listing.text),
            "outcome": "dropped",
            "days_attended": "12",
            "day": local_today(world.env).isoformat(),
        },
    )
    assert drop.status_code == 303, drop.text
    _status, rows = await stored(env, card_id)
    assert (rows[0].dropped_on, rows[0].days_attended) == (local_today(world.env), 12)
    async with env.sessionmaker() as s:
        enrol = await s.scalar(select(Enrolment).where(Enrolment.person_id == world.person_id))
    assert enrol is not None and enrol.status == "dropped"
    assert await trained(world) == 1


@pytest.mark.parametrize(
    ("fields", "code", "reason"),
    [
        ({"valid_days": -1}, 400, "Thẻ chỉ có hạn đến ngày"),
        ({"status": "revoked", "revoked_reason": "cấp nhầm"}, 400, "Thẻ đã bị thu hồi: cấp nhầm"),
        ({"status": "expired"}, 400, "Thẻ đã hết hạn."),
        ({"holder_name": "Nguyễn Văn Bình"}, 400, "không phải tên của người này"),
        ({"holder_phone": "0977000111", "birth": date(2000, 1, 1)}, 400, "Cả số điện thoại"),
        ({"other_state_training": True}, 400, "Người giữ thẻ không đủ điều kiện"),
        ({"service_completed": False}, 400, "Người giữ thẻ không đủ điều kiện"),
    ],
)
async def test_refused_cards(
    world: World, fields: dict[str, object], code: int, reason: str
) -> None:
    card_id = await card(world, "QK1-0100", **fields)
    school = await world.env.login("school_a")
    page = await school.get(
        f"/redemptions/{world.school_a}/redeem",
        params={"person_id": world.person_id, "number": "QK1-0100", "birth_date": "2004-05-06"},
    )
    assert reason in page.text and 'id="confirm"' not in page.text
    resp = await post_redeem(
        school,
        world.school_a,
        await get_card(world, card_id),
        world.person_id,
        world.course_a,
        birth_date="2004-05-06",
    )
    assert resp.status_code == code and reason in resp.text
    status, rows = await stored(world.env, card_id)
    assert status == fields.get("status", "issued") and rows == []
    assert await outcomes(world.env, world.person_id) == []


async def test_course_must_be_own_and_eligible(world: World) -> None:
    card_id = await card(world, "QK1-0200")
    school = await world.env.login("school_a")
    c = await get_card(world, card_id)
    trung = await post_redeem(school, world.school_a, c, world.person_id, world.course_a_trung_cap)
    assert trung.status_code == 400 and "Trung cấp (1–2 năm)" in trung.text
    foreign = await post_redeem(school, world.school_a, c, world.person_id, world.course_b)
    assert foreign.status_code == 404
    assert (await stored(world.env, card_id)) == ("issued", [])


async def test_scoping(world: World) -> None:
    env = world.env
    mine = await card(world, "QK1-0300")
    theirs = await card(world, "QK2-0300", holder_name="Lý Văn Bảo", holder_phone="0987654321")
    a, b = await env.login("school_a"), await env.login("school_b")
    ok = await post_redeem(
        b, world.school_b, await get_card(world, theirs), world.other_id, world.course_b, scan=PDF
    )
    assert ok.status_code == 303, ok.text
    _s, rows = await stored(env, theirs)
    # school A neither sees B's redemptions nor its declaration, nor acts for B
    assert (await a.get(f"/redemptions/{world.school_b}")).status_code == 404
    assert (
        await a.get(f"/redemptions/{world.school_a}/{rows[0].id}/declaration")
    ).status_code == 404
    assert (
        await a.get(f"/redemptions/{world.school_b}/{rows[0].id}/declaration")
    ).status_code == 404
    assert "QK2-0300" not in (await a.get(f"/redemptions/{world.school_a}")).text
    refused = await post_redeem(
        a, world.school_b, await get_card(world, mine), world.person_id, world.course_b
    )
    assert refused.status_code == 404
    # B's person is not A's to redeem for; A's person not B's
    other = await post_redeem(
        a, world.school_a, await get_card(world, mine), world.other_id, world.course_a
    )
    assert other.status_code == 404
    assert (await stored(env, mine)) == ("issued", [])
    # the admin may act for any institution and sees B's declaration
    boss = await env.login("boss")
    assert (
        await boss.get(f"/redemptions/{world.school_b}/{rows[0].id}/declaration")
    ).content == PDF
    on_behalf = await post_redeem(
        boss, world.school_a, await get_card(world, mine), world.person_id, world.course_a
    )
    assert on_behalf.status_code == 303, on_behalf.text
    _s, mine_rows = await stored(env, mine)
    assert (mine_rows[0].institution_id, mine_rows[0].redeemed_by) == (world.school_a, "user:boss")
    log = await boss.get("/audit", params={"action": "redemption"})
    assert "Cơ sở đào tạo tiếp nhận thẻ học nghề" in log.text
    assert log.text.count("Tải bản cam kết đã ký") == 1  # only the admin's download
    assert (await a.get("/redemptions")).headers["location"] == f"/redemptions/{world.school_a}"
    bad = await a.get(f"/redemptions/{world.school_a}/redeem", params={"number": "NOPE"})
    assert bad.status_code == 404 and "Không có thẻ nào mang số này." in bad.text
    a.cookies.set("xa_lang", "en")
    bad = await a.get(f"/redemptions/{world.school_a}/redeem", params={"number": "NOPE"})
    assert bad.status_code == 404 and "No card with this number." in bad.text
    date_bad = await a.get(f"/redemptions/{world.school_a}/redeem", params={"birth_date": "x"})
    assert date_bad.status_code == 400


async def test_bad_input_is_refused_with_words(world: World) -> None:
    env = world.env
    card_id = await card(world, "QK1-0400")
    school = await env.login("school_a")
    c = await get_card(world, card_id)
    args = (school, world.school_a, c, world.person_id, world.course_a)
    no_name = await post_redeem(*args, declared_to="  ")
    assert no_name.status_code == 400 and "Hãy nhập tên cán bộ" in no_name.text
    no_file = await post_redeem(*args, declaration="scan")
    assert no_file.status_code == 400 and "Hãy tải lên bản cam kết" in no_file.text
    huge = await post_redeem(*args, scan=PDF + b"0" * (5 * 1024 * 1024))
    assert huge.status_code == 400 and "lớn hơn 5 MB" in huge.text
    assert (await post_redeem(*args, start_date="07/12/2026")).status_code == 400
    assert (await post_redeem(*args, course_days="many")).status_code == 422
    assert (await post_redeem(*args, course_days="400")).status_code == 422
    assert (await post_redeem(*args, tuition_vnd="-5")).status_code == 422
    assert (await stored(env, card_id)) == ("issued", [])
    assert (await post_redeem(*args)).status_code == 303
    _status, rows = await stored(env, card_id)
    listing = await school.get(f"/redemptions/{world.school_a}")
    end = f"/redemptions/{world.school_a}/{rows[0].id}/end"
    tomorrow = (local_today(env) + timedelta(days=1)).isoformat()
    for data, code in (
        ({"outcome": "finished", "day": tomorrow}, 400),
        ({"outcome": "finished", "day": "someday"}, 400),
        ({"outcome": "finished", "day": "2020-01-01"}, 400),  # before the course started
        ({"outcome": "dropped"}, 400),  # days attended missing
        ({"outcome": "paused"}, 400),
        ({"outcome": "dropped", "days_attended": "x"}, 422),
    ):
        resp = await school.post(end, data={"csrf_token": csrf_of(listing.text), **data})
        assert resp.status_code == code, (data, resp.text)
    assert (await school.get(f"/redemptions/{world.school_a}/99999/declaration")).status_code == 404
    _status, rows = await stored(env, card_id)
    assert (rows[0].finished_on, rows[0].dropped_on) == (None, None)
