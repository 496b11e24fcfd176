"""The catalog pages: each list, an edit form per row, XLSX import (a check first, then apply),
export and the empty template.

Who may do what (``admin/scope.py``): an institution account sees and edits the courses of its
own institution only; the employment centre edits employers, job fairs and vacancies; admin
edits everything; provincial and commune accounts read. Every change is audited.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from admin.auth import Principal
from admin.deps import MAX_ID, Db, Refused, allowed, allowed_post, client_ip, now, own_institution
from admin.scope import can
from admin.web import lang_of, render
from bot.catalog import xlsx
from bot.catalog.edit import (
    MODELS,
    NAME_COLUMN,
    export_cells,
    key_of,
    load_names,
    save,
    stored_values,
    to_cells,
)
from bot.catalog.importer import Scope, import_file, validate_one
from bot.catalog.problems import Problem, reason, say
from bot.catalog.rows import ROW_MODELS
from bot.catalog.sheets import workbook_spec
from bot.catalog.vocab import vocabularies
from storage import catalog_edit as repo
from storage.audit import audit
from storage.catalog_edit import CatalogModel

router = APIRouter(include_in_schema=False)
LISTS = tuple(ROW_MODELS)
JOB_LISTS = ("employers", "job_fairs", "vacancies")
MAX_UPLOAD = 5 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# columns whose codes the lists show by their label: column → vocabulary of content/catalog.yaml
VOCAB_COLUMNS = {"level": "levels", "mode": "fair_modes", "min_education": "education"}
KIND_VOCAB = {"institutions": "institution_kinds", "job_fairs": "fair_kinds"}
# what each list's table shows besides the name (and the sample badge)
SUMMARY = {
    "institutions": ("kind", "place_code"),
    "support_policies": ("legal_basis", "valid_from"),
    "courses": ("institution", "level", "start_date", "status"),
    "employers": ("sector", "province"),
    "job_fairs": ("kind", "starts_at", "status"),
    "vacancies": ("employer", "headcount", "status"),
}
Viewer = Annotated[Principal, Depends(allowed("catalog"))]
Editor = Annotated[Principal, Depends(allowed_post("catalog"))]


def visible_lists(user: Principal) -> tuple[str, ...]:
    """The lists the principal may see: an institution account only (its own) courses."""
    return ("courses",) if user.role == "institution" else LISTS


def editable_lists(user: Principal) -> tuple[str, ...]:
    """The lists the principal may change."""
    if can(user, "catalog.all"):
        return LISTS
    lists = list(JOB_LISTS) if can(user, "catalog.jobs") else []
    if can(user, "catalog.courses") and user.institution_id is not None:
        lists.append("courses")
    return tuple(lists)


def _own(user: Principal) -> int | None:
    """The institution whose courses alone the principal sees (institution accounts)."""
    if user.role != "institution":
        return None
    return own_institution(user)


def _check_sheet(user: Principal, sheet: str, edit: bool = False) -> None:
    if sheet not in visible_lists(user):
        raise HTTPException(status_code=404)
    if edit and sheet not in editable_lists(user):
        _own(user)
        raise HTTPException(status_code=403)


async def _item(db: Db, user: Principal, sheet: str, item_id: int) -> CatalogModel:
    """One row the principal may see (404 otherwise, also for another institution's course)."""
    obj = await repo.get(db, MODELS[sheet], item_id)
    own = _own(user)
    if obj is None or (own is not None and getattr(obj, "institution_id", own) != own):
        raise HTTPException(status_code=404)
    return obj


@router.get("/catalog")
async def catalog_home(user: Viewer) -> Response:
    """The first list the principal may see."""
    return RedirectResponse(f"/catalog/{visible_lists(user)[0]}", status_code=303)


@router.get("/catalog/template.xlsx")
async def template(user: Viewer) -> Response:
    """The empty workbook."""
    return _xlsx(xlsx.write(), "catalog-template.xlsx")


@router.get("/catalog/export.xlsx")
async def export(request: Request, db: Db, user: Viewer) -> Response:
    """The lists the principal sees, as a workbook that imports back unchanged."""
    tz = request.app.state.settings.tz
    cells = await export_cells(db, tz, visible_lists(user), _own(user))
    return _xlsx(xlsx.write(cells), "catalog.xlsx")


def _xlsx(content: bytes, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=XLSX_TYPE, headers=headers)


@router.get("/catalog/import")
async def import_page(request: Request, user: Viewer) -> Response:
    """The upload form."""
    if not editable_lists(user):
        raise HTTPException(status_code=403)
    return render(request, "catalog_import.html", active="catalog", report=None)


@router.post("/catalog/import")
async def import_post(request: Request, db: Db, user: Editor) -> Response:
    """``step=check``: the uploaded file checked, nothing written, with a button to apply it;
    ``step=apply``: the same file imported (all rows or none)."""
    lists = editable_lists(user)
    if not lists:
        _own(user)
        raise HTTPException(status_code=403)
    form = await request.form()
    apply = form.get("step") == "apply"
    upload = form.get("file")
    content = await uploaded_workbook(upload, form.get("content"), apply)
    name = upload.filename if isinstance(upload, UploadFile) else None
    source = str(form.get("name") or name or "")
    settings = request.app.state.settings
    scope = Scope(frozenset(lists), _own(user))
    report = await import_file(
        db,
        content,
        tz=settings.tz,
        now=now(request),
        actor=user.actor,
        scope=scope,
        province=settings.province_code,
        dry_run=not apply,
        ip=client_ip(request),
        source=source,
    )
    return render(
        request,
        "catalog_import.html",
        200 if report.ok else 400,
        active="catalog",
        report=report,
        messages=[say(p, lang_of(request)) for p in report.problems],
        content=base64.b64encode(content).decode() if report.ok and not apply else "",
        file_name=source,
        sheets=workbook_spec().sheets,
    )


async def uploaded_workbook(upload: Any, encoded: Any, apply: bool) -> bytes:
    """The workbook: the uploaded file (check) or the checked file sent back (apply)."""
    if apply and isinstance(encoded, str):
        try:
            content = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise Refused(status_code=400, detail="Upload the file again.") from None
    elif isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read(MAX_UPLOAD + 1)
    else:
        raise Refused(status_code=400, detail="Choose an XLSX file to import.")
    if len(content) > MAX_UPLOAD:
        raise Refused(status_code=413, detail="The file is too big (at most 5 MB).")
    return content


@router.get("/catalog/{sheet}")
async def list_page(request: Request, db: Db, user: Viewer, sheet: str) -> Response:
    """One list: its rows, the sample ones marked."""
    _check_sheet(user, sheet)
    names = await load_names(db)
    tz, lang = request.app.state.settings.tz, lang_of(request)
    items = [
        (obj, _shown(sheet, to_cells(sheet, obj, names, tz), lang))
        for obj in await repo.rows(db, MODELS[sheet], _own(user))
    ]
    return render(
        request,
        "catalog.html",
        active="catalog",
        sheet=sheet,
        sheets=workbook_spec().sheets,
        lists=visible_lists(user),
        can_edit=sheet in editable_lists(user),
        can_import=bool(editable_lists(user)),
        items=items,
        name_column=NAME_COLUMN[sheet],
        summary=SUMMARY[sheet],
    )


def _shown(sheet: str, cells: dict[str, Any], lang: str) -> dict[str, Any]:
    """Cells as a list shows them: vocabulary codes by their label."""
    vocab = {**VOCAB_COLUMNS, "kind": KIND_VOCAB.get(sheet, "")}
    return {
        c: vocabularies().label(vocab[c], v, lang) if vocab.get(c) and v else v
        for c, v in cells.items()
    }


@router.get("/catalog/{sheet}/new")
async def new_form(request: Request, db: Db, user: Viewer, sheet: str) -> Response:
    """An empty form (an institution's own name filled in for its courses)."""
    _check_sheet(user, sheet, edit=True)
    own = await repo.institution_name(db, user.institution_id) if sheet == "courses" else None
    return _form(request, user, sheet, None, {"institution": own or ""})


@router.get("/catalog/{sheet}/{item_id}")
async def edit_form(
    request: Request,
    db: Db,
    user: Viewer,
    sheet: str,
    item_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """One row's form (read-only for those who may not change the list)."""
    _check_sheet(user, sheet)
    obj = await _item(db, user, sheet, item_id)
    cells = to_cells(sheet, obj, await load_names(db), request.app.state.settings.tz)
    return _form(request, user, sheet, obj, cells)


@router.post("/catalog/{sheet}/new")
async def create(request: Request, db: Db, user: Editor, sheet: str) -> Response:
    """Save a new row."""
    _check_sheet(user, sheet, edit=True)
    return await _save(request, db, user, sheet, None)


@router.post("/catalog/{sheet}/{item_id}")
async def update(
    request: Request,
    db: Db,
    user: Editor,
    sheet: str,
    item_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """Save the changes to one row."""
    _check_sheet(user, sheet, edit=True)
    return await _save(request, db, user, sheet, await _item(db, user, sheet, item_id))


async def _save(
    request: Request, db: Db, user: Principal, sheet: str, obj: CatalogModel | None
) -> Response:
    form = await request.form()
    columns = workbook_spec().columns(sheet)
    cells = {c: form.get(c) for c in columns if isinstance(form.get(c), str)}
    settings = request.app.state.settings
    scope = Scope(frozenset(editable_lists(user)), _own(user))
    row, problems, names = await validate_one(db, sheet, cells, scope, settings.province_code)
    if row is not None and not problems:
        taken = await repo.find(
            db, MODELS[sheet], key_of(sheet, stored_values(sheet, row, names, settings.tz))
        )
        if taken is not None and (obj is None or taken.id != obj.id):
            problems = [Problem("taken", sheet, None, row.KEY[0], {"value": row.key()[0]})]
    if row is None or problems:
        return _form(request, user, sheet, obj, cells, problems, 400)
    saved = await save(db, sheet, row, names, settings.tz, now(request), obj)
    detail = {
        "list": sheet,
        "id": saved.obj.id,
        "name": getattr(saved.obj, NAME_COLUMN[sheet]),
        "columns": saved.columns,
    }
    action = "catalog.created" if obj is None else "catalog.updated"
    if saved.change != "unchanged":
        await audit(db, actor=user.actor, action=action, detail=detail, ip=client_ip(request))
    await db.commit()
    return RedirectResponse(f"/catalog/{sheet}", status_code=303)


def _form(
    request: Request,
    user: Principal,
    sheet: str,
    obj: CatalogModel | None,
    cells: dict[str, Any],
    problems: list[Problem] | None = None,
    status: int = 200,
) -> Response:
    lang = lang_of(request)
    errors = {p.column: reason(p, lang) for p in problems or () if p.column}
    general = [say(p, lang) for p in problems or () if not p.column]
    model = ROW_MODELS[sheet]
    flags = {c for c, info in model.model_fields.items() if info.annotation is bool}
    return render(
        request,
        "catalog_edit.html",
        status,
        active="catalog",
        sheet=sheet,
        sheets=workbook_spec().sheets,
        obj=obj,
        cells=cells,
        columns=workbook_spec().columns(sheet),
        flags=flags,
        errors=errors,
        general=general,
        can_edit=sheet in editable_lists(user),
    )
