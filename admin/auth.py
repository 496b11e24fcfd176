"""Who is asking: login throttled per (username, address), server-side sessions, API tokens."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.security import new_token, token_hash, verify_password_async
from storage.audit import audit
from storage.models.admin import AdminSession, AdminUser, ApiClient, LoginThrottle

# a (username, address) pair waits 1 s after a wrong password, then 2 s, 4 s, … at most 15 min;
# a day without failures forgets them
PAIR_FIRST_WAIT = timedelta(seconds=1)
PAIR_MAX_WAIT = timedelta(minutes=15)
PAIR_FORGET = timedelta(days=1)
# an address with this many failures (any usernames) within a quiet-reset window gets every
# attempt held back a little: it slows guessing, it never refuses anyone
ADDRESS_FREE_FAILURES = 10
ADDRESS_WINDOW = timedelta(minutes=15)
ADDRESS_DELAY = timedelta(seconds=3)
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
    # an institution account's institution: the courses it edits, the lists it sees
    institution_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class LoginResult:
    """Outcome of a login attempt: ``ok``, ``bad`` (wrong or unknown) or ``locked`` (this
    username from this address must wait ``retry_after`` seconds)."""

    status: Literal["ok", "bad", "locked"]
    user: AdminUser | None = None
    retry_after: int = 0


def _principal(user: AdminUser, csrf: str = "") -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=user.role,
        communes=tuple(user.communes or ()),
        trades=tuple(user.trades or ()),
        csrf_token=csrf,
        institution_id=user.institution_id,
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
        institution_id=client.institution_id,
    )


async def _throttle_row(
    db: AsyncSession, username: str, address: str, now: datetime, forget: timedelta
) -> LoginThrottle | None:
    """The pair's (or with ``username=""`` the address's) row; one quiet for ``forget`` restarts."""
    row = await db.get(LoginThrottle, (username, address))
    if row is not None and now - row.last_failure_at > forget:
        blocked = row.blocked_until is not None and row.blocked_until > now
        if not blocked:
            row.failures, row.blocked_until = 0, None
    return row


def pair_wait(failures: int) -> timedelta:
    """How long a pair waits after its ``failures``-th failure in a row: 1 s, 2 s, 4 s, … 15 min."""
    return min(PAIR_FIRST_WAIT * 2 ** min(failures - 1, 20), PAIR_MAX_WAIT)


async def address_delay(db: AsyncSession, ip: str, now: datetime) -> float:
    """Seconds to hold a login attempt from an address that failed a lot lately (else 0).

    It only slows: the attempt is checked afterwards like any other, whatever the account.
    """
    row = await _throttle_row(db, "", ip[:64], now, ADDRESS_WINDOW)
    if row is None or row.failures < ADDRESS_FREE_FAILURES:
        return 0.0
    return ADDRESS_DELAY.total_seconds()


def _note_failure(
    db: AsyncSession, row: LoginThrottle | None, key: tuple[str, str], now: datetime
) -> LoginThrottle:
    if row is None:
        row = LoginThrottle(username=key[0], address=key[1], failures=0)
        db.add(row)
    row.failures += 1
    row.last_failure_at = now
    return row


async def login(
    db: AsyncSession, username: str, password: str, ip: str, now: datetime
) -> LoginResult:
    """Check a login, throttled per (username, address) pair, and audit it; the caller commits.

    A wrong password makes the pair wait before its next attempt (:func:`pair_wait`); the
    password is not even checked while it waits. Nothing here blocks a pair or an account
    that did not fail itself: another address trying someone's name never locks them out.
    """
    name, addr = username.strip().lower()[:64], ip[:64]
    pair = await _throttle_row(db, name, addr, now, PAIR_FORGET) if name else None
    if pair is not None and pair.blocked_until is not None and pair.blocked_until > now:
        wait = math.ceil((pair.blocked_until - now).total_seconds())
        detail = {"retry_after": wait}
        await audit(db, actor=f"user:{name}", action="login.locked", detail=detail, ip=ip)
        return LoginResult("locked", retry_after=wait)
    user = await db.scalar(select(AdminUser).where(AdminUser.username == name)) if name else None
    ok = await verify_password_async(user.password_hash if user else None, password)
    if user is not None and ok and user.active:
        if pair is not None:
            await db.delete(pair)
        user.last_login_at = now
        await audit(db, actor=f"user:{name}", action="login.succeeded", detail={}, ip=ip)
        return LoginResult("ok", user)
    address = await _throttle_row(db, "", addr, now, ADDRESS_WINDOW)
    _note_failure(db, address, ("", addr), now)
    if name:
        pair = _note_failure(db, pair, (name, addr), now)
        pair.blocked_until = now + pair_wait(pair.failures)
    reason = "inactive" if user is not None and ok else "bad_credentials"
    await audit(db, actor=f"user:{name}", action="login.failed", detail={"reason": reason}, ip=ip)
    return LoginResult("bad")


async def unlock(db: AsyncSession, username: str) -> int:
    """Forget the failed logins of ``username`` from every address; how many addresses had some."""
    name = username.strip().lower()
    if not name:  # the address rows: they only slow, nobody unlocks them
        return 0
    mine = LoginThrottle.username == name
    count = int(await db.scalar(select(func.count()).select_from(LoginThrottle).where(mine)) or 0)
    await db.execute(delete(LoginThrottle).where(mine))
    return count


async def paused_logins(db: AsyncSession, now: datetime) -> dict[str, datetime]:
    """Usernames with a pair that must still wait, and until when the last one waits."""
    stmt = (
        select(LoginThrottle.username, func.max(LoginThrottle.blocked_until))
        .where(LoginThrottle.username != "", LoginThrottle.blocked_until > now)
        .group_by(LoginThrottle.username)
    )
    return {name: until for name, until in (await db.execute(stmt)).all() if until is not None}


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
    """Delete sessions past their absolute or idle expiry and failed logins long forgotten."""
    await db.execute(
        delete(AdminSession).where(
            (AdminSession.expires_at <= now) | (AdminSession.last_seen_at < now - SESSION_IDLE)
        )
    )
    await db.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - PAIR_FORGET))


async def token_principal(db: AsyncSession, token: str | None, now: datetime) -> Principal | None:
    """The principal of an active API client whose bearer token this is and has not expired
    (the caller commits)."""
    if not token or len(token) > 256:
        return None
    client = await db.scalar(select(ApiClient).where(ApiClient.token_hash == token_hash(token)))
    if client is None or not client.active or client.expires_at <= now:
        return None
    if client.last_used_at is None or now - client.last_used_at > TOUCH_EVERY:
        client.last_used_at = now
    return api_principal(client)
