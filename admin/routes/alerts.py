"""Catalog alerts for counsellors: who was alerted to which course or job fair, whether it
reached them, and what they answered; only people the account may see (``people_filter``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from admin.auth import Principal
from admin.deps import Db, allowed
from admin.scope import can, people_filter
from admin.web import render
from storage import alerts as repo

router = APIRouter(include_in_schema=False)
SHOWS = {"all": None, "responded": True, "waiting": False}
LIMIT = 500


@router.get("/alerts")
async def alerts_page(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed("alerts"))],
    show: str = "all",
) -> Response:
    """Newest alerts first (at most ``LIMIT``), filtered by whether the person answered."""
    chosen = show if show in SHOWS else "all"
    rows = await repo.alert_list(db, people_filter(user), responded=SHOWS[chosen], limit=LIMIT)
    return render(
        request,
        "alerts.html",
        rows=rows,
        show=chosen,
        shows=tuple(SHOWS),
        limit=LIMIT,
        can_open_person=can(user, "people"),
        delivered=sum(r.status == "sent" for r in rows),
        responded=sum(r.response is not None for r in rows),
    )
