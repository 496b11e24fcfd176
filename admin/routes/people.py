"""People list and detail pages, and the call-back queue."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from admin import person_view
from admin.auth import Principal
from admin.deps import MAX_ID, Db, allowed, allowed_post, client_ip, now
from admin.queries import (
    PeopleQuery,
    callback_for,
    counsellors,
    get_person,
    list_callbacks,
    list_people,
    outcomes_of,
    preferences_of,
    responses_of,
    shared_phones,
)
from admin.scope import can, commune_scope
from admin.web import lang_of, render
from bot import records
from bot.i18n import ADMIN_DOMAIN, translator
from bot.reporting import labels
from storage.audit import audit
from storage.models import Person
from storage.models.admin import CallbackRequest

router = APIRouter(include_in_schema=False)
BRANCHES = ("army", "police", "border_guard")
PersonId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _commune_choices(user: Principal) -> list[tuple[str, str]]:
    allowed_codes = commune_scope(user)
    if allowed_codes is None:
        return labels.communes()
    return sorted(((c, labels.commune_name(c)) for c in allowed_codes), key=lambda kv: kv[1])


def _trade_choices() -> list[tuple[str, str]]:
    return labels.trades()


@router.get("/people")
async def people_page(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed("people"))],
    q: Annotated[str, Query(max_length=100)] = "",
    commune: Annotated[str, Query(max_length=16)] = "",
    branch: Annotated[str, Query(max_length=32)] = "",
    discharge_month: Annotated[str, Query(max_length=7)] = "",
    trade: Annotated[str, Query(max_length=64)] = "",
    completed: Annotated[str, Query(max_length=3)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Searchable, filtered, paged list of the people the user may see."""
    pq = PeopleQuery(q, commune, branch, discharge_month, trade, completed, page=page)
    people, total = await list_people(db, user, pq)
    pages = max(1, -(-total // pq.page_size))
    params = {k: v for k, v in vars(pq).items() if isinstance(v, str) and v}
    return render(
        request,
        "people.html",
        people=people,
        shared=await shared_phones(db, user, people),
        total=total,
        page=page,
        pages=pages,
        pq=pq,
        params=params,
        communes=_commune_choices(user),
        trades=_trade_choices(),
        branches=BRANCHES,
    )


def officer_of(request: Request, user: Principal) -> records.Officer:
    """The principal as the one who records (``admin`` pages or the ``api``)."""
    source = "api" if user.kind == "api" else "admin"
    return records.Officer(actor=user.actor, source=source, ip=client_ip(request))


def figures_changed(request: Request) -> None:
    """A record changed what the KPIs count: the dashboard recomputes on its next view."""
    request.app.state.dashboard_cache.clear()


def local_today(request: Request) -> date:
    """Today in the province."""
    return now(request).astimezone(request.app.state.settings.tz).date()


async def _person_or_404(db: AsyncSession, user: Principal, person_id: int) -> Person:
    person = await get_person(db, user, person_id)
    if person is None:
        raise HTTPException(status_code=404)
    return person


async def _person_page(
    request: Request,
    db: AsyncSession,
    user: Principal,
    person: Person,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """The person page: profile, trades, outcome history, answers, and the officer's forms."""
    lang = lang_of(request)
    _ = translator(lang, ADMIN_DOMAIN)
    responses = [
        (resp, person_view.answer_rows(answers, lang, _))
        for resp, answers in await responses_of(db, person.id)
    ]
    context: dict[str, Any] = {
        "person": person,
        "prefs": person_view.preference_rows(await preferences_of(db, person.id), lang, _),
        "history": person_view.history_rows(await outcomes_of(db, person.id), lang, _),
        "responses": responses,
        "can_edit": can(user, "people.edit"),
        "statuses": records.RECORDABLE_STATUSES,
        "trades": _trade_choices(),
        "communes": labels.communes(),
        "branches": BRANCHES,
        "today": local_today(request).isoformat(),
        "form": person_view.profile_form(person),
        "phone": person_view.profile_form(person)["phone"],
        "errors": {},
        "saved": request.query_params.get("saved", ""),
    }
    context.update(extra)
    return render(request, "person.html", status_code, **context)


@router.get("/people/{person_id}")
async def person_page(
    request: Request,
    db: Db,
    person_id: PersonId,
    user: Annotated[Principal, Depends(allowed("people"))],
) -> Response:
    """One person: profile, trade choices, outcomes, answers; opening it is audited."""
    person = await _person_or_404(db, user, person_id)
    page = await _person_page(request, db, user, person)
    detail = {"person_id": person.id}
    await audit(db, actor=user.actor, action="person.viewed", detail=detail, ip=client_ip(request))
    await db.commit()
    return page


@router.post("/people/{person_id}/outcomes")
async def person_outcome(
    request: Request,
    db: Db,
    person_id: PersonId,
    user: Annotated[Principal, Depends(allowed_post("people.edit"))],
    status: Annotated[str, Form(max_length=32)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    trade_code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Record a training start or finish, a job, work abroad, a return date, ..."""
    person = await _person_or_404(db, user, person_id)
    try:
        when = date.fromisoformat(day)
        await records.add_outcome(
            db,
            person,
            officer_of(request, user),
            status=status,
            day=when,
            trade_code=trade_code or None,
            today=local_today(request),
            tz=request.app.state.settings.tz,
        )
    except records.RecordError as exc:
        return await _person_page(request, db, user, person, 400, outcome_error=exc.key)
    except ValueError:
        return await _person_page(request, db, user, person, 400, outcome_error="bad_date")
    await db.commit()
    figures_changed(request)
    return RedirectResponse(f"/people/{person.id}?saved=outcome", status_code=303)


@router.post("/people/{person_id}/profile")
async def person_profile(
    request: Request,
    db: Db,
    person_id: PersonId,
    user: Annotated[Principal, Depends(allowed_post("people.edit"))],
    full_name: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    branch: Annotated[str, Form(max_length=32)] = "",
    enlistment_month: Annotated[str, Form(max_length=16)] = "",
    discharge_month: Annotated[str, Form(max_length=16)] = "",
    home_commune: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Correct the profile; every field is checked with the survey's rules before any is kept."""
    person = await _person_or_404(db, user, person_id)
    typed = {
        "full_name": full_name,
        "phone": phone,
        "branch": branch,
        "enlistment_month": enlistment_month,
        "discharge_month": discharge_month,
        "home_commune": home_commune,
    }
    errors = await records.correct_profile(
        db,
        person,
        officer_of(request, user),
        typed,
        lang=lang_of(request),
        today=local_today(request),
    )
    if errors:
        form = person_view.profile_form(person, typed)
        return await _person_page(request, db, user, person, 400, form=form, errors=errors)
    await db.commit()
    figures_changed(request)
    return RedirectResponse(f"/people/{person.id}?saved=profile", status_code=303)


@router.post("/people/{person_id}/erase")
async def person_erase(
    request: Request,
    db: Db,
    person_id: PersonId,
    user: Annotated[Principal, Depends(allowed_post("people.edit"))],
    confirm: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Erase the person as /delete_me does (only with the confirmation box ticked)."""
    person = await _person_or_404(db, user, person_id)
    if confirm != "yes":
        return await _person_page(request, db, user, person, 400, erase_error=True)
    await records.erase_person(
        db, person, officer_of(request, user), request.app.state.conversations
    )
    figures_changed(request)
    return RedirectResponse("/people", status_code=303)


async def _callbacks_page(
    request: Request, db: Db, user: Principal, status: int = 200, *, done: bool = False, **ctx: str
) -> Response:
    rows = await list_callbacks(db, user, show_done=done)
    staff = await counsellors(db) if user.role == "admin" else []
    return render(
        request, "callbacks.html", status, rows=rows, show_done=done, counsellors=staff, **ctx
    )


@router.get("/callbacks")
async def callbacks_page(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed("callbacks"))],
    done: bool = False,
) -> Response:
    """People who asked for a call, open ones first."""
    return await _callbacks_page(request, db, user, done=done)


@router.post("/callbacks/{person_id}")
async def callback_update(
    request: Request,
    db: Db,
    person_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    user: Annotated[Principal, Depends(allowed_post("callbacks.edit"))],
    action: Annotated[str, Form(max_length=16)] = "done",
    note: Annotated[str, Form(max_length=2000)] = "",
    counsellor_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Mark a call-back done (with a note), reopen it, take it, or (admin) assign it to an
    active counsellor (anyone else: 400 with the reason)."""
    found = await callback_for(db, user, person_id)
    if found is None:
        raise HTTPException(status_code=404)
    person, cb = found
    if action == "assign" and user.role == "admin" and counsellor_id is not None:
        if counsellor_id not in {c.id for c in await counsellors(db)}:
            error = "A call-back can be assigned only to an active counsellor account."
            return await _callbacks_page(request, db, user, 400, error=error)
    if cb is None:
        cb = CallbackRequest(person_id=person.id, created_at=now(request))
        db.add(cb)
    detail: dict[str, object] = {"person_id": person.id, "action": action}
    if action == "done":
        cb.done_at, cb.done_by, cb.note = now(request), user.name, note.strip() or None
    elif action == "reopen":
        cb.done_at, cb.done_by = None, None
    elif action == "take" and user.role == "counsellor":
        cb.assigned_counsellor_id = user.id
    elif action == "assign" and user.role == "admin":
        cb.assigned_counsellor_id = counsellor_id
        detail["counsellor_id"] = counsellor_id
    else:
        raise HTTPException(status_code=400)
    await audit(
        db, actor=user.actor, action=f"callback.{action}", detail=detail, ip=client_ip(request)
    )
    await db.commit()
    return RedirectResponse("/callbacks", status_code=303)
