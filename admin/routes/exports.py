"""Export page: the preference export as CSV or XLSX (streamed), counts per commune and trade.

The files come from :mod:`bot.reporting.exports`, the same code as ``xuatngu export``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response, StreamingResponse

from admin.auth import Principal
from admin.deps import Db, allowed, allowed_post, client_ip, now
from admin.routes.people import _commune_choices, _trade_choices
from admin.scope import commune_scope, limit_codes
from admin.web import lang_of, render
from bot.reporting import exports, preferences
from storage.audit import audit

router = APIRouter(include_in_schema=False)
HEADERS_PATTERN = "^(" + "|".join(exports.HEADER_STYLES) + ")$"


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def scoped_filter(
    user: Principal,
    tz: ZoneInfo,
    communes: list[str],
    trades: list[str],
    date_from: str = "",
    date_to: str = "",
    completed_only: bool = True,
    sharing_only: bool = False,
) -> preferences.ExportFilter:
    """The export filter asked for, cut down to what the user may export.

    A training institution only ever gets people who agreed to share with institutions, and
    only those who chose one of its trades, whatever the request says.
    """
    communes = [c for c in communes if c]
    trades = [t for t in trades if t]
    trade_codes: list[str] | None = trades or None
    sharing = sharing_only
    if user.role == "institution":
        trade_codes = [t for t in trades if t in user.trades] if trades else list(user.trades)
        sharing = True
    return preferences.ExportFilter(
        tz=tz,
        commune_codes=limit_codes(communes, commune_scope(user)),
        date_from=_day(date_from),
        date_to=_day(date_to),
        trade_codes=trade_codes,
        completed_only=completed_only,
        consent_sharing_only=sharing,
    )


@router.get("/exports")
async def exports_page(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed("exports"))],
    commune: Annotated[list[str], Query()] = [],  # noqa: B006
    trade: Annotated[list[str], Query()] = [],  # noqa: B006
    date_from: str = "",
    date_to: str = "",
    sharing_only: bool = False,
    headers: Annotated[str, Query(pattern=HEADERS_PATTERN)] = "labels",
) -> Response:
    """Export form with the row count and lists per commune and per trade."""
    flt = scoped_filter(
        user,
        request.app.state.settings.tz,
        commune[:50],
        trade[:50],
        date_from,
        date_to,
        sharing_only=sharing_only,
    )
    return render(
        request,
        "exports.html",
        count=await preferences.count_preference_rows(db, flt),
        by_commune=await preferences.list_by_commune(db, flt),
        by_trade=await preferences.list_by_trade(db, flt, lang=lang_of(request)),
        communes=_commune_choices(user),
        trades=_trade_choices(),
        chosen_communes=set(commune),
        chosen_trades=set(trade),
        date_from=date_from,
        date_to=date_to,
        sharing_only=flt.consent_sharing_only,
        sharing_forced=user.role == "institution",
        headers=headers,
    )


@router.post("/exports/download")
async def export_download(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed_post("exports"))],
    fmt: Annotated[str, Form(pattern="^(csv|xlsx)$")] = "xlsx",
    commune: Annotated[list[str], Form()] = [],  # noqa: B006
    trade: Annotated[list[str], Form()] = [],  # noqa: B006
    date_from: Annotated[str, Form(max_length=10)] = "",
    date_to: Annotated[str, Form(max_length=10)] = "",
    completed_only: Annotated[bool, Form()] = False,
    sharing_only: Annotated[bool, Form()] = False,
    headers: Annotated[str, Form(pattern=HEADERS_PATTERN)] = "labels",
) -> Response:
    """Stream the preference export; the audit log records who, the filter and the row count."""
    flt = scoped_filter(
        user,
        request.app.state.settings.tz,
        commune[:50],
        trade[:50],
        date_from,
        date_to,
        completed_only,
        sharing_only,
    )
    rows = await preferences.count_preference_rows(db, flt)
    await audit(
        db,
        actor=user.actor,
        action=f"export.{fmt}",
        detail={
            "rows": rows,
            "communes": list(flt.commune_codes) if flt.commune_codes is not None else "all",
            "trades": list(flt.trade_codes) if flt.trade_codes is not None else "all",
            "date_from": date_from,
            "date_to": date_to,
            "completed_only": completed_only,
            "consent_sharing_only": flt.consent_sharing_only,
            "headers": headers,
        },
        ip=client_ip(request),
    )
    await db.commit()
    factory = request.app.state.sessionmaker
    lang = lang_of(request)
    name = exports.export_filename(fmt, now(request).astimezone(flt.tz).date())
    http_headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        body = exports.stream_csv(factory, flt, lang=lang, headers=headers)
        return StreamingResponse(body, media_type=exports.CSV_MEDIA_TYPE, headers=http_headers)
    body = exports.stream_xlsx(factory, flt, lang=lang, headers=headers)
    return StreamingResponse(body, media_type=exports.XLSX_MEDIA_TYPE, headers=http_headers)
