"""REST API for broadcasts (bearer tokens, scoped like the roles): send to a segment, follow
the report, pause/resume/cancel, the failures. Above 500 recipients the request must carry
``confirm_recipients`` equal to the count (the answer 409 says the count)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from admin.auth import Principal
from admin.broadcast_forms import author_of, check_request
from admin.deps import Client, Db, client_ip, now
from admin.scope import can
from bot.broadcasts import service
from bot.broadcasts.compose import DraftError, Media, needs_confirmation
from storage import outbox
from storage.models.outbox import OutboxMessage

router = APIRouter(prefix="/api", tags=["broadcasts"])
MessageId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class BroadcastIn(BaseModel):
    """A broadcast to send: texts (Telegram HTML), the segment, when, optionally a file."""

    text_vi: str = Field(max_length=20_000)
    text_en: str | None = Field(default=None, max_length=20_000)
    segment: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description=(
            "commune, force, service, discharge_from, discharge_to, trade, survey, training, "
            "language, answer (e.g. loan_interest=abroad); a value or a list"
        ),
    )
    send_at: str | None = Field(default=None, description="ISO time; local when no zone")
    confirm_recipients: int | None = None
    media_kind: str | None = Field(default=None, description="photo or document")
    media_name: str | None = Field(default=None, max_length=255)
    media_type: str | None = Field(default=None, max_length=128)
    media_base64: str | None = None


def _problems(exc: DraftError) -> HTTPException:
    return HTTPException(status_code=422, detail=[text % fields for text, fields in exc.problems])


def _media(body: BroadcastIn) -> Media | None:
    if not body.media_base64:
        return None
    try:
        data = base64.b64decode(body.media_base64, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(status_code=422, detail=["media_base64 is not base64"]) from None
    name = body.media_name or "file"
    return Media(
        body.media_kind or "document", name, body.media_type or "application/octet-stream", data
    )


def _check(client: Principal) -> None:
    if not can(client, "broadcasts"):
        raise HTTPException(status_code=403)


async def _visible(db: Db, client: Principal, message_id: int) -> OutboxMessage:
    _check(client)
    message = await service.visible(db, message_id, author_of(client))
    if message is None:
        raise HTTPException(status_code=404)
    return message


@router.post("/broadcasts", status_code=201)
async def api_send(request: Request, db: Db, client: Client, body: BroadcastIn) -> dict[str, Any]:
    """Queue a broadcast (now or at ``send_at``; quiet hours hold it to the morning)."""
    _check(client)
    settings = request.app.state.settings
    try:
        draft = check_request(
            client,
            body.segment,
            body.text_vi,
            body.text_en,
            _media(body),
            body.send_at,
            settings.tz,
            now(request),
        )
    except DraftError as exc:
        raise _problems(exc) from None
    author = author_of(client, client_ip(request))
    count = await service.count_recipients(db, draft.segment, author)
    if count == 0:
        raise HTTPException(status_code=422, detail=["Nobody is in this segment"])
    if needs_confirmation(count, body.confirm_recipients):
        raise HTTPException(
            status_code=409,
            detail={"message": "confirm_recipients must equal the count", "recipients": count},
        )
    message = await service.create(db, draft, author, now(request), count)
    await db.commit()
    return {"id": message.id, "status": message.status, "recipients": count}


@router.get("/broadcasts")
async def api_list(db: Db, client: Client) -> list[dict[str, Any]]:
    """The client's broadcasts (everybody's for province-wide roles), newest first."""
    _check(client)
    return [
        {"id": m.id, "status": m.status, "recipients": m.recipients, "send_at": m.send_at}
        for m in await service.list_visible(db, author_of(client))
    ]


@router.get("/broadcasts/{message_id}")
async def api_report(
    request: Request, db: Db, client: Client, message_id: MessageId
) -> dict[str, object]:
    """The delivery report: counts by status, rate, time left, opt-outs."""
    message = await _visible(db, client, message_id)
    report = await service.report(db, message, request.app.state.settings, now(request))
    return report.as_json()


@router.get("/broadcasts/{message_id}/failures")
async def api_failures(db: Db, client: Client, message_id: MessageId) -> list[dict[str, Any]]:
    """Recipients who did not get it, with the reason."""
    message = await _visible(db, client, message_id)
    return [
        {"person_id": p.id, "chat_id": p.chat_id, "status": row.status, "reason": row.result}
        for row, p in await outbox.failures(db, message.id)
    ]


@router.post("/broadcasts/{message_id}/{action}")
async def api_control(
    request: Request,
    db: Db,
    client: Client,
    message_id: MessageId,
    action: Annotated[str, Path(pattern="^(pause|resume|cancel|resend_unknown)$")],
) -> dict[str, object]:
    """Pause, resume, cancel, or resend the ones whose result is unknown."""
    message = await _visible(db, client, message_id)
    author = author_of(client, client_ip(request))
    changed = await service.control(db, message, action, author, now(request))
    await db.commit()
    if not changed:
        raise HTTPException(status_code=409, detail=f"cannot {action} a {message.status} broadcast")
    return {"id": message.id, "status": message.status, "changed": changed}
