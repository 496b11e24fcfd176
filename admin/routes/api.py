"""REST API under /api: people (paged, scoped) and KPIs, for clients holding a bearer token."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel

from admin.dashboard import kpis
from admin.deps import MAX_ID, Client, Db, now
from admin.queries import PeopleQuery, get_person, list_people, preferences_of
from admin.scope import can
from bot.reporting import labels
from storage.models.core import Person

router = APIRouter(prefix="/api", tags=["api"])


class PreferenceOut(BaseModel):
    """A ranked trade choice."""

    rank: int
    trade_code: str
    trade_name: str
    raw_text: str | None


class PersonOut(BaseModel):
    """A person's profile as mirrored from the survey."""

    id: int
    full_name: str | None
    phone: str | None
    branch: str | None
    enlistment_month: date | None
    discharge_month: date | None
    home_commune_code: str | None
    home_commune_name: str
    consent_sharing: bool
    survey_completed_at: datetime | None
    updated_at: datetime


class PersonDetailOut(PersonOut):
    """A person with their trade choices."""

    preferences: list[PreferenceOut]


class PeoplePage(BaseModel):
    """One page of people."""

    items: list[PersonOut]
    page: int
    page_size: int
    total: int


class KpiOut(BaseModel):
    """One KPI against its target (share and target are fractions, 0.6 = 60%)."""

    key: str
    numerator: int
    denominator: int
    share: float
    target: float | None
    met: bool


class KpiReportOut(BaseModel):
    """KPIs of one year of discharge."""

    year: int
    kpis: list[KpiOut]


def _person_out(p: Person) -> dict[str, object]:
    return {
        "id": p.id,
        "full_name": p.full_name,
        "phone": p.phone,
        "branch": p.branch,
        "enlistment_month": p.enlistment_month,
        "discharge_month": p.discharge_month,
        "home_commune_code": p.home_commune_code,
        "home_commune_name": labels.commune_name(p.home_commune_code),
        "consent_sharing": bool(p.consent_sharing),
        "survey_completed_at": p.survey_completed_at,
        "updated_at": p.updated_at,
    }


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise HTTPException(status_code=422, detail="updated_since out of range") from None


@router.get("/people", response_model=PeoplePage)
async def api_people(
    db: Db,
    client: Client,
    updated_since: Annotated[datetime | None, Query(description="ISO 8601; naive = UTC")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, object]:
    """People the client may see, most recent first."""
    if not can(client, "people"):
        raise HTTPException(status_code=403)
    pq = PeopleQuery(updated_since=_utc(updated_since), page=page, page_size=page_size)
    people, total = await list_people(db, client, pq)
    return {
        "items": [_person_out(p) for p in people],
        "page": page,
        "page_size": page_size,
        "total": total,
    }


@router.get("/people/{person_id}", response_model=PersonDetailOut)
async def api_person(
    db: Db, client: Client, person_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> dict[str, object]:
    """One person with trade choices (404 when unknown or outside the client's scope)."""
    if not can(client, "people"):
        raise HTTPException(status_code=403)
    person = await get_person(db, client, person_id)
    if person is None:
        raise HTTPException(status_code=404)
    prefs = await preferences_of(db, person.id)
    return {
        **_person_out(person),
        "preferences": [
            {
                "rank": tp.rank,
                "trade_code": tp.trade_code,
                "trade_name": labels.trade_name(tp.trade_code),
                "raw_text": tp.raw_text,
            }
            for tp in prefs
        ],
    }


@router.get("/kpis", response_model=KpiReportOut)
async def api_kpis(
    request: Request,
    db: Db,
    client: Client,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
) -> dict[str, object]:
    """KPIs for a year of discharge (default: the province's current year) in the client's scope."""
    if not can(client, "dashboard"):
        raise HTTPException(status_code=403)
    tz = request.app.state.settings.tz
    the_year = year or now(request).astimezone(tz).year
    rows = await kpis(db, client, the_year, tz)
    return {
        "year": the_year,
        "kpis": [
            {
                "key": k.key,
                "numerator": k.numerator,
                "denominator": k.denominator,
                "share": k.share,
                "target": k.target,
                "met": k.met,
            }
            for k in rows
        ],
    }
