"""Template rendering with the request's language, principal, CSRF token and navigation."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from admin import audit_view
from admin.deps import LANG_COOKIE
from admin.scope import can
from admin.survey_view import condition_words, telegram_html
from bot.i18n import ADMIN_DOMAIN, pick_language, translator
from bot.reporting import labels

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
NAV = (
    ("dashboard", "/", "Dashboard"),
    ("people", "/people", "People"),
    ("callbacks", "/callbacks", "Call-backs"),
    ("questions", "/questions", "Questions"),
    ("broadcasts", "/broadcasts", "Broadcasts"),
    ("alerts", "/alerts", "Alerts"),
    ("exports", "/exports", "Exports"),
    ("institution_lists", "/institution-lists", "Institution lists"),
    ("catalog", "/catalog", "Catalog"),
    ("cards.edit", "/cards", "Training cards"),  # not institutions: they redeem (cards.redeem)
    ("cards.redeem", "/redemptions", "Card redemptions"),
    ("settlements", "/settlements", "Settlements"),
    ("support_rules", "/support-rules", "Support rules"),
    ("survey", "/survey", "Survey"),
    ("audit", "/audit", "Audit log"),
    ("accounts", "/accounts", "Accounts"),
)

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


@pass_context
def _local(context: Context, value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """An instant as the province's local time (``tz`` of the page context: TIMEZONE)."""
    return value.astimezone(context["tz"]).strftime(fmt) if value else ""


def _month(value: Any) -> str:
    return f"{value.month:02d}/{value.year}" if value else ""


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _short(name: str) -> str:
    """A name without its explanation in brackets: ``Hàn (hàn điện, hàn hơi)`` → ``Hàn``."""
    return name.split(" (", 1)[0]


templates.env.filters.update(local=_local, month=_month, pct=_pct, short=_short)
templates.env.filters["telegram_html"] = telegram_html
templates.env.globals["condition_words"] = condition_words
templates.env.globals.update(
    trade_name=labels.trade_name,
    commune_name=labels.commune_name,
    option_label=labels.option_label,
    audit_action=audit_view.action_name,
    audit_actor=audit_view.actor_name,
    audit_details=audit_view.detail_parts,
    audit_groups=audit_view.GROUPS,
)


def lang_of(request: Request) -> str:
    """The page language from the cookie (Vietnamese by default)."""
    return pick_language(request.cookies.get(LANG_COOKIE))


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """Render a template with the shared context."""
    lang = lang_of(request)
    principal = getattr(request.state, "principal", None)
    nav = [item for item in NAV if principal is not None and can(principal, item[0])]
    context = {
        "request": request,
        "_": translator(lang, ADMIN_DOMAIN),
        "lang": lang,
        "user": principal,
        "csrf": principal.csrf_token if principal else "",
        "nav": nav,
        "tz": request.app.state.settings.tz,
        **ctx,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)
