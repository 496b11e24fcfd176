"""Reading a broadcast request from the admin form or the REST API's JSON into a checked draft,
and the author (audit name, reachable communes) a principal sends as."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData, UploadFile

from admin.auth import Principal
from admin.scope import commune_scope
from bot.broadcasts.compose import (
    MAX_MEDIA_BYTES,
    SEGMENT_KEYS,
    Draft,
    DraftError,
    Media,
    Problem,
    check_draft,
    parse_segment,
    parse_when,
)
from bot.broadcasts.service import Author
from bot.reporting import labels
from bot.survey import load_survey
from storage.segments import Segment

SINGLE_KEYS = ("service", "discharge_from", "discharge_to", "survey", "training", "language")


def author_of(principal: Principal, ip: str | None = None) -> Author:
    """Who sends: the principal's audit name and communes; province roles see every broadcast."""
    scope = commune_scope(principal)
    return Author(
        actor=principal.actor,
        scope=list(scope) if scope is not None else None,
        sees_all=principal.role in ("admin", "provincial"),
        ip=ip,
    )


def segment_fields(form: FormData) -> dict[str, list[str]]:
    """The segment's fields of a form (each may repeat)."""
    return {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in SEGMENT_KEYS}


async def media_of(form: FormData) -> Media | None:
    """The attached photo or document, if a file was chosen."""
    upload = form.get("media")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(MAX_MEDIA_BYTES + 1)
    kind = str(form.get("media_kind") or "document")
    return Media(kind, upload.filename, upload.content_type or "application/octet-stream", data)


def limit_segment(values: Mapping[str, Any], principal: Principal) -> list[Problem]:
    """Communes outside the principal's scope cannot be asked for."""
    scope = commune_scope(principal)
    asked = values.get("commune") or []
    asked = [asked] if isinstance(asked, str) else list(asked)
    outside = [c for c in asked if scope is not None and c not in scope]
    if outside:
        return [("You may not send to these communes: %(codes)s", {"codes": ", ".join(outside)})]
    return []


def check_request(
    principal: Principal,
    segment_values: Mapping[str, Any],
    text_vi: str,
    text_en: str | None,
    media: Media | None,
    send_at: str | None,
    tz: ZoneInfo,
    now: datetime,
) -> Draft:
    """A checked draft from what a form or the API asked for, or a :class:`DraftError` with
    every problem found."""
    problems = limit_segment(segment_values, principal)
    segment, when = Segment(), None
    try:
        segment = parse_segment(segment_values)
    except DraftError as exc:
        problems += exc.problems
    try:
        when = parse_when(send_at, tz, now)
    except DraftError as exc:
        problems += exc.problems
    try:
        draft = check_draft(text_vi, text_en, segment, media, when)
    except DraftError as exc:
        raise DraftError(problems + exc.problems) from None
    if problems:
        raise DraftError(problems)
    return draft


async def draft_from_form(
    form: FormData, principal: Principal, tz: ZoneInfo, now: datetime
) -> Draft:
    """The checked draft of a compose form."""
    return check_request(
        principal,
        segment_fields(form),
        str(form.get("text_vi") or ""),
        str(form.get("text_en") or ""),
        await media_of(form),
        str(form.get("send_at") or ""),
        tz,
        now,
    )


def answer_choices(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(question label, [(``question=value``, option label)]) of every choice question."""
    out = []
    for q in load_survey().questions:
        if q.type in ("choice", "yes_no") and q.options:
            options = [(f"{q.id}={o.value}", o.label.get(lang)) for o in q.options]
            out.append((q.label.get(lang), options))
    return out


def force_choices(lang: str) -> list[tuple[str, str]]:
    """(value, label) of the forces (the survey's branch options)."""
    return [(o.value, o.label.get(lang)) for o in load_survey().question("branch").options]


def commune_choices(principal: Principal) -> list[tuple[str, str]]:
    """The communes the principal may pick."""
    scope = commune_scope(principal)
    if scope is None:
        return labels.communes()
    return sorted(((c, labels.commune_name(c)) for c in scope), key=lambda kv: kv[1])
