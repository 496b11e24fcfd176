"""The reminder schedule in ``content/reminders.yaml``: pydantic models, loader and checks."""

from __future__ import annotations

import hashlib
import json
import string
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.content_check import html_problems
from bot.content_loading import (
    CONTENT_DIR,
    ContentError,
    ContentProblem,
    Localized,
    line_for,
    load_yaml,
    validate_model,
)

REMINDERS_PATH = CONTENT_DIR / "reminders.yaml"
LANGUAGES: tuple[str, ...] = ("vi", "en")
SNAKE_ID = r"^[a-z][a-z0-9_]*$"

Anchor = Literal["enlistment_month", "discharge_month", "return_date"]
ConditionName = Literal[
    "always", "survey_unfinished", "survey_finished", "not_returned", "returned"
]
ButtonSet = Literal["home", "status"]
HomeAnswer = Literal["since_discharge", "this_month", "last_month", "not_yet"]

OUTCOME_STATUSES: tuple[str, ...] = (
    "in_training",
    "finished_training",
    "employed_in_trade",
    "employed_other",
    "self_employed",
    "abroad",
    "looking",
    "other",
)
# Placeholders every message may use besides the ``facts`` keys.
PERSON_PLACEHOLDERS: frozenset[str] = frozenset({"name", "discharge_month", "return_month"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Offset(_Strict):
    """Calendar months and days after (negative: before) the anchor date."""

    months: int = 0
    days: int = 0


class Relevance(_Strict):
    """How long after its due time a reminder is still worth sending."""

    days: int = Field(ge=0, default=0)
    hours: int = Field(ge=0, default=0)

    @model_validator(mode="after")
    def _positive(self) -> Relevance:
        """A reminder relevant for zero time could never be sent."""
        if self.days == 0 and self.hours == 0:
            raise ValueError("relevant_for needs days or hours > 0")
        return self


class Button(_Strict):
    """An inline button: its label and the callback_data another router understands."""

    label: Localized
    callback: str = Field(min_length=1, max_length=64)


class Reminder(_Strict):
    """One schedule entry: when (anchor + offset), for whom (condition), what (message).

    ``catch_up``: someone who finishes the survey after every stage of this entry's anchor has
    passed still gets the latest such entry, from that moment (see ``rows.wanted_rows``).
    """

    id: str = Field(pattern=SNAKE_ID, max_length=64)
    anchor: Anchor
    offset: Offset = Offset()
    condition: tuple[ConditionName, ...] = ("always",)
    relevant_for: Relevance
    catch_up: bool = False
    message: Localized
    buttons: tuple[Button, ...] = ()
    button_set: ButtonSet | None = None

    @field_validator("condition", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        """Accept one condition name or a list of names (all must hold)."""
        return (v,) if isinstance(v, str) else v


class StatusOption(_Strict):
    """One answer to the status check; ``ask_trade`` asks which trade next."""

    value: str
    label: Localized
    ask_trade: bool = False
    reply: Localized | None = None

    @field_validator("value")
    @classmethod
    def _known(cls, v: str) -> str:
        """Only the outcome statuses the KPIs know."""
        if v not in OUTCOME_STATUSES:
            raise ValueError(f"unknown status {v!r}; expected one of {', '.join(OUTCOME_STATUSES)}")
        return v


class HomeOption(_Strict):
    """One answer to "are you home? since when?" (since the discharge month, this month, last
    month, or not yet)."""

    value: HomeAnswer
    label: Localized


class Schedule(_Strict):
    """The whole file: send time, facts quoted in messages, entries, button sets, texts."""

    version: int = 1
    send_time: str = "09:00"
    facts: dict[str, Localized | str] = {}
    reminders: tuple[Reminder, ...] = Field(min_length=1)
    statuses: tuple[StatusOption, ...]
    home_answers: tuple[HomeOption, ...]
    texts: dict[str, Localized]

    @field_validator("send_time")
    @classmethod
    def _clock(cls, v: str) -> str:
        """HH:MM."""
        hh, _, mm = v.partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ValueError("expected a time of day HH:MM")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Schedule:
        """Unique ids, every status and home answer present, known placeholders, valid HTML."""
        ids = [r.id for r in self.reminders]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate reminder ids: {', '.join(dupes)}")
        missing = set(OUTCOME_STATUSES) - {s.value for s in self.statuses}
        if missing:
            raise ValueError(f"statuses lack: {', '.join(sorted(missing))}")
        if {h.value for h in self.home_answers} != set(get_args(HomeAnswer)):
            raise ValueError(f"home_answers needs {', '.join(get_args(HomeAnswer))}")
        lacking = sorted(set(REQUIRED_TEXTS) - set(self.texts))
        if lacking:
            raise ValueError(f"texts lack: {', '.join(lacking)}")
        return self

    def reminder(self, entry_id: str) -> Reminder | None:
        """The entry with this id, or None (removed from the file)."""
        return next((r for r in self.reminders if r.id == entry_id), None)

    def status(self, value: str) -> StatusOption | None:
        """The status option with this value, or None."""
        return next((s for s in self.statuses if s.value == value), None)

    def text(self, key: str, lang: str | None) -> str:
        """A handler text in ``lang``."""
        return self.texts[key].get(lang)

    def fact_values(self, lang: str | None) -> dict[str, str]:
        """The facts as placeholder values in ``lang``."""
        return {k: (v if isinstance(v, str) else v.get(lang)) for k, v in self.facts.items()}

    def digest(self) -> str:
        """A hash of what decides rows (ids, anchors, offsets, relevance, catch-up, send time)."""
        data = [
            (r.id, r.anchor, r.offset.model_dump(), r.relevant_for.model_dump(), r.catch_up)
            for r in self.reminders
        ]
        raw = json.dumps([self.send_time, data], sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:16]


REQUIRED_TEXTS: tuple[str, ...] = (
    "default_name",
    "paused",
    "resumed",
    "reminders_on",
    "reminders_off",
    "button_pause",
    "button_resume",
    "home_thanks",
    "home_not_yet",
    "status_thanks",
    "ask_trade",
    "trade_other",
    "trade_thanks",
    "expired_button",
)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders in a message."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _text_line(file_lines: list[str], key_line: int | None, line_in_text: int) -> int | None:
    """The file line of a line inside a YAML text (a block scalar starts below its key)."""
    if key_line is None:
        return None
    head = file_lines[key_line - 1].rstrip() if key_line <= len(file_lines) else ""
    block = head.endswith(("|", "|-", "|+", ">", ">-", ">+"))
    return key_line + (1 if block else 0) + line_in_text - 1


def _message_problems(schedule: Schedule, raw: Any, path: Path) -> list[ContentProblem]:
    """Unknown placeholders and bad HTML in every reminder message and text."""
    known = PERSON_PLACEHOLDERS | set(schedule.facts) | {"trade", "month"}
    file_lines = path.read_text(encoding="utf-8").splitlines()
    problems: list[ContentProblem] = []

    def check(text: str, loc: tuple[int | str, ...]) -> None:
        where = ".".join(str(p) for p in loc)
        key_line = line_for(raw, loc)
        found: list[tuple[int, str]] = []
        for number, line_text in enumerate(text.splitlines() or [""], 1):
            try:
                names = placeholders(line_text)
            except ValueError as exc:
                found.append((number, str(exc)))
                continue
            found.extend((number, f"unknown placeholder {{{n}}}") for n in sorted(names - known))
        found.extend(html_problems(text))
        for number, msg in sorted(found):
            line = _text_line(file_lines, key_line, number)
            problems.append(ContentProblem(path, line, f"{where}: {msg}"))

    for i, rem in enumerate(schedule.reminders):
        for lang in LANGUAGES:
            check(rem.message.get(lang), ("reminders", i, "message", lang))
    for key, text in schedule.texts.items():
        for lang in LANGUAGES:
            check(text.get(lang), ("texts", key, lang))
    return problems


def load_schedule(path: Path = REMINDERS_PATH) -> Schedule:
    """Load and validate the schedule; a problem raises :class:`ContentError` naming the line."""
    raw = load_yaml(path)
    schedule = validate_model(Schedule, raw, path)
    problems = _message_problems(schedule, raw, path)
    if problems:
        raise ContentError(problems)
    return schedule


@lru_cache(maxsize=1)
def get_schedule() -> Schedule:
    """The packaged schedule, loaded once per process."""
    return load_schedule()


def check_content(path: Path = REMINDERS_PATH) -> list[ContentProblem]:
    """Problems in the reminders file (empty when it is fine); for ``xuatngu content check``."""
    try:
        load_schedule(path)
    except ContentError as exc:
        return exc.problems
    return []
