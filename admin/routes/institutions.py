"""Institution lists (month 18) and intakes: an institution account sees, exports and updates
its own; province admins see every institution's and how far each got.

The lists and steps come from :mod:`bot.reporting.institution_lists`; the workbook from
:mod:`bot.reporting.institution_export`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from admin.auth import Principal
from admin.deps import (
    MAX_ID,
    Db,
    Refused,
    allowed,
    allowed_post,
    client_ip,
    own_institution,
    visible_institution,
)
from admin.routes.people import figures_changed, local_today
from admin.scope import can
from admin.web import lang_of, render
from bot import records
from bot.reporting import institution_export, institution_lists
from bot.reporting.exports import XLSX_MEDIA_TYPE
from storage.audit import audit

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
SEE, EDIT = "institution_lists", "institution_lists.edit"
REFUSALS = {
    "out_of_scope": "This person is not on this institution's list or interested in its courses.",
    "bad_step": "This step cannot follow the person's current status.",
    "unknown_course": "This course is not one of this institution's intakes.",
    "future_date": "The date cannot be in the future.",
    "too_old": "The date is too long ago.",
    "bad_date": "The date is not a date.",
    "unknown_trade": "The course's trade is not in the trade catalog.",
}


@router.get("/institution-lists")
async def overview_page(
    request: Request, db: Db, user: Annotated[Principal, Depends(allowed(SEE))]
) -> Response:
    """Province admins: every institution's progress; an institution: its own list."""
    if user.role == "institution":
        return RedirectResponse(f"/institution-lists/{own_institution(user)}", status_code=303)
    rows = await institution_lists.progress(
        db, today=local_today(request), tz=request.app.state.settings.tz
    )
    return render(
        request,
        "institution_overview.html",
        rows=rows,
        statuses=institution_lists.STATUSES,
        status_label=institution_lists.status_label,
    )


@router.get("/institution-lists/{institution_id}")
async def list_page(
    request: Request,
    db: Db,
    institution_id: Id,
    user: Annotated[Principal, Depends(allowed(SEE))],
) -> Response:
    """The institution's month-18 list and its intakes, with the step forms."""
    inst = await visible_institution(db, user, institution_id)
    tz, lang = request.app.state.settings.tz, lang_of(request)
    people = await institution_lists.institution_list(
        db, inst, today=local_today(request), tz=tz, lang=lang
    )
    intakes = await institution_lists.intakes(db, inst, tz=tz, lang=lang)
    return render(
        request,
        "institution_list.html",
        inst=inst,
        people=people,
        intakes=intakes,
        courses=[i.course for i in intakes],
        can_edit=can(user, EDIT),
        status_label=institution_lists.status_label,
        today=local_today(request).isoformat(),
        saved=request.query_params.get("saved", ""),
    )


@router.post("/institution-lists/{institution_id}/export")
async def list_export(
    request: Request,
    db: Db,
    institution_id: Id,
    user: Annotated[Principal, Depends(allowed_post(SEE))],
) -> Response:
    """The list and the intakes' interest as an XLSX file; the audit log records who."""
    inst = await visible_institution(db, user, institution_id)
    tz, lang, today = request.app.state.settings.tz, lang_of(request), local_today(request)
    people = await institution_lists.institution_list(db, inst, today=today, tz=tz, lang=lang)
    intakes = await institution_lists.intakes(db, inst, tz=tz, lang=lang)
    detail = {
        "institution_id": inst.id,
        "rows": len(people),
        "interested": sum(len(i.people) for i in intakes),
    }
    await audit(db, actor=user.actor, action="export.xlsx", detail=detail, ip=client_ip(request))
    await db.commit()
    body = institution_export.list_workbook(people, intakes, lang)
    name = institution_export.list_filename(inst.name, today)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers=headers)


@router.post("/institution-lists/{institution_id}/people/{person_id}")
async def set_step(
    request: Request,
    db: Db,
    institution_id: Id,
    person_id: Id,
    user: Annotated[Principal, Depends(allowed_post(EDIT))],
    status: Annotated[str, Form(max_length=16)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    course_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Move a person one step (contacted, enrolled, finished, dropped); 4xx with the reason."""
    inst = await visible_institution(db, user, institution_id)
    today = local_today(request)
    officer = records.Officer(
        actor=user.actor, source=institution_lists.SOURCE, ip=client_ip(request)
    )
    try:
        when = date.fromisoformat(day) if day else today
        step = institution_lists.Step(status, when, course_id, note)
        await institution_lists.set_status(
            db, inst, person_id, step, officer, today=today, tz=request.app.state.settings.tz
        )
    except institution_lists.ListError as exc:
        code = 404 if exc.key == "out_of_scope" else 409 if exc.key == "bad_step" else 400
        raise Refused(status_code=code, detail=REFUSALS[exc.key]) from exc
    except ValueError as exc:
        raise Refused(status_code=400, detail=REFUSALS["bad_date"]) from exc
    await db.commit()
    figures_changed(request)
    back = f"/institution-lists/{inst.id}?saved=1#list-{person_id}"  # back to the person's row
    return RedirectResponse(back, status_code=303)
