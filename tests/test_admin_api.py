"""REST API: bearer tokens and their scopes, paging, KPIs, OpenAPI, and a schemathesis run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from storage.models.admin import ApiClient
from storage.models.core import Person
from storage.models.timeline import Outcome
from tests.admin_helpers import AdminEnv, admin_env
from tests.factories import make_person

KY_LUA, TAM_THANH = "6187", "5986"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[AdminEnv]:
    async with admin_env(tmp_path) as e:
        async with e.sessionmaker() as s:
            for i in range(5):
                await make_person(s, full_name=f"KL{i}", commune_code=KY_LUA, trades=("weld",))
            p = await make_person(
                s, full_name="TT", commune_code=TAM_THANH, trades=("drive_b", "weld")
            )
            s.add(Outcome(person_id=p.id, status="employed_in_trade", status_date=date(2026, 5, 1)))
            await s.commit()
        yield e


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_missing_or_wrong_token_is_401(env: AdminEnv) -> None:
    client = env.client()
    assert (await client.get("/api/people")).status_code == 401
    resp = await client.get("/api/people", headers=_auth("xa_nonsense"))
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


async def test_provincial_token_pages_through_everyone(env: AdminEnv) -> None:
    client = env.client(**_auth(await env.token("crm", "provincial")))
    first = (await client.get("/api/people?page=1&page_size=4")).json()
    second = (await client.get("/api/people?page=2&page_size=4")).json()
    assert first["total"] == 6 and len(first["items"]) == 4 and len(second["items"]) == 2
    ids = {p["id"] for p in first["items"]} | {p["id"] for p in second["items"]}
    assert len(ids) == 6
    assert (await client.get("/api/people?page_size=500")).status_code == 422


async def test_commune_token_is_scoped(env: AdminEnv) -> None:
    client = env.client(**_auth(await env.token("kl", "commune", communes=[KY_LUA])))
    body = (await client.get("/api/people?page_size=50")).json()
    assert body["total"] == 5
    assert {p["home_commune_code"] for p in body["items"]} == {KY_LUA}
    tt = (await env.client(**_auth(await env.token("all", "admin"))).get("/api/people")).json()
    other = next(p["id"] for p in tt["items"] if p["home_commune_code"] == TAM_THANH)
    assert (await client.get(f"/api/people/{other}")).status_code == 404
    mine = body["items"][0]["id"]
    detail = (await client.get(f"/api/people/{mine}")).json()
    assert detail["preferences"][0]["trade_code"] == "weld"


async def test_viewer_token_gets_kpis_but_no_people(env: AdminEnv) -> None:
    client = env.client(**_auth(await env.token("stats", "viewer")))
    assert (await client.get("/api/people")).status_code == 403
    assert (await client.get("/api/people/1")).status_code == 403
    kpis = (await client.get("/api/kpis?year=2026")).json()
    assert kpis["year"] == 2026
    by_key = {k["key"]: k for k in kpis["kpis"]}
    assert by_key["returnees"]["numerator"] == 6  # everyone was discharged in 2026
    assert by_key["counselled_before_return"]["denominator"] == 6
    assert by_key["trained"]["target"] == 0.6
    assert by_key["helped_into_work_after_training"]["target"] == 0.7
    other_year = (await client.get("/api/kpis?year=2020")).json()
    assert {k["key"]: k for k in other_year["kpis"]}["returnees"]["numerator"] == 0


async def test_institution_token_sees_sharing_people_of_its_trades(env: AdminEnv) -> None:
    async with env.sessionmaker() as s:
        await s.execute(
            update(Person).where(Person.full_name.in_(["KL0", "TT"])).values(consent_sharing=True)
        )
        await s.commit()
    client = env.client(**_auth(await env.token("school", "institution", trades=["drive_b"])))
    body = (await client.get("/api/people")).json()
    assert [p["full_name"] for p in body["items"]] == ["TT"]


async def test_updated_since(env: AdminEnv) -> None:
    client = env.client(**_auth(await env.token("crm", "admin")))
    async with env.sessionmaker() as s:
        await s.execute(update(Person).values(updated_at=datetime(2025, 1, 1, tzinfo=UTC)))
        await s.execute(
            update(Person)
            .where(Person.full_name == "TT")
            .values(updated_at=datetime(2026, 3, 1, tzinfo=UTC))
        )
        await s.commit()
    body = (await client.get("/api/people?updated_since=2026-01-01T00:00:00")).json()
    assert [p["full_name"] for p in body["items"]] == ["TT"]
    body = (await client.get("/api/people?updated_since=2026-01-01T07:00:00%2B07:00")).json()
    assert body["total"] == 1


async def test_deactivated_token_stops_working(env: AdminEnv) -> None:
    token = await env.token("crm", "admin")
    client = env.client(**_auth(token))
    assert (await client.get("/api/people")).status_code == 200
    async with env.sessionmaker() as s:
        await s.execute(update(ApiClient).values(active=False))
        await s.commit()
    env.advance(timedelta(seconds=1))
    assert (await client.get("/api/people")).status_code == 401


async def test_openapi_document_lists_only_the_api(env: AdminEnv) -> None:
    doc = (await env.client().get("/api/openapi.json")).json()
    assert set(doc["paths"]) == {
        "/api/people",
        "/api/people/{person_id}",
        "/api/people/{person_id}/outcomes",
        "/api/kpis",
        "/api/broadcasts",
        "/api/broadcasts/{message_id}",
        "/api/broadcasts/{message_id}/failures",
        "/api/broadcasts/{message_id}/{action}",
    }
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    """Generated requests (valid token) against every operation never get a 5xx."""
    import asyncio

    import schemathesis
    from hypothesis import HealthCheck, given, settings

    holder: dict[str, object] = {}

    async def setup() -> None:
        cm = admin_env(tmp_path)
        env = await cm.__aenter__()
        async with env.sessionmaker() as s:
            await make_person(s, commune_code=KY_LUA)
            await s.commit()
        holder["token"] = await env.token("fuzz", "provincial")
        holder["env"], holder["cm"] = env, cm

    asyncio.run(setup())
    env = holder["env"]
    assert isinstance(env, AdminEnv)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", env.app)
    headers = {"Authorization": f"Bearer {holder['token']}"}
    checked, statuses = 0, set()
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case) -> None:  # type: ignore[no-untyped-def]
            response = case.call(headers=headers)
            statuses.add(response.status_code)
            assert response.status_code < 500, (case.path, case.query, response.text)

        try:
            run()
        finally:
            checked += 1
    asyncio.run(holder["cm"].__aexit__(None, None, None))  # type: ignore[attr-defined]
    # operations: people, person GET/PATCH/DELETE, outcomes, KPIs;
    # broadcasts: send, list, report, failures, control
    assert checked == 11
    assert 200 in statuses  # the token worked: real answers, not only refusals
