"""FastAPI dependencies: database session, clock, the logged-in principal, CSRF, API bearer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import Principal, session_principal, token_principal
from admin.scope import can
from admin.security import same
from storage.models.catalog import Institution

SESSION_COOKIE = "xa_session"
LANG_COOKIE = "xa_lang"
LOGIN_CSRF_COOKIE = "xa_login_csrf"
MAX_ID = 2**31 - 1  # the largest id a database integer column holds
NUL_REFUSED = "The text holds a character that is not allowed (NUL)."


class LoginRequired(Exception):
    """Raised by page dependencies when nobody is logged in (handled as a redirect)."""


class Refused(HTTPException):
    """A 4xx whose ``detail`` is said to the person (a msgid of the admin catalog)."""


NO_INSTITUTION = "This account is not linked to an institution; ask an administrator."


def own_institution(user: Principal) -> int:
    """An institution account's institution; a 403 saying what to do when it has none."""
    if user.institution_id is None:
        raise Refused(status_code=403, detail=NO_INSTITUTION)
    return user.institution_id


async def visible_institution(
    db: AsyncSession, user: Principal, institution_id: int
) -> Institution:
    """The institution, if the user may see or act for it: an institution account only its
    own (404 for any other, as for one that does not exist)."""
    if user.role == "institution" and user.institution_id != institution_id:
        raise HTTPException(status_code=404)
    found = await db.get(Institution, institution_id)
    if found is None:
        raise HTTPException(status_code=404)
    return found


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one database session (FastAPI gives every dependency the same one)."""
    async with request.app.state.sessionmaker() as session:
        yield session


Db = Annotated[AsyncSession, Depends(get_db)]


def now(request: Request) -> datetime:
    """The app clock (tests replace ``app.state.clock``)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def client_ip(request: Request) -> str:
    """The client's address: the peer, or what a trusted proxy says it is (``TRUSTED_PROXIES``,
    applied by uvicorn's proxy headers, see ``admin/app.py:server_config``)."""
    return (request.client.host if request.client else "unknown")[:64]


async def no_nul_bytes(request: Request) -> None:
    """Refuse (400) a query or form holding a NUL character: PostgreSQL cannot store or compare
    text with one, and no field of ours has a use for it."""
    fields = list(request.query_params.multi_items())
    if request.method == "POST":
        fields += [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    if any("\x00" in key or "\x00" in value for key, value in fields):
        raise Refused(status_code=400, detail=NUL_REFUSED)


async def current_user(request: Request, db: Db) -> Principal:
    """The logged-in admin user, or :class:`LoginRequired`.

    Commits, which also gives the connection back while the page works: a page may run queries
    on sessions of its own (the dashboard's run side by side).
    """
    principal = await session_principal(db, request.cookies.get(SESSION_COOKIE), now(request))
    await db.commit()
    if principal is None:
        raise LoginRequired()
    request.state.principal = principal
    return principal


User = Annotated[Principal, Depends(current_user)]


def allowed(what: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the logged-in user, who must be allowed ``what`` (else 403)."""

    async def dep(user: User) -> Principal:
        if not can(user, what):
            raise HTTPException(status_code=403)
        return user

    return dep


async def csrf_checked(request: Request, user: User) -> Principal:
    """The logged-in user after checking the form's CSRF token against the session's (else 403)."""
    form = await request.form()
    token = form.get("csrf_token")
    if not isinstance(token, str) or not same(token, user.csrf_token):
        raise HTTPException(status_code=403, detail="csrf")
    return user


def allowed_post(what: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency for form POSTs: CSRF checked, then ``what`` must be allowed."""

    async def dep(user: Annotated[Principal, Depends(csrf_checked)]) -> Principal:
        if not can(user, what):
            raise HTTPException(status_code=403)
        return user

    return dep


bearer = HTTPBearer(auto_error=False, description="API client token created by an admin")


async def api_client(
    request: Request,
    db: Db,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The API client of the bearer token (401 when missing, unknown or expired)."""
    token = creds.credentials if creds else None
    principal = await token_principal(db, token, now(request))
    await db.commit()
    if principal is None:
        raise HTTPException(
            status_code=401,
            detail="invalid or expired token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


Client = Annotated[Principal, Depends(api_client)]
