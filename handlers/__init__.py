"""aiogram routers. Each module owns one ``router``; :func:`get_routers` orders them."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    """All routers in dispatch order; the fallback router must stay last."""
    from handlers import common, errors, fallback, reminders, survey

    return [errors.router, common.router, survey.router, reminders.router, fallback.router]
