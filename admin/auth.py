"""Who is asking: login with throttling and lockout, server-side sessions, API tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.security import new_token, token_hash, verify_password_async
from storage.audit import audit
from storage.models.admin import AdminSession, AdminUser, ApiClient, LoginThrottle

MAX_USER_FAILURES = 5
MAX_IP_FAILURES = 20
LOCK_FOR = timedelta(minutes=15)
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
SESSION_ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Principal:
    """A logged-in admin user or an API client, with the role and scope that limit them."""

    kind: Literal["user", "api"]
    id: int
    name: str
    role: str
    communes: tuple[str, ...] = ()
    trades: tuple[str, ...] = ()
    csrf_token: str = field(default="", repr=False)

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class LoginResult:
    """Outcome of a login attempt: ``ok``, ``bad`` (wrong or unknown) or ``locked``."""

    status: Literal["ok", "bad", "locked"]
    user: AdminUser | None = None


def _principal(user: AdminUser, csrf: str = "") -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=user.role,
        communes=tuple(user.communes or ()),
        trades=tuple(user.trades or ()),
        csrf_token=csrf,
    )


def api_principal(client: ApiClient) -> Principal:
    """The principal an API client acts as."""
    return Principal(
        kind="api",
        id=client.id,
        name=client.name,
        role=client.role,
        communes=tuple(client.communes or ()),
        trades=tuple(client.trades or ()),
    )


async def _throttle(db: AsyncSession, key: str, now: datetime) -> LoginThrottle | None:
    row = await db.get(LoginThrottle, key)
    if (
        row is not None
        and now - row.first_failure_at > FAILURE_WINDOW
        and not (row.locked_until and row.locked_until > now)
    ):
        row.failures = 0
        row.first_failure_at = now
        row.locked_until = None
    return row


async def _is_locked(db: AsyncSession, keys: list[str], now: datetime) -> bool:
    for key in keys:
        row = await _throttle(db, key, now)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return True
    return False


async def _note_failure(db: AsyncSession, key: str, limit: int, now: datetime) -> None:
    row = await _throttle(db, key, now)
    if row is None:
        row = LoginThrottle(key=key, failures=0, first_failure_at=now)
        db.add(row)
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + LOCK_FOR
        row.failures = 0
        row.first_failure_at = now


def _user_locked(user: AdminUser | None, now: datetime) -> bool:
    return bool(user and user.locked_until and user.locked_until > now)


async def login(
    db: AsyncSession, username: str, password: str, ip: str, now: datetime
) -> LoginResult:
    """Check a login, count failures per username and per IP, audit it; the caller commits."""
    name = username.strip().lower()[:64]
    user = await db.scalar(select(AdminUser).where(AdminUser.username == name))
    ip_key, user_key = f"ip:{ip}", f"user:{name}"
    if _user_locked(user, now) or await _is_locked(db, [ip_key, user_key], now):
        await audit(db, actor=f"user:{name}", action="login.locked", detail={}, ip=ip)
        return LoginResult("locked")
    ok = await verify_password_async(user.password_hash if user else None, password)
    if user is not None and ok and user.active:
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        await audit(db, actor=f"user:{name}", action="login.succeeded", detail={}, ip=ip)
        return LoginResult("ok", user)
    await _note_failure(db, ip_key, MAX_IP_FAILURES, now)
    if user is None:
        await _note_failure(db, user_key, MAX_USER_FAILURES, now)
    else:
        user.failed_logins += 1
        if user.failed_logins >= MAX_USER_FAILURES:
            user.locked_until = now + LOCK_FOR
            user.failed_logins = 0
    reason = "inactive" if user is not None and ok else "bad_credentials"
    await audit(db, actor=f"user:{name}", action="login.failed", detail={"reason": reason}, ip=ip)
    return LoginResult("bad")


async def start_session(db: AsyncSession, user: AdminUser, ip: str, now: datetime) -> str:
    """Create a server-side session and return the cookie token (only its hash is stored)."""
    token = new_token()
    db.add(
        AdminSession(
            id=token_hash(token),
            user_id=user.id,
            csrf_token=new_token(24),
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_ABSOLUTE,
            ip=ip[:64],
        )
    )
    await db.flush()
    return token


async def session_principal(db: AsyncSession, token: str | None, now: datetime) -> Principal | None:
    """The principal of a live session; expired or unknown sessions give None (and are removed).

    The caller commits (the removal, or the session's last-seen time).
    """
    if not token or len(token) > 128:
        return None
    sess = await db.get(AdminSession, token_hash(token))
    if sess is None:
        return None
    user = await db.get(AdminUser, sess.user_id)
    expired = now >= sess.expires_at or now - sess.last_seen_at > SESSION_IDLE
    if expired or user is None or not user.active:
        await db.delete(sess)
        return None
    if now - sess.last_seen_at > TOUCH_EVERY:
        sess.last_seen_at = now
    return _principal(user, sess.csrf_token)


async def end_session(db: AsyncSession, token: str | None) -> None:
    """Log out: delete the session row."""
    if token:
        await db.execute(delete(AdminSession).where(AdminSession.id == token_hash(token)))


async def end_user_sessions(db: AsyncSession, user_id: int) -> None:
    """Delete every session of a user (after a password reset or deactivation)."""
    await db.execute(delete(AdminSession).where(AdminSession.user_id == user_id))


async def purge_expired(db: AsyncSession, now: datetime) -> None:
    """Delete sessions past their absolute or idle expiry."""
    await db.execute(
        delete(AdminSession).where(
            (AdminSession.expires_at <= now) | (AdminSession.last_seen_at < now - SESSION_IDLE)
        )
    )


async def token_principal(db: AsyncSession, token: str | None, now: datetime) -> Principal | None:
    """The principal of an active API client whose bearer token this is (the caller commits)."""
    if not token or len(token) > 256:
        return None
    client = await db.scalar(select(ApiClient).where(ApiClient.token_hash == token_hash(token)))
    if client is None or not client.active:
        return None
    if client.last_used_at is None or now - client.last_used_at > TOUCH_EVERY:
        client.last_used_at = now
    return api_principal(client)
