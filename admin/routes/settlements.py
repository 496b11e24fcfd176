"""Settlements of training support: an institution sees its periods (due dates, state, draft
totals), downloads the XLSX and submits; the Department (``settlements.approve``) sees every
institution's, and approves or returns a submitted one. Rules: :mod:`bot.cards.settlement`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response

from admin.auth import Principal
from admin.deps import (
    MAX_ID,
    Db,
    Refused,
    allowed,
    allowed_post,
    client_ip,
    now,
    own_institution,
    visible_institution,
)
from admin.routes.people import figures_changed, local_today
from admin.scope import can
from admin.web import lang_of, render
from bot.cards import settlement as st
from bot.cards.settlement_xlsx import settlement_filename, settlement_workbook
from bot.reporting.exports import XLSX_MEDIA_TYPE
from bot.reporting.support_paid import money
from storage.audit import audit
from storage.models.cards import Settlement

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Year = Annotated[int, Path(ge=2000, le=2100)]
SEE, APPROVE = "settlements", "settlements.approve"
SUBMITTERS = frozenset({"admin", "institution"})  # the Department approves, it never submits
REFUSALS = {
    "unknown_period": "There is no such settlement period.",
    "not_ended": "The period has not ended yet.",
    "empty": "No course ended in this period: there is nothing to settle.",
    "already_sent": "This settlement was already submitted.",
    "not_submitted": "Only a submitted settlement can be approved or returned.",
    "note_needed": "Say why the settlement is returned.",
    "not_submitter": "Only the institution submits its settlement.",
}
STATES = {
    "open": "Period not over",
    "due": "To submit",
    "late": "Late",
    "submitted": "Submitted",
    "returned": "Returned",
    "approved": "Approved",
}
PERIOD_WORDS = {"half": "First half of %(year)s", "year": "Year %(year)s"}


def _page(request: Request, name: str, **ctx: Any) -> Response:
    return render(request, name, states=STATES, period_words=PERIOD_WORDS, money=money, **ctx)


async def _draft(
    request: Request, db: Db, user: Principal, institution_id: int, period: str, year: int
) -> st.Draft:
    inst = await visible_institution(db, user, institution_id)
    try:
        key = st.parse_period(period, year)
    except st.SettlementError as exc:
        raise Refused(status_code=404, detail=REFUSALS[exc.key]) from exc
    return await st.draft(db, inst, key, local_today(request))


@router.get("/settlements")
async def overview_page(
    request: Request, db: Db, user: Annotated[Principal, Depends(allowed(SEE))]
) -> Response:
    """The Department: every institution's periods, late first; an institution: its own page."""
    if user.role == "institution":
        return RedirectResponse(f"/settlements/{own_institution(user)}", status_code=303)
    rows = await st.periods(db, local_today(request))
    order = {"late": 0, "submitted": 1, "returned": 2, "due": 3, "open": 4, "approved": 5}
    rows.sort(key=lambda r: (order.get(r.state, 9), r.due_on, r.institution.name))
    counts = {s: sum(1 for r in rows if r.state == s) for s in order}
    return _page(request, "settlements.html", rows=rows, counts=counts)


@router.get("/settlements/{institution_id}")
async def institution_page(
    request: Request, db: Db, institution_id: Id, user: Annotated[Principal, Depends(allowed(SEE))]
) -> Response:
    """One institution's periods with their due dates, state and draft totals."""
    inst = await visible_institution(db, user, institution_id)
    today = local_today(request)
    drafts = [await st.draft(db, inst, r.key, today) for r in await st.periods(db, today, inst)]
    return _page(
        request,
        "settlement_institution.html",
        inst=inst,
        drafts=drafts,
        can_submit=user.role in SUBMITTERS,
        can_approve=can(user, APPROVE),
        saved=request.query_params.get("saved", ""),
    )


@router.post("/settlements/{institution_id}/{period}/{year}/xlsx")
async def download(
    request: Request,
    db: Db,
    institution_id: Id,
    period: str,
    year: Year,
    user: Annotated[Principal, Depends(allowed_post(SEE))],
) -> Response:
    """The period's settlement as XLSX (the draft, or the amounts kept once settled); audited."""
    found = await _draft(request, db, user, institution_id, period, year)
    detail = {"institution_id": institution_id, "period": period, "year": year}
    detail["rows"] = len(found.lines)
    await audit(db, actor=user.actor, action="export.xlsx", detail=detail, ip=client_ip(request))
    await db.commit()
    headers = {"Content-Disposition": f'attachment; filename="{settlement_filename(found)}"'}
    body = settlement_workbook(found, lang_of(request))
    return Response(body, media_type=XLSX_MEDIA_TYPE, headers=headers)


@router.post("/settlements/{institution_id}/{period}/{year}/submit")
async def submit(
    request: Request,
    db: Db,
    institution_id: Id,
    period: str,
    year: Year,
    user: Annotated[Principal, Depends(allowed_post(SEE))],
) -> Response:
    """The institution sends the period to the Department: amounts frozen (409 with a reason)."""
    if user.role not in SUBMITTERS:
        raise Refused(status_code=403, detail=REFUSALS["not_submitter"])
    inst = await visible_institution(db, user, institution_id)
    try:
        key = st.parse_period(period, year)
        row = await st.submit(
            db, inst, key, user.actor, now=now(request), today=local_today(request)
        )
    except st.SettlementError as exc:
        code = 404 if exc.key == "unknown_period" else 409
        raise Refused(status_code=code, detail=REFUSALS[exc.key]) from exc
    detail = {"settlement_id": row.id, "institution_id": inst.id, "total_vnd": row.total_vnd}
    await audit(
        db, actor=user.actor, action="settlement.submitted", detail=detail, ip=client_ip(request)
    )
    await db.commit()
    figures_changed(request)
    return RedirectResponse(f"/settlements/{inst.id}?saved=1", status_code=303)


@router.post("/settlements/decide/{settlement_id}")
async def decide(
    request: Request,
    db: Db,
    settlement_id: Id,
    user: Annotated[Principal, Depends(allowed_post(APPROVE))],
    decision: Annotated[str, Form(max_length=8)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The Department approves (cards settled) or returns (with a note) a settlement."""
    row = await db.get(Settlement, settlement_id)
    if row is None or decision not in ("approve", "return"):
        raise HTTPException(status_code=404)
    approve = decision == "approve"
    try:
        await st.decide(db, row, approve=approve, actor=user.actor, now=now(request), note=note)
    except st.SettlementError as exc:
        raise Refused(status_code=409, detail=REFUSALS[exc.key]) from exc
    action = "settlement.approved" if approve else "settlement.returned"
    detail = {"settlement_id": row.id, "institution_id": row.institution_id}
    await audit(db, actor=user.actor, action=action, detail=detail, ip=client_ip(request))
    await db.commit()
    figures_changed(request)
    return RedirectResponse(f"/settlements/{row.institution_id}?saved=1", status_code=303)
