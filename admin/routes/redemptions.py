"""An institution redeems training cards (look up, checks, confirm), lists its redemptions,
records a course finished or dropped, and downloads a declaration scan; admins act for any
institution. The rules are in :mod:`bot.cards.redeem`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from admin import redemption_view as view
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
from admin.web import lang_of, render
from bot import records
from bot.cards import redeem
from bot.cards.rules import current_rules
from bot.i18n import ADMIN_DOMAIN, translator
from bot.reporting.institution_lists import SOURCE, ListRow
from storage import enrolments
from storage import redemptions as repo
from storage.audit import audit
from storage.catalog import person_by_id
from storage.models.cards import CardRedemption, TrainingCard
from storage.models.catalog import Institution

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
REDEEM = "cards.redeem"
Text = Annotated[str, Form(max_length=128)]


def _refused(request: Request, exc: redeem.RedeemError) -> Refused:
    lang = lang_of(request)
    message = view.say(exc.key, exc.params, translator(lang, ADMIN_DOMAIN), lang)
    return Refused(status_code=view.status_of(exc), detail=message)


def _day(text: str, default: date | None = None) -> date | None:
    """A typed ``YYYY-MM-DD`` (empty: ``default``)."""
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise redeem.RedeemError("bad_date") from None


def _officer(request: Request, user: Principal) -> records.Officer:
    return records.Officer(actor=user.actor, source=SOURCE, ip=client_ip(request))


@router.get("/redemptions")
async def start_page(
    request: Request, db: Db, user: Annotated[Principal, Depends(allowed(REDEEM))]
) -> Response:
    """An institution: its redemptions; an admin: which institution to act for."""
    if user.role == "institution":
        return RedirectResponse(f"/redemptions/{own_institution(user)}", status_code=303)
    return render(
        request, "redemptions.html", inst=None, institutions=await enrolments.institutions(db)
    )


@router.get("/redemptions/{institution_id}")
async def list_page(
    request: Request,
    db: Db,
    institution_id: Id,
    user: Annotated[Principal, Depends(allowed(REDEEM))],
) -> Response:
    """The institution's redemptions with the finish and drop-out forms."""
    inst = await visible_institution(db, user, institution_id)
    return render(
        request,
        "redemptions.html",
        inst=inst,
        rows=await repo.redemptions_of(db, inst.id),
        today=local_today(request).isoformat(),
        saved=request.query_params.get("saved", ""),
    )


async def _lookup(
    request: Request, db: Db, inst: Institution, people: list[ListRow]
) -> tuple[TrainingCard | None, ListRow | None, list[TrainingCard], list[ListRow]]:
    """The card and person the query names: by number, by person, or the people found."""
    params = request.query_params
    number = params.get("number", "").strip()[:32]
    by_id = {p.person_id: p for p in people}
    person = by_id.get(int(params["person_id"])) if params.get("person_id", "").isdigit() else None
    if params.get("person_id") and person is None:
        raise redeem.RedeemError("out_of_scope")
    card, cards = None, []
    if number:
        card = await repo.card_by_number(db, number)
        if card is None:
            raise redeem.RedeemError("no_card")
        if person is None and card.person_id is not None:
            person = by_id.get(card.person_id)
            if person is None:
                raise redeem.RedeemError("out_of_scope")
    elif person is not None:
        found = await person_by_id(db, person.person_id)
        cards = await redeem.cards_of(db, found) if found else []
        card = cards[0] if len(cards) == 1 else None
    query = params.get("q", "").strip()[:128]
    matches = redeem.find_people(people, query) if query and person is None else []
    return card, person, cards, matches


@router.get("/redemptions/{institution_id}/redeem")
async def redeem_page(
    request: Request,
    db: Db,
    institution_id: Id,
    user: Annotated[Principal, Depends(allowed(REDEEM))],
) -> Response:
    """Look a card up (its number, or the person), see the checks, choose the course, confirm."""
    inst = await visible_institution(db, user, institution_id)
    lang, today, tz = lang_of(request), local_today(request), request.app.state.settings.tz
    _ = translator(lang, ADMIN_DOMAIN)
    people = await redeem.people_of(db, inst, today=today, tz=tz, lang=lang)
    try:
        birth = _day(request.query_params.get("birth_date", "")[:10])
        card, row, cards, matches = await _lookup(request, db, inst, people)
    except redeem.RedeemError as exc:
        raise _refused(request, exc) from exc
    shown: list[tuple[bool, str]] = []
    courses: list[tuple[object, bool, str]] = []
    if card is not None and row is not None:
        person = await person_by_id(db, row.person_id)
        if person is None:
            raise HTTPException(status_code=404)
        found = await redeem.checks(
            db, inst, card, person, in_scope=True, today=today, birth_date=birth
        )
        shown = [(c.ok, view.said(c, _, lang)) for c in found]
        rules = await current_rules(db)
        for course in await enrolments.courses_of(db, inst.id):
            verdict = redeem.course_check(
                rules, inst, course, course.start_date or today, course.duration_days or 1
            )
            courses.append((course, verdict.ok, view.said(verdict, _, lang)))
    return render(
        request,
        "redeem.html",
        inst=inst,
        params=request.query_params,
        card=card,
        person=row,
        cards=cards,
        matches=matches,
        checks=shown,
        ready=bool(shown) and all(ok for ok, _text in shown),
        courses=courses,
        officer_name=user.name,
        max_mb=redeem.MAX_SCAN_BYTES // (1024 * 1024),
    )


@router.post("/redemptions/{institution_id}/redeem")
async def redeem_card(
    request: Request,
    db: Db,
    institution_id: Id,
    user: Annotated[Principal, Depends(allowed_post(REDEEM))],
    card_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    person_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    course_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    declaration: Annotated[str, Form(max_length=8)] = "",
    declared_to: Text = "",
    start_date: Annotated[str, Form(max_length=10)] = "",
    course_days: Annotated[int | None, Form(ge=1, le=redeem.MAX_COURSE_DAYS)] = None,
    tuition_vnd: Annotated[int | None, Form(ge=0, le=redeem.MAX_TUITION_VND)] = None,
    birth_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record the redemption (checks again), enrol the person; 4xx with the reason."""
    inst = await visible_institution(db, user, institution_id)
    lang, today, tz = lang_of(request), local_today(request), request.app.state.settings.tz
    card = await db.get(TrainingCard, card_id)
    person = await person_by_id(db, person_id)
    if card is None or person is None:
        raise HTTPException(status_code=404)
    people = await redeem.people_of(db, inst, today=today, tz=tz, lang=lang)
    upload = (await request.form()).get("scan")
    content, name = None, None
    if declaration == "scan" and isinstance(upload, UploadFile) and upload.filename:
        content, name = await upload.read(redeem.MAX_SCAN_BYTES + 1), upload.filename
    try:
        terms = redeem.Terms(
            course_id, _day(start_date), course_days, tuition_vnd, _day(birth_date)
        )
        row = await redeem.redeem(
            db,
            inst,
            card,
            person,
            terms,
            redeem.Declaration(declaration, declared_to, name, content),
            _officer(request, user),
            today=today,
            tz=tz,
            in_scope=any(p.person_id == person.id for p in people),
        )
    except redeem.RedeemError as exc:
        await db.rollback()
        raise _refused(request, exc) from exc
    await db.commit()
    figures_changed(request)
    return RedirectResponse(f"/redemptions/{inst.id}?saved=1#r-{row.id}", status_code=303)


async def _own_redemption(db: Db, inst: Institution, redemption_id: int) -> CardRedemption:
    row = await repo.redemption(db, redemption_id)
    if row is None or row.institution_id != inst.id:
        raise HTTPException(status_code=404)
    return row


@router.post("/redemptions/{institution_id}/{redemption_id}/end")
async def end_course(
    request: Request,
    db: Db,
    institution_id: Id,
    redemption_id: Id,
    user: Annotated[Principal, Depends(allowed_post(REDEEM))],
    outcome: Annotated[str, Form(max_length=8)] = "",
    day: Annotated[str, Form(max_length=10)] = "",
    days_attended: Annotated[int | None, Form(ge=0, le=MAX_ID)] = None,
) -> Response:
    """Record the course finished or dropped (with the days attended)."""
    inst = await visible_institution(db, user, institution_id)
    row = await _own_redemption(db, inst, redemption_id)
    if outcome not in ("finished", "dropped"):
        raise HTTPException(status_code=400)
    today = local_today(request)
    try:
        when = _day(day, today) or today
        await redeem.end(
            db,
            inst,
            row,
            _officer(request, user),
            dropped=outcome == "dropped",
            day=when,
            days_attended=days_attended,
            today=today,
            tz=request.app.state.settings.tz,
        )
    except redeem.RedeemError as exc:
        await db.rollback()
        raise _refused(request, exc) from exc
    await db.commit()
    figures_changed(request)
    return RedirectResponse(f"/redemptions/{inst.id}?saved=1#r-{row.id}", status_code=303)


@router.get("/redemptions/{institution_id}/{redemption_id}/declaration")
async def declaration_file(
    request: Request,
    db: Db,
    institution_id: Id,
    redemption_id: Id,
    user: Annotated[Principal, Depends(allowed(REDEEM))],
) -> Response:
    """The uploaded declaration scan (this institution's only); the audit log records who."""
    inst = await visible_institution(db, user, institution_id)
    row = await repo.redemption(db, redemption_id, with_file=True)
    if row is None or row.institution_id != inst.id or row.declaration_file is None:
        raise HTTPException(status_code=404)
    detail = {"person_id": row.person_id, "redemption_id": row.id, "institution_id": inst.id}
    await audit(
        db,
        actor=user.actor,
        action="redemption.declaration_viewed",
        detail=detail,
        ip=client_ip(request),
    )
    await db.commit()
    kind = row.declaration_type or "application/octet-stream"
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(kind, "bin")
    headers = {"Content-Disposition": f'attachment; filename="declaration-{row.id}.{ext}"'}
    return Response(row.declaration_file, media_type=kind, headers=headers)
