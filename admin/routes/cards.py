"""The training cards pages: the list (search by number or name, filter by status), recording
one card, importing the units' lists (a check first, then apply), a card's page (status, the
person it is matched to, revocation with a reason).

Permissions (``admin/scope.py``): ``cards`` to look, ``cards.edit`` to change. An institution
account holds ``cards`` only to look a card up when redeeming it (another page); it may not
open these pages (403). Every change is audited (``bot/cards/cards.py``).
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from admin.auth import Principal
from admin.deps import MAX_ID, Db, allowed, allowed_post, client_ip
from admin.routes.catalog import XLSX_TYPE, uploaded_workbook
from admin.scope import can
from admin.web import lang_of, render
from bot.cards import importer
from bot.cards.cards import STATUSES, CardError, entitled, record, revoke
from bot.cards.rules import current_rules
from bot.catalog.problems import Problem, reason, say
from storage import cards as repo
from storage.models import Person
from storage.models.cards import TrainingCard

router = APIRouter(include_in_schema=False)
FLAGS = ("service_completed", "other_state_training")
ACTIVE = "cards.edit"  # the menu entry (admin/web.py NAV): those who may use these pages


async def _officer(user: Annotated[Principal, Depends(allowed("cards"))]) -> Principal:
    """Allowed ``cards`` and not an institution (which looks cards up only to redeem them)."""
    if user.role == "institution":
        raise HTTPException(status_code=403)
    return user


Viewer = Annotated[Principal, Depends(_officer)]
Editor = Annotated[Principal, Depends(allowed_post("cards.edit"))]


@router.get("/cards")
async def list_page(
    request: Request, db: Db, user: Viewer, q: str = "", status: str = ""
) -> Response:
    """Cards, newest first, searched by number or holder name, of one status."""
    wanted = status if status in STATUSES else None
    cards = await repo.search(db, text=q.strip()[:64] or None, status=wanted)
    return render(
        request,
        "cards.html",
        active=ACTIVE,
        cards=cards,
        q=q,
        status=wanted or "",
        statuses=STATUSES,
        can_edit=can(user, "cards.edit"),
    )


@router.get("/cards/template.xlsx")
async def template(user: Viewer) -> Response:
    """The empty list of cards."""
    headers = {"Content-Disposition": 'attachment; filename="cards-template.xlsx"'}
    return Response(importer.template(), media_type=XLSX_TYPE, headers=headers)


@router.get("/cards/new")
async def new_form(request: Request, user: Viewer) -> Response:
    """The form to record one card."""
    _may_edit(user)
    return _form(request, {"service_completed": "có"})


@router.post("/cards/new")
async def create(request: Request, db: Db, user: Editor) -> Response:
    """Record one card (checked as an import row is)."""
    _may_edit(user)
    form = await request.form()
    cells: dict[str, str] = {}
    for column in importer.card_sheets().columns(importer.SHEET):
        value = form.get(column)
        if column in FLAGS:
            cells[column] = "có" if value else "không"
        elif isinstance(value, str) and value.strip():
            cells[column] = value
    rules = await current_rules(db)
    settings = request.app.state.settings
    row, problems = importer.check_row(cells, None, settings.province_code, rules)
    if row is not None:
        try:
            card = await record(
                db, row.data(), rules=rules, actor=user.actor, ip=client_ip(request)
            )
        except CardError:
            problems = [Problem("taken", None, None, "number", {"value": row.number})]
        else:
            await db.commit()
            return RedirectResponse(f"/cards/{card.id}", status_code=303)
    await db.rollback()
    return _form(request, cells, problems, 400)


def _form(
    request: Request,
    cells: dict[str, str],
    problems: list[Problem] | None = None,
    status: int = 200,
) -> Response:
    lang = lang_of(request)
    return render(
        request,
        "card_new.html",
        status,
        active=ACTIVE,
        sheet=importer.card_sheets().sheets[importer.SHEET],
        columns=importer.card_sheets().columns(importer.SHEET),
        flags=FLAGS,
        cells=cells,
        errors={p.column: reason(p, lang) for p in problems or () if p.column},
    )


@router.get("/cards/import")
async def import_page(request: Request, user: Viewer) -> Response:
    """The upload form."""
    _may_edit(user)
    return render(request, "cards_import.html", active=ACTIVE, report=None)


@router.post("/cards/import")
async def import_post(request: Request, db: Db, user: Editor) -> Response:
    """``step=check``: the file checked, nothing written, a button to apply it;
    ``step=apply``: the same file imported (every card or none)."""
    _may_edit(user)
    form = await request.form()
    apply = form.get("step") == "apply"
    upload = form.get("file")
    content = await uploaded_workbook(upload, form.get("content"), apply)
    name = upload.filename if isinstance(upload, UploadFile) else None
    source = str(form.get("name") or name or "")
    report = await importer.import_file(
        db,
        content,
        actor=user.actor,
        province=request.app.state.settings.province_code,
        dry_run=not apply,
        ip=client_ip(request),
        source=source,
    )
    return render(
        request,
        "cards_import.html",
        200 if report.ok else 400,
        active=ACTIVE,
        report=report,
        created=report.count("created"),
        messages=[say(p, lang_of(request)) for p in report.problems],
        content=base64.b64encode(content).decode() if report.ok and not apply else "",
        file_name=source,
    )


@router.get("/cards/{card_id}")
async def card_page(
    request: Request, db: Db, user: Viewer, card_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """One card: what the unit said, its status, the person it is matched to."""
    card = await _card(db, card_id)
    return _card_page(request, user, card, await _person(db, card))


@router.post("/cards/{card_id}/revoke")
async def revoke_post(
    request: Request, db: Db, user: Editor, card_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """Revoke a card not redeemed, with a reason."""
    _may_edit(user)
    card = await _card(db, card_id)
    why = (await request.form()).get("reason")
    try:
        await revoke(
            db, card, why if isinstance(why, str) else "", actor=user.actor, ip=client_ip(request)
        )
    except CardError as exc:
        await db.rollback()
        card = await _card(db, card_id)
        return _card_page(request, user, card, await _person(db, card), exc.key, 400)
    await db.commit()
    return RedirectResponse(f"/cards/{card_id}", status_code=303)


def _card_page(
    request: Request,
    user: Principal,
    card: TrainingCard,
    person: Person | None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "card.html",
        status,
        active=ACTIVE,
        card=card,
        person=person,
        entitled=entitled(card),
        error=error,
        can_edit=can(user, "cards.edit"),
        can_see_people=can(user, "people"),
    )


def _may_edit(user: Principal) -> None:
    if not can(user, "cards.edit") or user.role == "institution":
        raise HTTPException(status_code=403)


async def _card(db: Db, card_id: int) -> TrainingCard:
    card = await repo.by_id(db, card_id)
    if card is None:
        raise HTTPException(status_code=404)
    return card


async def _person(db: Db, card: TrainingCard) -> Person | None:
    return await db.get(Person, card.person_id) if card.person_id is not None else None
