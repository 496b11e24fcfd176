"""People list and detail pages, and the call-back queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

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
)
from admin.scope import commune_scope
from admin.survey_view import survey_questions
from admin.web import lang_of, render
from bot.reporting import labels
from storage.audit import audit
from storage.models.admin import CallbackRequest

router = APIRouter(include_in_schema=False)
BRANCHES = ("army", "police", "border_guard")


def _commune_choices(user: Principal) -> list[tuple[str, str]]:
    allowed_codes = commune_scope(user)
    if allowed_codes is None:
        return labels.communes()
    return sorted(((c, labels.commune_name(c)) for c in allowed_codes), key=lambda kv: kv[1])


def _trade_choices() -> list[tuple[str, str]]:
    return labels.trades()


def _question_labels(lang: str) -> dict[str, str]:
    _, questions, _ = survey_questions()
    return {q["id"]: q["label"].get(lang) or q["label"].get("vi") or q["id"] for q in questions}


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
        total=total,
        page=page,
        pages=pages,
        pq=pq,
        params=params,
        communes=_commune_choices(user),
        trades=_trade_choices(),
        branches=BRANCHES,
    )


@router.get("/people/{person_id}")
async def person_page(
    request: Request,
    db: Db,
    person_id: int,
    user: Annotated[Principal, Depends(allowed("people"))],
) -> Response:
    """One person: profile, trade choices, answers per response, outcomes."""
    person = await get_person(db, user, person_id)
    if person is None:
        raise HTTPException(status_code=404)
    return render(
        request,
        "person.html",
        person=person,
        prefs=await preferences_of(db, person.id),
        responses=await responses_of(db, person.id),
        outcomes=await outcomes_of(db, person.id),
        qlabels=_question_labels(lang_of(request)),
    )


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
