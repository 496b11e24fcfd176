"""Login, logout, language, password change, dashboard and survey content pages."""

from __future__ import annotations

from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from admin import auth
from admin.auth import Principal
from admin.dashboard import Dashboard, dashboard
from admin.deps import (
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Db,
    allowed,
    client_ip,
    csrf_checked,
    now,
)
from admin.security import (
    hash_password_async,
    new_token,
    password_problem,
    same,
    verify_password_async,
)
from admin.survey_view import survey_questions
from admin.web import render
from bot.i18n import LANGUAGES
from bot.reporting.support_paid import money
from storage.audit import audit
from storage.models.admin import AdminUser

router = APIRouter(include_in_schema=False)
DASHBOARD_TTL = timedelta(seconds=30)  # figures may be this old; keeps a busy dashboard cheap


def safe_next(target: str | None) -> str:
    """Only same-site relative redirect targets."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def set_cookie(request: Request, response: Response, name: str, value: str, **kw: Any) -> None:
    """Set an HttpOnly, SameSite=Lax cookie; Secure follows settings.cookie_secure."""
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=bool(request.app.state.settings.cookie_secure),
        **kw,
    )


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie for a new session, valid as long as the session may last."""
    max_age = int(auth.SESSION_ABSOLUTE.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, token, path="/", max_age=max_age)


def cookies_lost_over_http(request: Request) -> bool:
    """Secure cookies on a page opened over plain http at a non-local address: the browser
    never sends them back, so no login can work (http://localhost is fine for browsers)."""
    if not request.app.state.settings.cookie_secure or request.url.scheme != "http":
        return False
    host = (request.url.hostname or "").strip("[]").lower()
    try:
        return not ip_address(host).is_loopback
    except ValueError:
        return host != "localhost" and not host.endswith(".localhost")


def _wait_words(seconds: int) -> tuple[str, int]:
    """A wait as a msgid and its number: seconds under a minute, else whole minutes."""
    return ("%(n)s s", seconds) if seconds < 60 else ("%(n)s min", -(-seconds // 60))


def _login_page(
    request: Request, status: int = 200, error: str = "", nxt: str = "/", retry_after: int = 0
) -> Response:
    token = new_token(24)
    resp = render(
        request,
        "login.html",
        status,
        login_csrf=token,
        error=error,
        next=nxt,
        wait=_wait_words(retry_after),
        cookies_lost=cookies_lost_over_http(request),
    )
    set_cookie(request, resp, LOGIN_CSRF_COOKIE, token, path="/login", max_age=3600)
    if retry_after:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


@router.get("/login")
async def login_form(request: Request, next: str = "/") -> Response:
    """The login form."""
    return _login_page(request, nxt=safe_next(next))


@router.post("/login")
async def login_submit(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    """Check credentials (throttled), start a session and set its cookie.

    An address that failed many times lately is held back a few seconds first; a username
    that failed from this address must wait its back-off (429 with Retry-After).
    """
    if not same(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        if cookies_lost_over_http(request):  # say why, rather than a bare 403
            return _login_page(request, 403, nxt=safe_next(next))
        raise HTTPException(status_code=403, detail="csrf")
    ip = client_ip(request)
    delay = await auth.address_delay(db, ip, now(request))
    if delay:
        await db.rollback()  # hold no transaction while waiting
        await request.app.state.sleep(delay)
    at = now(request)
    result = await auth.login(db, username, password, ip, at)
    if result.status != "ok" or result.user is None:
        await db.commit()
        error = "locked" if result.status == "locked" else "bad"
        status = 429 if error == "locked" else 401
        return _login_page(request, status, error, safe_next(next), result.retry_after)
    token = await auth.start_session(db, result.user, ip, at)
    await auth.purge_expired(db, at)
    await db.commit()
    resp = RedirectResponse(safe_next(next), status_code=303)
    _set_session_cookie(request, resp, token)
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
async def logout(
    request: Request, db: Db, user: Annotated[Principal, Depends(csrf_checked)]
) -> Response:
    """End the session."""
    await auth.end_session(db, request.cookies.get(SESSION_COOKIE))
    await audit(db, actor=user.actor, action="logout", detail={}, ip=client_ip(request))
    await db.commit()
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Switch the page language (cookie) and go back."""
    if code not in LANGUAGES:
        raise HTTPException(status_code=404)
    resp = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(request, resp, LANG_COOKIE, code, path="/", max_age=365 * 86400)
    return resp


@router.get("/password")
async def password_form(
    request: Request, user: Annotated[Principal, Depends(allowed("dashboard"))]
) -> Response:
    """The password change form."""
    return render(request, "password.html")


@router.post("/password")
async def password_submit(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(csrf_checked)],
    current: Annotated[str, Form(max_length=1024)] = "",
    new: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change one's own password; other sessions are ended."""
    account = await db.get(AdminUser, user.id)
    if account is None:
        raise HTTPException(status_code=404)
    error = None
    if not await verify_password_async(account.password_hash, current):
        error = "Current password is wrong."
    elif new != confirm:
        error = "The two new passwords differ."
    else:
        error = password_problem(new)
    if error:
        return render(request, "password.html", 400, error=error)
    at = now(request)
    account.password_hash = await hash_password_async(new)
    account.password_changed_at = at
    await auth.end_user_sessions(db, account.id)
    token = await auth.start_session(db, account, client_ip(request), at)
    await audit(
        db, actor=user.actor, action="account.password_changed", detail={}, ip=client_ip(request)
    )
    await db.commit()
    resp = render(request, "password.html", done=True)
    _set_session_cookie(request, resp, token)
    return resp


@router.get("/")
async def dashboard_page(
    request: Request,
    user: Annotated[Principal, Depends(allowed("dashboard"))],
    year: int | None = None,
) -> Response:
    """Counts, KPIs against targets, demand by trade, survey funnel."""
    if year is not None and not 1990 <= year <= 2100:
        year = None
    cache: dict[tuple[Any, ...], tuple[datetime, Dashboard]] = request.app.state.dashboard_cache
    own = user.id if user.role == "counsellor" else 0
    key = (user.role, user.communes, user.trades, own, user.institution_id, year)
    at = now(request)
    hit = cache.get(key)
    if hit is None or hit[0] <= at:
        if len(cache) > 500:
            cache.clear()
        tz = request.app.state.settings.tz
        figures = await dashboard(
            request.app.state.sessionmaker,
            user,
            year,
            tz=tz,
            today=at.astimezone(tz).date(),
            now=at,
        )
        hit = (at + DASHBOARD_TTL, figures)
        cache[key] = hit
    return render(request, "dashboard.html", d=hit[1], money=money)


@router.get("/survey")
async def survey_page(
    request: Request, user: Annotated[Principal, Depends(allowed("survey"))]
) -> Response:
    """The current survey questions as people read them."""
    version, questions, problem = survey_questions()
    return render(request, "survey.html", version=version, questions=questions, problem=problem)
