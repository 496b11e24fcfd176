"""The preference export's rows (read in batches) and the per-commune/per-trade counts.

Rendering rules (the same for CSV and XLSX, every cell is text):

* ``telegram_user_id`` as stored, never as a number; ``phone`` the way officials write it
  (``0912 345 678``: the leading 0 kept, text in every format);
* ``enlistment_month`` / ``discharge_month`` are months, rendered ``mm/yyyy``;
* ``survey_completed_at`` is the province's local date (the filter's ``tz``, from the TIMEZONE
  setting) rendered ``dd/mm/yyyy``;
* ``branch`` and the survey options (education, training_level, …) as their labels in ``lang``
  (Vietnamese by default), the stored value when the label is unknown;
* trade names from the trade catalog, commune names from vietnam-provinces (fallback: the code);
* ``consent_sharing`` (agreed to share with training institutions) as yes/no in ``lang``.

People who were erased or never gave consent never appear. Rows are read with keyset
pagination on ``Person.id`` (three queries per batch: people, their trade choices, the answers
of their latest survey response), so memory stays flat however many people there are.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVarTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Result,
    Select,
    Text,
    case,
    cast,
    distinct,
    exists,
    false,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.reporting import labels
from bot.survey.parsing import display_phone
from storage.models import Answer, Person, SurveyResponse, TradePreference

_Ts = TypeVarTuple("_Ts")

ANSWER_QUESTIONS: tuple[str, ...] = (
    "education",
    "training_level",
    "training_place",
    "job_referral",
    "work_preference",
    "loan_interest",
    "wants_call",
)
_TAIL_QUESTIONS = ANSWER_QUESTIONS[1:]

PREFERENCE_COLUMNS: tuple[str, ...] = (
    "telegram_user_id",
    "full_name",
    "phone",
    "branch",
    "enlistment_month",
    "discharge_month",
    "home_commune_code",
    "home_commune_name",
    "education",
    "trade_1_code",
    "trade_1_name",
    "trade_1_raw",
    "trade_2_code",
    "trade_2_name",
    "trade_2_raw",
    "trade_3_code",
    "trade_3_name",
    "trade_3_raw",
    *_TAIL_QUESTIONS,
    "consent_sharing",
    "survey_completed_at",
)

_MISSING: Any = object()
_JSON_MEMO_SIZE = 10_000


@dataclass(frozen=True, kw_only=True)
class ExportFilter:
    """Who goes into an export; dates are local days in ``tz``, both ends inclusive.

    ``tz`` is the province's time zone (the TIMEZONE setting): it places ``date_from`` and
    ``date_to`` and renders ``survey_completed_at``.

    ``commune_codes``/``trade_codes``: None means no restriction, an empty sequence means nobody.
    ``trade_codes`` keeps people with any of those trades among their (up to three) choices.
    ``date_from``/``date_to`` apply to ``survey_completed_at`` (people without it are left out).
    """

    tz: ZoneInfo
    commune_codes: Sequence[str] | None = None
    date_from: date | None = None
    date_to: date | None = None
    trade_codes: Sequence[str] | None = None
    completed_only: bool = True
    consent_sharing_only: bool = False


class CommuneCount(NamedTuple):
    """People per home commune (code ``""`` = commune not given)."""

    code: str
    name: str
    people: int


class TradeCount(NamedTuple):
    """People having the trade among their choices (any rank) and as their first choice."""

    code: str
    name: str
    people: int
    first_choice: int


_PERSON_COLUMNS = (
    Person.id,
    Person.telegram_user_id,
    Person.full_name,
    Person.phone,
    Person.branch,
    Person.enlistment_month,
    Person.discharge_month,
    Person.home_commune_code,
    Person.consent_sharing,
    Person.survey_completed_at,
)


def local_day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which a local day in ``tz`` starts."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def person_conditions(flt: ExportFilter) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Person`` for a filter (always: consented and not erased)."""
    conds: list[ColumnElement[bool]] = [Person.erased_at.is_(None), Person.consent_at.is_not(None)]
    if flt.completed_only:
        conds.append(Person.survey_completed_at.is_not(None))
    if flt.consent_sharing_only:
        conds.append(Person.consent_sharing.is_(True))
    if flt.commune_codes is not None:
        codes = list(flt.commune_codes)
        conds.append(Person.home_commune_code.in_(codes) if codes else false())
    if flt.date_from is not None:
        conds.append(Person.survey_completed_at >= local_day_start(flt.date_from, flt.tz))
    if flt.date_to is not None:
        next_day = flt.date_to + timedelta(days=1)
        conds.append(Person.survey_completed_at < local_day_start(next_day, flt.tz))
    if flt.trade_codes is not None:
        trades = list(flt.trade_codes)
        pref = aliased(TradePreference)  # its own alias: callers may join TradePreference too
        chosen = exists().where(pref.person_id == Person.id, pref.trade_code.in_(trades))
        conds.append(chosen if trades else false())
    return conds


class _Labels:
    """Label look-ups memoised for one export, so each distinct code is resolved once."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._trades: dict[str, str] = {}
        self._communes: dict[str, str] = {}
        self._options: dict[tuple[str, str], str] = {}
        self._json: dict[str, Any] = {}

    @staticmethod
    def _memo(memo: dict[Any, str], key: Any, look_up: Callable[[], str]) -> str:
        """``look_up()`` once per key."""
        name = memo.get(key)
        if name is None:
            name = memo[key] = look_up()
        return name

    def trade(self, code: str | None) -> str:
        """Trade name for a code ('' for none)."""
        if not code:
            return ""
        return self._memo(self._trades, code, lambda: labels.trade_name(code, self.lang))

    def commune(self, code: str | None) -> str:
        """Commune name for a code ('' for none)."""
        if not code:
            return ""
        return self._memo(self._communes, code, lambda: labels.commune_name(code))

    def json(self, raw: str | None) -> Any:
        """Decoded JSON text, memoised (bounded) since answer values repeat."""
        if raw is None:
            return None
        value = self._json.get(raw, _MISSING)
        if value is _MISSING:
            value = json.loads(raw)
            if len(self._json) < _JSON_MEMO_SIZE:
                self._json[raw] = value
        return value

    def option(self, question_id: str, value: Any) -> str:
        """Label of an answer value; lists are joined with '; ', booleans read as yes/no."""
        if value is None or value == "":
            return ""
        if isinstance(value, list):
            return "; ".join(self.option(question_id, v) for v in value)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        text = str(value)
        return self._memo(
            self._options,
            (question_id, text),
            lambda: labels.option_label(question_id, text, self.lang),
        )


def _month(value: date | None) -> str:
    return f"{value.month:02d}/{value.year}" if value else ""


def _local_date(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    local = value.astimezone(tz)
    return f"{local.day:02d}/{local.month:02d}/{local.year}"


def _build_row(
    person: Any,
    prefs: dict[int, tuple[str, str | None]],
    answers: dict[str, Any],
    lab: _Labels,
    tz: ZoneInfo,
) -> list[str]:
    """One export row in PREFERENCE_COLUMNS order."""
    row = [
        str(person.telegram_user_id),
        person.full_name or "",
        display_phone(person.phone) if person.phone else "",
        lab.option("branch", person.branch),
        _month(person.enlistment_month),
        _month(person.discharge_month),
        person.home_commune_code or "",
        lab.commune(person.home_commune_code),
        lab.option("education", answers.get("education")),
    ]
    for rank in (1, 2, 3):
        code, raw = prefs.get(rank, ("", None))
        row += (code, lab.trade(code), raw or "")
    row += [lab.option(q, answers.get(q)) for q in _TAIL_QUESTIONS]
    row.append(labels.yes_no(bool(person.consent_sharing), lab.lang))
    row.append(_local_date(person.survey_completed_at, tz))
    return row


async def _core(session: AsyncSession, stmt: Select[*_Ts]) -> Result[*_Ts]:
    """Run a column-only select on the session's connection (no ORM row processing)."""
    conn = await session.connection()
    return await conn.execute(stmt)


async def _preferences_of(
    session: AsyncSession, ids: list[int]
) -> dict[int, dict[int, tuple[str, str | None]]]:
    stmt = select(
        TradePreference.person_id,
        TradePreference.rank,
        TradePreference.trade_code,
        TradePreference.raw_text,
    ).where(TradePreference.person_id.in_(ids), TradePreference.rank.between(1, 3))
    out: dict[int, dict[int, tuple[str, str | None]]] = {}
    for pid, rank, code, raw in await _core(session, stmt):
        out.setdefault(pid, {})[rank] = (code, raw)
    return out


async def _answers_of(
    session: AsyncSession, ids: list[int], lab: _Labels
) -> dict[int, dict[str, Any]]:
    """Answers to ANSWER_QUESTIONS in each person's latest survey response (highest id).

    Values are fetched as JSON text and decoded through a memo (answers repeat a lot).
    """
    latest = (
        select(func.max(SurveyResponse.id))
        .where(SurveyResponse.person_id.in_(ids))
        .group_by(SurveyResponse.person_id)
    )
    stmt = (
        select(SurveyResponse.person_id, Answer.question_id, cast(Answer.value, Text))
        .join(SurveyResponse, SurveyResponse.id == Answer.response_id)
        .where(Answer.response_id.in_(latest), Answer.question_id.in_(ANSWER_QUESTIONS))
    )
    out: dict[int, dict[str, Any]] = {}
    for pid, qid, raw in await _core(session, stmt):
        out.setdefault(pid, {})[qid] = lab.json(raw)
    return out


async def _people_batches(
    session: AsyncSession, flt: ExportFilter, batch_size: int
) -> AsyncIterator[Sequence[Any]]:
    """Matching people, ``batch_size`` at a time, by keyset pagination on Person.id."""
    conds = person_conditions(flt)
    last_id = 0
    while True:
        stmt = (
            select(*_PERSON_COLUMNS)
            .where(*conds, Person.id > last_id)
            .order_by(Person.id)
            .limit(batch_size)
        )
        batch = (await _core(session, stmt)).all()
        if not batch:
            return
        yield batch
        if len(batch) < batch_size:
            return
        last_id = batch[-1].id


async def iter_preference_batches(
    session: AsyncSession, flt: ExportFilter, *, lang: str = "vi", batch_size: int = 1000
) -> AsyncIterator[list[list[str]]]:
    """Yield export rows ``batch_size`` at a time (three queries per batch), by Person.id."""
    lab = _Labels(lang)
    async for batch in _people_batches(session, flt, batch_size):
        ids = [p.id for p in batch]
        prefs = await _preferences_of(session, ids)
        answers = await _answers_of(session, ids, lab)
        yield [
            _build_row(p, prefs.get(p.id, {}), answers.get(p.id, {}), lab, flt.tz) for p in batch
        ]


async def iter_preference_rows(
    session: AsyncSession, flt: ExportFilter, *, lang: str = "vi", batch_size: int = 1000
) -> AsyncIterator[list[str]]:
    """Yield export rows (lists of text cells in PREFERENCE_COLUMNS order), ordered by Person.id."""
    async for rows in iter_preference_batches(session, flt, lang=lang, batch_size=batch_size):
        for row in rows:
            yield row


async def count_preference_rows(session: AsyncSession, flt: ExportFilter) -> int:
    """How many rows an export with this filter has."""
    stmt = select(func.count()).select_from(Person).where(*person_conditions(flt))
    return int((await session.execute(stmt)).scalar_one())


async def list_by_commune(session: AsyncSession, flt: ExportFilter) -> list[CommuneCount]:
    """People per home commune, most first (code '' = not given)."""
    stmt = (
        select(Person.home_commune_code, func.count())
        .where(*person_conditions(flt))
        .group_by(Person.home_commune_code)
    )
    lab = _Labels("vi")
    rows = [
        CommuneCount(code or "", lab.commune(code), int(count))
        for code, count in await session.execute(stmt)
    ]
    return sorted(rows, key=lambda r: (-r.people, r.name, r.code))


async def list_by_trade(
    session: AsyncSession, flt: ExportFilter, *, lang: str = "vi"
) -> list[TradeCount]:
    """People per trade among their choices (any rank) and as first choice, most first."""
    first = case((TradePreference.rank == 1, TradePreference.person_id))
    stmt = (
        select(
            TradePreference.trade_code,
            func.count(distinct(TradePreference.person_id)),
            func.count(distinct(first)),
        )
        .join(Person, Person.id == TradePreference.person_id)
        .where(*person_conditions(flt), TradePreference.rank.between(1, 3))
        .group_by(TradePreference.trade_code)
    )
    lab = _Labels(lang)
    rows = [
        TradeCount(code, lab.trade(code), int(count), int(first_count))
        for code, count, first_count in await session.execute(stmt)
    ]
    return sorted(rows, key=lambda r: (-r.people, -r.first_choice, r.name, r.code))
