"""Account and API client management shared by the pages and the CLI."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.scope import ALL_ROLES, ROLE_NEEDS_COMMUNES, ROLE_NEEDS_TRADES
from admin.security import hash_password_async, new_token, password_problem, token_hash
from storage.models.admin import AdminUser, ApiClient
from storage.models.base import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOKEN_DAYS_DEFAULT = 90  # an API token lasts this long unless asked otherwise
TOKEN_DAYS_MAX = 365


class AccountError(ValueError):
    """A reason (message id) why an account cannot be created or changed."""


def check_scope(role: str, communes: Sequence[str], trades: Sequence[str]) -> None:
    """Raise :class:`AccountError` when the role is unknown or its scope is missing."""
    if role not in ALL_ROLES:
        raise AccountError("Unknown role.")
    if role in ROLE_NEEDS_COMMUNES and not communes:
        raise AccountError("A commune account needs at least one commune.")
    if role in ROLE_NEEDS_TRADES and not trades:
        raise AccountError("An institution account needs at least one trade.")


def clean_codes(codes: Sequence[str]) -> list[str]:
    """Distinct, stripped, non-empty codes in the given order."""
    out: list[str] = []
    for code in codes:
        code = code.strip()
        if code and code not in out:
            out.append(code[:64])
    return out


async def create_user(
    db: AsyncSession,
    username: str,
    password: str,
    role: str,
    communes: Sequence[str] = (),
    trades: Sequence[str] = (),
) -> AdminUser:
    """Create an account (flushed, not committed)."""
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError("Username: 2-64 letters, digits, dot, dash or underscore.")
    communes, trades = clean_codes(communes), clean_codes(trades)
    check_scope(role, communes, trades)
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    if await db.scalar(select(AdminUser.id).where(AdminUser.username == name)):
        raise AccountError("This username is taken.")
    user = AdminUser(
        username=name,
        password_hash=await hash_password_async(password),
        role=role,
        communes=communes,
        trades=trades,
        active=True,
    )
    db.add(user)
    await db.flush()
    return user


async def create_api_client(
    db: AsyncSession,
    name: str,
    role: str,
    communes: Sequence[str] = (),
    trades: Sequence[str] = (),
    created_by: str | None = None,
    *,
    days: int = TOKEN_DAYS_DEFAULT,
    now: datetime | None = None,
) -> tuple[ApiClient, str]:
    """Create an API client; returns it and its token (shown once, stored hashed), which
    expires after ``days`` (1 to :data:`TOKEN_DAYS_MAX`)."""
    name = name.strip()
    if not USERNAME_RE.match(name.lower()):
        raise AccountError("Name: 2-64 letters, digits, dot, dash or underscore.")
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise AccountError("A token lasts from 1 to 365 days.")
    communes, trades = clean_codes(communes), clean_codes(trades)
    check_scope(role, communes, trades)
    if await db.scalar(select(ApiClient.id).where(ApiClient.name == name)):
        raise AccountError("This name is taken.")
    token = "xa_" + new_token(32)
    client = ApiClient(
        name=name,
        token_hash=token_hash(token),
        role=role,
        communes=communes,
        trades=trades,
        active=True,
        created_by=created_by,
        expires_at=(now or utcnow()) + timedelta(days=days),
    )
    db.add(client)
    await db.flush()
    return client, token
