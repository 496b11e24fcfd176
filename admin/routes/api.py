"""REST API under /api: people (paged, scoped; outcomes, corrections, erasure) and KPIs, for
clients holding a bearer token."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import Principal
from admin.dashboard import kpis
from admin.deps import Client, Db, client_ip, now
from admin.queries import PeopleQuery, get_person, list_people, outcomes_of, preferences_of
from admin.routes.people import PersonId, figures_changed, local_today, officer_of
from admin.scope import can
from bot import records
from bot.i18n import pick_language
from bot.reporting import labels
from storage.audit import audit
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


class OutcomeOut(BaseModel):
    """What became of the person on a day, and who recorded it (``source`` bot: the person)."""

    status: str
    date: date
    trade_code: str | None
    source: str
    recorded_by: str | None
    recorded_at: datetime


class PersonDetailOut(PersonOut):
    """A person with their trade choices, return date and outcome history (oldest first)."""

    return_date: date | None
    preferences: list[PreferenceOut]
    outcomes: list[OutcomeOut]


class OutcomeIn(BaseModel):
    """An outcome to record; ``returned_home`` sets the return date."""

    status: str = Field(max_length=32, description=", ".join(records.RECORDABLE_STATUSES))
    date: date
    trade_code: str | None = Field(default=None, max_length=64)


class ProfileIn(BaseModel):
    """Profile corrections; only the fields sent are changed. Months as MM/YYYY, the commune by
    its code, ``phone`` empty to remove it."""

    full_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
    branch: str | None = Field(default=None, max_length=32)
    enlistment_month: str | None = Field(default=None, max_length=16)
    discharge_month: str | None = Field(default=None, max_length=16)
    home_commune_code: str | None = Field(default=None, max_length=16)


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


async def _in_scope(db: AsyncSession, client: Principal, person_id: int, what: str) -> Person:
    """The person if the client may do ``what`` to them (403), and sees them (404)."""
    if not can(client, what):
        raise HTTPException(status_code=403)
    person = await get_person(db, client, person_id)
    if person is None:
        raise HTTPException(status_code=404)
    return person


async def _detail(db: AsyncSession, person: Person) -> dict[str, object]:
    prefs = await preferences_of(db, person.id)
    return {
        **_person_out(person),
        "return_date": person.return_date,
        "preferences": [
            {
                "rank": tp.rank,
                "trade_code": tp.trade_code,
                "trade_name": labels.trade_name(tp.trade_code),
                "raw_text": tp.raw_text,
            }
            for tp in prefs
        ],
        "outcomes": [
            {
                "status": o.status,
                "date": o.status_date,
                "trade_code": o.trade_code,
                "source": o.source,
                "recorded_by": o.recorded_by,
                "recorded_at": o.recorded_at,
            }
            for o in await outcomes_of(db, person.id)
        ],
    }


@router.get("/people/{person_id}", response_model=PersonDetailOut)
async def api_person(
    request: Request, db: Db, client: Client, person_id: PersonId
) -> dict[str, object]:
    """One person with trade choices and outcomes (404 when unknown or outside the client's
    scope); the read is audited."""
    person = await _in_scope(db, client, person_id, "people")
    out = await _detail(db, person)
    detail = {"person_id": person.id}
    await audit(
        db, actor=client.actor, action="person.viewed", detail=detail, ip=client_ip(request)
    )
    await db.commit()
    return out


@router.post("/people/{person_id}/outcomes", response_model=PersonDetailOut, status_code=201)
async def api_record_outcome(
    request: Request, db: Db, client: Client, person_id: PersonId, body: OutcomeIn
) -> dict[str, object]:
    """Record a training start or finish, a job, work abroad or the return date (audited)."""
    person = await _in_scope(db, client, person_id, "people.edit")
    try:
        await records.add_outcome(
            db,
            person,
            officer_of(request, client),
            status=body.status,
            day=body.date,
            trade_code=body.trade_code,
            today=local_today(request),
            tz=request.app.state.settings.tz,
        )
    except records.RecordError as exc:
        raise HTTPException(422, detail={"field": exc.field, "problem": exc.key}) from None
    out = await _detail(db, person)
    await db.commit()
    figures_changed(request)
    return out


def _plain(message: str) -> str:
    """A survey message (Telegram HTML) as plain text."""
    return html.unescape(re.sub(r"<[^>]*>", "", message))


@router.patch("/people/{person_id}", response_model=PersonDetailOut)
async def api_correct_person(
    request: Request, db: Db, client: Client, person_id: PersonId, body: ProfileIn
) -> dict[str, object]:
    """Correct profile fields, checked with the survey's rules (422 lists what is wrong)."""
    person = await _in_scope(db, client, person_id, "people.edit")
    sent = body.model_dump(exclude_unset=True)
    if "home_commune_code" in sent:
        sent["home_commune"] = sent.pop("home_commune_code")
    typed = {key: value or "" for key, value in sent.items()}
    lang = pick_language(request.headers.get("accept-language"))
    errors = await records.correct_profile(
        db, person, officer_of(request, client), typed, lang=lang, today=local_today(request)
    )
    if errors:
        fields = {("home_commune_code" if k == "home_commune" else k): v for k, v in errors.items()}
        raise HTTPException(422, detail={k: _plain(v) for k, v in fields.items()})
    out = await _detail(db, person)
    await db.commit()
    figures_changed(request)
    return out


@router.delete("/people/{person_id}", status_code=204)
async def api_erase_person(
    request: Request, db: Db, client: Client, person_id: PersonId
) -> Response:
    """Erase the person as /delete_me does (audited); 404 afterwards."""
    person = await _in_scope(db, client, person_id, "people.edit")
    await records.erase_person(
        db, person, officer_of(request, client), request.app.state.conversations
    )
    figures_changed(request)
    return Response(status_code=204)


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
