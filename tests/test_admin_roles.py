"""Role boundaries: every list, count, detail page and export is scoped to what a role may see."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models.admin import AuditEntry, CallbackRequest
from tests.admin_helpers import AdminEnv, admin_env, csrf_of, post_form
from tests.factories import make_person

KY_LUA, TAM_THANH = "6187", "5986"


@dataclass
class World:
    """Four people in two communes with different trades and sharing consent."""

    env: AdminEnv
    lan: int  # Kỳ Lừa, welding, shares
    minh: int  # Kỳ Lừa, driving, does not share, wants a call
    hoa: int  # Tam Thanh, welding, shares, wants a call
    tuan: int  # Tam Thanh, driving, shares


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with admin_env(tmp_path) as env:
        async with env.sessionmaker() as s:
            lan = await make_person(
                s, full_name="Lan", commune_code=KY_LUA, trades=("weld",), consent_sharing=True
            )
            minh = await make_person(
                s,
                full_name="Minh",
                commune_code=KY_LUA,
                trades=("drive_b",),
                answers={"wants_call": "yes"},
            )
            hoa = await make_person(
                s,
                full_name="Hoa",
                commune_code=TAM_THANH,
                trades=("drive_b", "weld"),
                consent_sharing=True,
                answers={"wants_call": "yes"},
            )
            tuan = await make_person(
                s,
                full_name="Tuan",
                commune_code=TAM_THANH,
                trades=("drive_b",),
                consent_sharing=True,
            )
            await s.commit()
            ids = (lan.id, minh.id, hoa.id, tuan.id)
        await env.user("boss", "admin")
        await env.user("prov", "provincial")
        await env.user("kylua", "commune", communes=[KY_LUA])
        await env.user("school", "institution", trades=["weld"])
        await env.user("look", "viewer")
        await env.user("coun", "counsellor")
        yield World(env, *ids)


def _names(html: str) -> set[str]:
    return {n for n in ("Lan", "Minh", "Hoa", "Tuan") if f">{n}</a>" in html}


async def _csv_names(client, **form: object) -> list[str]:  # type: ignore[no-untyped-def]
    data = {"fmt": "csv", "headers": "codes", **form}
    resp = await post_form(client, "/exports", "/exports/download", data)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    return sorted(r["full_name"] for r in rows)


async def test_commune_officer_sees_only_their_commune(world: World) -> None:
    client = await world.env.login("kylua")
    assert _names((await client.get("/people")).text) == {"Lan", "Minh"}
    assert (await client.get(f"/people/{world.lan}")).status_code == 200
    assert (await client.get(f"/people/{world.hoa}")).status_code == 404  # guessed id
    assert (await client.get("/people/999999")).status_code == 404
    # asking for another commune in the filter gives nobody
    assert _names((await client.get(f"/people?commune={TAM_THANH}")).text) == set()
    dash = (await client.get("/")).text
    assert '<div class="tile"><b>2</b>' in dash  # people reached in their commune only


async def test_commune_officer_export_holds_only_their_commune(world: World) -> None:
    client = await world.env.login("kylua")
    assert await _csv_names(client) == ["Lan", "Minh"]
    assert await _csv_names(client, commune=TAM_THANH) == []
    async with world.env.sessionmaker() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "export.csv"))
    assert entry is not None and entry.actor == "user:kylua"
    assert entry.detail["rows"] == 2 and entry.detail["communes"] == [KY_LUA]


async def test_commune_officer_cannot_touch_other_communes_callbacks(world: World) -> None:
    client = await world.env.login("kylua")
    page = (await client.get("/callbacks")).text
    assert "Minh" in page and "Hoa" not in page
    resp = await post_form(client, "/callbacks", f"/callbacks/{world.hoa}", {"note": "x"})
    assert resp.status_code == 404


async def test_provincial_reads_all_and_exports_but_no_admin_pages(world: World) -> None:
    client = await world.env.login("prov")
    assert _names((await client.get("/people")).text) == {"Lan", "Minh", "Hoa", "Tuan"}
    assert await _csv_names(client) == ["Hoa", "Lan", "Minh", "Tuan"]
    assert (await client.get("/accounts")).status_code == 403
    assert (await client.get("/audit")).status_code == 403
    resp = await post_form(client, "/callbacks", f"/callbacks/{world.hoa}", {"action": "done"})
    assert resp.status_code == 403


async def test_viewer_sees_dashboards_only(world: World) -> None:
    client = await world.env.login("look")
    assert (await client.get("/")).status_code == 200
    assert (await client.get("/survey")).status_code == 200
    for path in ("/people", f"/people/{world.lan}", "/exports", "/callbacks", "/accounts"):
        assert (await client.get(path)).status_code == 403, path
    page = (await client.get("/")).text  # a valid CSRF token does not make an export allowed
    resp = await client.post("/exports/download", data={"csrf_token": csrf_of(page), "fmt": "csv"})
    assert resp.status_code == 403


async def test_institution_sees_matching_and_consenting_only(world: World) -> None:
    client = await world.env.login("school")
    # Lan (weld, shares) and Hoa (weld 2nd choice, shares); Minh no consent, Tuan other trade
    assert _names((await client.get("/people")).text) == {"Lan", "Hoa"}
    assert (await client.get(f"/people/{world.tuan}")).status_code == 404
    assert (await client.get(f"/people/{world.minh}")).status_code == 404
    assert await _csv_names(client) == ["Hoa", "Lan"]
    assert await _csv_names(client, trade="drive_b") == []  # not a trade they teach
    assert (await client.get("/callbacks")).status_code == 403


async def test_counsellor_sees_callbacks_and_assigned_people(world: World) -> None:
    env = world.env
    client = await env.login("coun")
    page = (await client.get("/callbacks")).text
    assert "Minh" in page and "Hoa" in page
    assert (await client.get(f"/people/{world.minh}")).status_code == 404  # not assigned yet
    resp = await post_form(client, "/callbacks", f"/callbacks/{world.minh}", {"action": "take"})
    assert resp.status_code == 303
    assert (await client.get(f"/people/{world.minh}")).status_code == 200
    assert _names((await client.get("/people")).text) == {"Minh"}
    assert (await client.get(f"/people/{world.hoa}")).status_code == 404
    assert (await client.get("/exports")).status_code == 403
    resp = await post_form(
        client, "/callbacks", f"/callbacks/{world.minh}", {"action": "done", "note": "Đã gọi"}
    )
    assert resp.status_code == 303
    async with env.sessionmaker() as s:
        cb = await s.scalar(select(CallbackRequest).where(CallbackRequest.person_id == world.minh))
    assert cb is not None and cb.done_by == "coun" and cb.note == "Đã gọi"
    assert "Minh" not in (await client.get("/callbacks")).text  # done ones hidden by default


async def test_admin_only_pages(world: World) -> None:
    for name in ("prov", "kylua", "school", "look", "coun"):
        client = await world.env.login(name)
        assert (await client.get("/audit")).status_code == 403, name
        assert (await client.get("/accounts")).status_code == 403, name
    admin = await world.env.login("boss")
    assert (await admin.get("/audit")).status_code == 200
    assert (await admin.get("/accounts")).status_code == 200
