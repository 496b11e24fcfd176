"""The audit log: one call for every audited event (admin pages, API, CLI and the bot alike)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models.admin import AuditEntry

_SECRET_KEYS = frozenset({"password", "token", "secret", "password_hash", "token_hash"})


def _clean(detail: dict[str, Any]) -> dict[str, Any]:
    """Drop anything that looks like a secret and make values JSON-friendly."""
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if key.lower() in _SECRET_KEYS:
            continue
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, (list, tuple, set, frozenset)):
            out[key] = [v if isinstance(v, (str, int, float, bool)) else str(v) for v in value]
        elif isinstance(value, dict):
            out[key] = _clean(value)
        else:
            out[key] = str(value)
    return out


async def audit(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    detail: dict[str, Any],
    ip: str | None = None,
) -> AuditEntry:
    """Add an audit entry to ``session`` and flush it; the caller commits.

    ``actor`` is e.g. ``user:alice``, ``api:crm`` or ``bot``; ``action`` a dotted name such as
    ``login.failed``, ``export.csv``, ``account.created`` or ``person.erased``.
    """
    entry = AuditEntry(actor=actor[:128], action=action[:64], detail=_clean(detail), ip=ip)
    session.add(entry)
    await session.flush()
    return entry
