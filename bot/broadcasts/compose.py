"""What an author asks for, checked: texts (Telegram's HTML subset), an optional photo or
document, the segment and the time. The admin pages, the REST API and the CLI all come here.

Problems are ``(message, fields)`` pairs: English message ids of the admin catalog, formatted
with ``%`` (the admin pages translate them, the API and the CLI print them in English).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.content_check import html_problems, visible_text
from bot.reporting import labels
from bot.survey import load_survey
from storage.segments import Segment

MAX_TEXT = 4096  # Telegram's limits, in characters as the phone shows them
MAX_CAPTION = 1024
MAX_MEDIA_BYTES = 10 * 1024 * 1024
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
CONFIRM_ABOVE = 500  # more recipients than this need a second, explicit confirmation
SEGMENT_KEYS = (
    "commune",
    "force",
    "service",
    "discharge_from",
    "discharge_to",
    "trade",
    "survey",
    "training",
    "language",
    "answer",
)
CHOICES = {
    "service": ("in_service", "returned"),
    "survey": ("finished", "unfinished"),
    "training": ("registered", "not_registered"),
    "language": ("vi", "en"),
}
ANSWER_TYPES = frozenset({"choice", "yes_no"})

Problem = tuple[str, dict[str, object]]


class DraftError(ValueError):
    """The request cannot be sent as it is; ``problems`` say why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(text % fields for text, fields in problems))
        self.problems = problems


@dataclass(frozen=True)
class Media:
    """A photo or document to send with the text (the text becomes its caption)."""

    kind: str  # photo | document
    name: str
    mime_type: str
    data: bytes


@dataclass(frozen=True)
class Draft:
    """A checked broadcast: ``send_at`` None means now."""

    text_vi: str
    text_en: str | None
    segment: Segment
    media: Media | None = None
    send_at: datetime | None = None


def text_problems(text: str, field: str, *, caption: bool) -> list[Problem]:
    """Telegram would refuse it, or it is too long for a message (or a caption)."""
    problems: list[Problem] = [
        ("%(field)s, line %(line)s: %(problem)s", {"field": field, "line": ln, "problem": p})
        for ln, p in html_problems(text)
    ]
    limit = MAX_CAPTION if caption else MAX_TEXT
    length = len(visible_text(text))
    if length > limit:
        problems.append(
            (
                "%(field)s is %(length)s characters long; at most %(limit)s",
                {"field": field, "length": length, "limit": limit},
            )
        )
    return problems


def media_problems(media: Media | None) -> list[Problem]:
    """A file Telegram would not take as that kind of message."""
    if media is None:
        return []
    if media.kind not in ("photo", "document"):
        return [("The attachment must be a photo or a document", {})]
    if not media.data:
        return [("The attached file is empty", {})]
    if len(media.data) > MAX_MEDIA_BYTES:
        return [("The attached file is larger than 10 MB", {})]
    if media.kind == "photo" and media.mime_type not in PHOTO_TYPES:
        return [("A photo must be a JPEG, PNG or WebP image; send it as a document", {})]
    return []


def _values(raw: object) -> list[str]:
    """A form/CLI/API value as a list of non-empty strings."""
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return [str(v).strip() for v in items if v is not None and str(v).strip()]


def _month(text: str, key: str, problems: list[Problem]) -> date | None:
    """YYYY-MM → the first day of that month."""
    if not text:
        return None
    try:
        return date.fromisoformat(text[:7] + "-01")
    except ValueError:
        problems.append(("%(key)s must be a month like 2026-06", {"key": key}))
        return None


def _answers(texts: list[str], problems: list[Problem]) -> tuple[tuple[str, str], ...]:
    """``question=value`` pairs of choice and yes/no questions, checked against the survey."""
    survey = load_survey()
    pairs = []
    for text in texts:
        question, _, value = text.partition("=")
        question, value = question.strip(), value.strip()
        if not survey.has_question(question) or survey.question(question).type not in ANSWER_TYPES:
            problems.append(("No choice question %(question)s in the survey", {"question": text}))
            continue
        if survey.question(question).option(value) is None:
            problems.append(
                (
                    "%(value)s is not an answer to %(question)s",
                    {"value": value, "question": question},
                )
            )
            continue
        pairs.append((question, value))
    return tuple(pairs)


def parse_segment(values: Mapping[str, object]) -> Segment:
    """A segment from ``key → value or list of values`` (form fields, CLI ``--segment``, API
    JSON); unknown keys and values are refused with a :class:`DraftError`."""
    problems: list[Problem] = []
    unknown = sorted(set(values) - set(SEGMENT_KEYS))
    if unknown:
        problems.append(("Unknown segment filter: %(keys)s", {"keys": ", ".join(unknown)}))
    got = {key: _values(values.get(key)) for key in SEGMENT_KEYS}
    communes = {code for code, _ in labels.communes()}
    trades = {code for code, _ in labels.trades()}
    forces = {o.value for o in load_survey().question("branch").options}
    for key, known in (("commune", communes), ("trade", trades), ("force", forces)):
        bad = [v for v in got[key] if v not in known]
        if bad:
            problems.append(("Unknown %(key)s: %(values)s", {"key": key, "values": ", ".join(bad)}))
    single: dict[str, str | None] = {}
    for key, allowed in CHOICES.items():
        value = got[key][-1] if got[key] else None
        if value is not None and value not in allowed:
            problems.append(
                ("%(key)s must be one of %(allowed)s", {"key": key, "allowed": ", ".join(allowed)})
            )
            value = None
        single[key] = value
    first = _month(
        got["discharge_from"][-1] if got["discharge_from"] else "", "discharge_from", problems
    )
    last = _month(got["discharge_to"][-1] if got["discharge_to"] else "", "discharge_to", problems)
    if first and last and first > last:
        problems.append(("The discharge months are the wrong way round", {}))
    answers = _answers(got["answer"], problems)
    if problems:
        raise DraftError(problems)
    return Segment(
        communes=tuple(dict.fromkeys(got["commune"])),
        forces=tuple(dict.fromkeys(got["force"])),
        service=single["service"],
        discharge_from=first,
        discharge_to=last,
        trades=tuple(dict.fromkeys(got["trade"])),
        survey=single["survey"],
        training=single["training"],
        language=single["language"],
        answers=answers,
    )


def parse_when(text: str | None, tz: ZoneInfo, now: datetime) -> datetime | None:
    """A send time (ISO; without a zone it is the province's local time); None for now."""
    if not text or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DraftError([("The send time must look like 2026-12-01T08:00", {})]) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return None if moment <= now else moment


def check_draft(
    text_vi: str,
    text_en: str | None,
    segment: Segment,
    media: Media | None = None,
    send_at: datetime | None = None,
) -> Draft:
    """The draft, or a :class:`DraftError` with every problem found."""
    text_vi = text_vi.strip().replace("\r\n", "\n")
    text_en = (text_en or "").strip().replace("\r\n", "\n") or None
    caption = media is not None
    problems: list[Problem] = []
    if not text_vi:
        problems.append(("The Vietnamese text is required", {}))
    problems += text_problems(text_vi, "Vietnamese text", caption=caption)
    if text_en:
        problems += text_problems(text_en, "English text", caption=caption)
    problems += media_problems(media)
    if problems:
        raise DraftError(problems)
    return Draft(text_vi, text_en, segment, media, send_at)


def needs_confirmation(recipients: int, confirmed: int | None) -> bool:
    """Above :data:`CONFIRM_ABOVE` recipients the author must confirm that very number."""
    return recipients > CONFIRM_ABOVE and confirmed != recipients


def segment_values(segment: Segment) -> dict[str, Sequence[str]]:
    """The segment as ``key → values`` again (for forms, the CLI and the API)."""
    out: dict[str, Sequence[str]] = {
        "commune": segment.communes,
        "force": segment.forces,
        "trade": segment.trades,
        "answer": [f"{q}={v}" for q, v in segment.answers],
    }
    for key in ("service", "survey", "training", "language"):
        value = getattr(segment, key)
        out[key] = [value] if value else []
    for key, day in (
        ("discharge_from", segment.discharge_from),
        ("discharge_to", segment.discharge_to),
    ):
        out[key] = [day.isoformat()[:7]] if day else []
    return out
