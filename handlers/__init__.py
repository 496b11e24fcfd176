"""aiogram routers. Each module builds one router; :func:`get_routers` orders them.

Routers are built per dispatcher (``create_router()``), because an aiogram router can be
attached to one dispatcher only and a process may run several (restarts, tests).
"""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """All routers in dispatch order; the fallback router must stay last."""
    from handlers import broadcasts, common, errors, fallback, reminders, survey

    return [
        errors.create_router(),
        common.create_router(),
        reminders.create_router(),
        broadcasts.create_router(),
        survey.create_router(),
        fallback.create_router(),  # must be last: it takes whatever no other router took
    ]
