"""Admin-only pages: accounts (create, deactivate, reset password), API clients, audit log."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from admin import auth
from admin.accounts import (
    TOKEN_DAYS_DEFAULT,
    TOKEN_DAYS_MAX,
    AccountError,
    create_api_client,
    create_user,
)
from admin.auth import Principal
from admin.deps import MAX_ID, Db, allowed, allowed_post, client_ip, now
from admin.routes.people import _commune_choices, _trade_choices
from admin.scope import ALL_ROLES
from admin.security import hash_password_async
from admin.web import render
from storage import catalog_edit
from storage.audit import audit
from storage.models.admin import ROLES, AdminUser, ApiClient, AuditEntry
from storage.models.catalog import Institution

router = APIRouter(include_in_schema=False)
# from the most to the least privileged; new accounts and API clients start at the last
ROLE_ORDER = ROLES
AUDIT_PAGE = 50


async def _accounts_page(request: Request, db: Db, status: int = 200, **ctx: object) -> Response:
    users = (await db.scalars(select(AdminUser).order_by(AdminUser.username))).all()
    clients = (await db.scalars(select(ApiClient).order_by(ApiClient.name))).all()
    return render(
        request,
        "accounts.html",
        status,
        users=users,
        paused=await auth.paused_logins(db, now(request)),
        clients=clients,
        at=now(request),
        roles=ROLE_ORDER,
        least_role=ROLE_ORDER[-1],
        token_days=TOKEN_DAYS_DEFAULT,
        token_days_max=TOKEN_DAYS_MAX,
        communes=_commune_choices(request.state.principal),
        trades=_trade_choices(),
        institutions=await catalog_edit.names(db, Institution, "name"),
        **ctx,
    )


async def _record(
    request: Request, db: Db, user: Principal, action: str, detail: dict[str, Any]
) -> None:
    """Audit the change and commit it."""
    await audit(db, actor=user.actor, action=action, detail=detail, ip=client_ip(request))
    await db.commit()


@router.get("/accounts")
async def accounts_page(
    request: Request, db: Db, user: Annotated[Principal, Depends(allowed("accounts"))]
) -> Response:
    """Accounts and API clients."""
    return await _accounts_page(request, db)


@router.post("/accounts")
async def account_create(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed_post("accounts"))],
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
    password: Annotated[str, Form(max_length=1024)],
    commune: Annotated[list[str], Form()] = [],  # noqa: B006
    trade: Annotated[list[str], Form()] = [],  # noqa: B006
    institution: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Create an account (an institution account linked to its institution)."""
    try:
        account = await create_user(db, username, password, role, commune, trade)
        account.institution_id = await _institution(db, role, institution)
    except AccountError as exc:
        await db.rollback()
        return await _accounts_page(request, db, 400, error=str(exc))
    detail = {
        "username": account.username,
        "role": role,
        "communes": account.communes,
        "trades": account.trades,
        "institution_id": account.institution_id,
    }
    await _record(request, db, user, "account.created", detail)
    return RedirectResponse("/accounts", status_code=303)


async def _institution(db: Db, role: str, chosen: str) -> int | None:
    """The institution an institution account is linked to (none for other roles)."""
    if role != "institution" or not chosen:
        return None
    if not chosen.isdigit() or await db.get(Institution, int(chosen)) is None:
        raise AccountError("Choose an institution from the list.")
    return int(chosen)


@router.post("/accounts/{account_id}")
async def account_change(
    request: Request,
    db: Db,
    account_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    user: Annotated[Principal, Depends(allowed_post("accounts"))],
    action: Annotated[str, Form(pattern="^(deactivate|activate|reset|unlock)$")],
) -> Response:
    """Deactivate, activate, unlock an account (forget its failed logins from every address)
    or reset its password (shown once)."""
    account = await db.get(AdminUser, account_id)
    if account is None:
        raise HTTPException(status_code=404)
    if account.id == user.id and action == "deactivate":
        return await _accounts_page(request, db, 400, error="You cannot deactivate yourself.")
    temp = None
    if action in ("deactivate", "activate"):
        account.active = action == "activate"
        await auth.end_user_sessions(db, account.id)
    elif action == "unlock":
        await auth.unlock(db, account.username)
    else:
        temp = secrets.token_urlsafe(12)
        account.password_hash = await hash_password_async(temp)
        account.password_changed_at = now(request)
        await auth.unlock(db, account.username)
        await auth.end_user_sessions(db, account.id)
    detail = {"username": account.username}
    await _record(request, db, user, f"account.{action}", detail)
    if temp:
        return await _accounts_page(request, db, reset_for=account.username, temp_password=temp)
    return RedirectResponse("/accounts", status_code=303)


@router.post("/api-clients")
async def api_client_create(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed_post("accounts"))],
    name: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
    commune: Annotated[list[str], Form()] = [],  # noqa: B006
    trade: Annotated[list[str], Form()] = [],  # noqa: B006
    days: Annotated[int, Form()] = TOKEN_DAYS_DEFAULT,
) -> Response:
    """Create an API client; its token is shown once and expires after ``days``."""
    try:
        client, token = await create_api_client(
            db, name, role, commune, trade, user.name, days=days, now=now(request)
        )
    except AccountError as exc:
        await db.rollback()
        return await _accounts_page(request, db, 400, error=str(exc))
    detail = {
        "client": client.name,
        "role": role,
        "communes": client.communes,
        "trades": client.trades,
        "expires_at": client.expires_at.isoformat(),
    }
    await _record(request, db, user, "api_client.created", detail)
    return await _accounts_page(request, db, new_client=client.name, new_token=token)


@router.post("/api-clients/{client_id}")
async def api_client_change(
    request: Request,
    db: Db,
    client_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    user: Annotated[Principal, Depends(allowed_post("accounts"))],
    action: Annotated[str, Form(pattern="^(deactivate|activate)$")],
) -> Response:
    """Deactivate or reactivate an API client."""
    client = await db.get(ApiClient, client_id)
    if client is None:
        raise HTTPException(status_code=404)
    client.active = action == "activate"
    await _record(request, db, user, f"api_client.{action}", {"client": client.name})
    return RedirectResponse("/accounts", status_code=303)


@router.get("/audit")
async def audit_page(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed("audit"))],
    action: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The audit log, newest first, filterable by action prefix."""
    conds = [AuditEntry.action.startswith(action, autoescape=True)] if action else []
    total = int(await db.scalar(select(func.count()).select_from(AuditEntry).where(*conds)) or 0)
    entries = (
        await db.scalars(
            select(AuditEntry)
            .where(*conds)
            .order_by(AuditEntry.id.desc())
            .offset((page - 1) * AUDIT_PAGE)
            .limit(AUDIT_PAGE)
        )
    ).all()
    pages = max(1, -(-total // AUDIT_PAGE))
    return render(
        request, "audit.html", entries=entries, action=action, page=page, pages=pages, total=total
    )


assert set(ROLE_ORDER) == ALL_ROLES
