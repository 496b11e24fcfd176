"""One KPI implementation for every role, and the TIMEZONE setting in the admin pages and exports.

On SQLite and PostgreSQL: the dashboard and the REST API of each role show the figures of the
yearly report (``bot.reporting.kpi.compute_kpis``) over the people that role may count.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reporting.kpi import KpiReport, compute_kpis
from storage.models.admin import CallbackRequest
from storage.models.timeline import Outcome
from tests.admin_helpers import AdminEnv, admin_env, post_form
from tests.factories import make_person

KY_LUA, TAM_THANH = "6187", "5986"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
LEVEL = {"training_level": "elementary"}
Figures = list[tuple[int, int]]

_KPI_TABLE = re.compile(r'<table class="kpis">(.*?)</table>', re.S)
_RETURNEES = re.compile(r'<td class="num">(\d+)</td>')
_COUNT_OF_BASE = re.compile(r"<small>\((\d+)/(\d+)\)</small>")


def report_figures(report: KpiReport) -> Figures:
    """(count, base) of the returnees, then of each indicator, in report order."""
    return [(report.total, report.total)] + [(ln.count, ln.base) for ln in report.lines()]


def dashboard_figures(html: str) -> Figures:
    """The same figures as the dashboard's KPI table shows them."""
    match = _KPI_TABLE.search(html)
    assert match, "no KPI table on the dashboard"
    table = match.group(1)
    returnees = _RETURNEES.search(table)
    assert returnees
    total = int(returnees.group(1))
    return [(total, total)] + [(int(a), int(b)) for a, b in _COUNT_OF_BASE.findall(table)]


async def api_figures(env: AdminEnv, role: str, **scope: list[str]) -> Figures:
    """The figures of ``GET /api/kpis?year=2026`` for a token of ``role``."""
    token = await env.token(f"{role}-api", role, **scope)
    client = env.client(Authorization=f"Bearer {token}")
    body = (await client.get("/api/kpis?year=2026")).json()
    assert body["year"] == 2026
    return [(k["numerator"], k["denominator"]) for k in body["kpis"]]


async def seed(session: AsyncSession) -> int:
    """Two registered returnees of 2026; returns the id of the one trained then abroad.

    Trained-then-abroad: Kỳ Lừa, shares with schools (trade ``weld``), assigned to a
    counsellor by the caller. The other: Tam Thanh, no sharing, no outcome.
    """
    abroad = await make_person(
        session,
        full_name="Đi làm nước ngoài",
        commune_code=KY_LUA,
        trades=("weld",),
        answers=LEVEL,
        consent_sharing=True,
    )
    session.add(Outcome(person_id=abroad.id, status="in_training", status_date=date(2026, 4, 1)))
    session.add(Outcome(person_id=abroad.id, status="abroad", status_date=date(2026, 9, 1)))
    await make_person(
        session, full_name="Ở nhà", commune_code=TAM_THANH, trades=("drive_b",), answers=LEVEL
    )
    await session.commit()
    return abroad.id


async def test_trained_then_abroad_counts_the_same_for_every_role(
    any_db_url: str, tmp_path: Path
) -> None:
    """in_training then abroad: trained and helped into work, on every page of every role."""
    async with admin_env(tmp_path, db_url=any_db_url) as env:
        async with env.sessionmaker() as s:
            person_id = await seed(s)
        coach = await env.user("coach", "counsellor")
        async with env.sessionmaker() as s:
            s.add(CallbackRequest(person_id=person_id, assigned_counsellor_id=coach))
            await s.commit()
            province = report_figures(await compute_kpis(s, year=2026, tz=HCM))
            ky_lua = report_figures(
                await compute_kpis(s, year=2026, tz=HCM, commune_codes=[KY_LUA])
            )
        # counselled 2/2, registered 2/2, trained 1/2, helped into work 1 of the 2 registered
        assert province == [(2, 2), (2, 2), (2, 2), (1, 2), (1, 2)]
        assert ky_lua == [(1, 1), (1, 1), (1, 1), (1, 1), (1, 1)]
        roles: list[tuple[str, dict[str, list[str]], Figures]] = [
            ("admin", {}, province),
            ("provincial", {}, province),
            ("viewer", {}, province),
            ("commune", {"communes": [KY_LUA]}, ky_lua),
            ("institution", {"trades": ["weld"]}, ky_lua),
        ]
        for role, scope, expected in roles:
            await env.user(role, role, **scope)
            html = (await (await env.login(role)).get("/?year=2026")).text
            assert dashboard_figures(html) == expected, role
            assert await api_figures(env, role, **scope) == expected, role
        html = (await (await env.login("coach")).get("/?year=2026")).text
        assert dashboard_figures(html) == ky_lua


@pytest.mark.parametrize(
    ("timezone", "local_day", "counselled", "default_year"),
    [
        ("Asia/Ho_Chi_Minh", "01/01/2027", (0, 1), 2027),
        ("UTC", "31/12/2026", (1, 1), 2026),
    ],
)
async def test_timezone_setting_places_instants_on_local_days(
    any_db_url: str,
    tmp_path: Path,
    timezone: str,
    local_day: str,
    counselled: tuple[int, int],
    default_year: int,
) -> None:
    """31/12/2026 23:30 UTC is already 2027 in Lạng Sơn: the TIMEZONE setting decides."""
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    async with admin_env(tmp_path, db_url=any_db_url, timezone=timezone) as env:
        env.app.state.clock = lambda: moment
        async with env.sessionmaker() as s:
            await make_person(
                s, full_name="Giao thừa", discharge_month=date(2026, 12, 1), completed_at=moment
            )
            await s.commit()
        await env.user("boss", "admin")
        client = await env.login("boss")
        # counselled before return: survey done before the discharge month ended, locally
        figures = dashboard_figures((await client.get("/?year=2026")).text)
        assert figures[1] == counselled
        token = await env.token("crm", "admin")
        api = env.client(Authorization=f"Bearer {token}")
        assert (await api.get("/api/kpis")).json()["year"] == default_year
        person = (await api.get("/api/people")).json()["items"][0]
        assert f"{local_day} " in (await client.get(f"/people/{person['id']}")).text
        # the export's date filter and its dates are local days too
        resp = await post_form(
            client,
            "/exports",
            "/exports/download",
            {"fmt": "csv", "date_from": "2027-01-01", "date_to": "2027-01-01", "headers": "codes"},
        )
        assert resp.status_code == 200
        rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
        assert [r["survey_completed_at"] for r in rows] == (
            ["01/01/2027"] if default_year == 2027 else []
        )
        day = "2027-01-01" if default_year == 2027 else "2026-12-31"
        assert f"nguyen-vong-{day}.csv" in resp.headers["content-disposition"]
