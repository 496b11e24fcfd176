"""An institution redeems a training card for one of its courses (once per card), and later
records the course finished or dropped.

Before recording, :func:`checks` says, one line each, whether the card exists and is
``issued``, still valid on the redemption day, whether its holder is entitled and is the person
(name folded equal, and phone or birth date agreeing where both are known), whether the person
is on the institution's list or interested in its intakes, and whether the course is the
institution's own and eligible (level paid by the support rule in force on its start, under a
year). :func:`redeem` records it and marks the card redeemed in one transaction; redemption,
finish and drop-out move the person's enrolment with the institution through
:func:`bot.reporting.institution_lists.set_status` (so their outcomes feed the KPIs). Every
step is audited. Refusals are :class:`RedeemError` with a key the admin says in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot import records
from bot.cards.rules import NoRuleError, SupportRules, current_rules
from bot.reporting import institution_lists
from bot.reporting.institution_lists import ListError, ListRow, Step
from bot.survey.parsing import parse_phone
from bot.textnorm import fold
from storage import enrolments
from storage import redemptions as repo
from storage.audit import audit
from storage.models import Person
from storage.models.cards import CardRedemption, TrainingCard
from storage.models.catalog import Course, Institution

MAX_COURSE_DAYS = 364  # a supported course lasts under a year (sơ cấp: 3 months to under 1 year)
MAX_SCAN_BYTES = 5 * 1024 * 1024
SCAN_TYPES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png"}
MAX_TUITION_VND = 10**10


class RedeemError(ValueError):
    """Why the institution may not go on; ``key`` names the reason, ``params`` fill it in."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Check:
    """One check shown to the officer: passed or not, with the reason's key and values."""

    key: str
    ok: bool
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Declaration:
    """The signed declaration (no other state-funded training): a scan or a tick."""

    kind: str  # scan | tick
    declared_to: str | None = None
    file_name: str | None = None
    content: bytes | None = None


@dataclass(frozen=True)
class Terms:
    """What the officer chose: the course and the figures of this redemption."""

    course_id: int
    start_date: date | None = None
    course_days: int | None = None
    tuition_vnd: int | None = None
    birth_date: date | None = None


async def people_of(
    session: AsyncSession, institution: Institution, *, today: date, tz: ZoneInfo, lang: str
) -> list[ListRow]:
    """Everyone the institution may enrol: its month-18 list and its intakes' interested."""
    rows = await institution_lists.institution_list(
        session, institution, today=today, tz=tz, lang=lang
    )
    for intake in await institution_lists.intakes(session, institution, tz=tz, lang=lang):
        rows.extend(intake.people)
    seen: dict[int, ListRow] = {}
    for row in rows:
        seen.setdefault(row.person_id, row)
    return sorted(seen.values(), key=lambda r: (fold(r.full_name), r.person_id))


def find_people(rows: list[ListRow], query: str) -> list[ListRow]:
    """The rows whose folded name contains the folded query, or whose phone is the query's."""
    phone = parse_phone(query)
    words = fold(query)
    return [
        r
        for r in rows
        if (words and words in fold(r.full_name))
        or (phone is not None and parse_phone(r.phone or "") == phone)
    ]


async def cards_of(session: AsyncSession, person: Person) -> list[TrainingCard]:
    """The cards that may be the person's: linked to them, or naming their phone."""
    phones = []
    if person.phone:
        phones = [person.phone, "0" + person.phone[3:], person.phone[1:]]
    return list(await repo.cards_of_person(session, person.id, phones))


def _status_check(card: TrainingCard, used: CardRedemption | None, used_at: str) -> Check:
    if card.status == "issued" and used is None:
        return Check("issued", True)
    if used is not None:
        return Check("already_redeemed", False, {"day": used.redeemed_on, "institution": used_at})
    if card.status == "revoked":
        return Check("revoked", False, {"reason": card.revoked_reason or ""})
    return Check(card.status if card.status == "expired" else "not_issued", False)


def _identity_check(card: TrainingCard, person: Person, birth_date: date | None) -> Check:
    if card.person_id is not None and card.person_id != person.id:
        return Check("other_person", False)
    if fold(card.holder_name) != fold(person.full_name or ""):
        return Check("name_differs", False, {"name": card.holder_name})
    pairs = []
    card_phone = parse_phone(card.holder_phone or "")
    if card_phone and person.phone:
        pairs.append(card_phone == person.phone)
    if card.holder_birth_date and birth_date:
        pairs.append(card.holder_birth_date == birth_date)
    if pairs and not any(pairs):
        return Check("contact_differs", False)
    return Check("identity", True)


def course_check(
    rules: SupportRules, institution: Institution, course: Course | None, start: date, days: int
) -> Check:
    """Whether the course is the institution's own and paid for by the rule in force on its
    first day."""
    if course is None or course.institution_id != institution.id:
        return Check("not_own_course", False)
    try:
        levels = rules.support_on(start).levels
    except NoRuleError:
        return Check("no_rule", False)
    if course.level not in levels:
        return Check("level_not_supported", False, {"level": course.level})
    if days > MAX_COURSE_DAYS:
        return Check("too_long", False)
    return Check("course", True)


async def checks(
    session: AsyncSession,
    institution: Institution,
    card: TrainingCard,
    person: Person,
    *,
    in_scope: bool,
    today: date,
    birth_date: date | None = None,
) -> list[Check]:
    """The card's checks for this person on ``today`` (the course is checked on its own)."""
    used = await repo.redemption_of_card(session, card.id)
    used_at = await repo.institution_name(session, used.institution_id) if used else ""
    out = [Check("in_scope", True) if in_scope else Check("out_of_scope", False)]
    out.append(_status_check(card, used, used_at))
    valid = card.valid_until is None or today <= card.valid_until
    out.append(
        Check("valid", True) if valid else Check("expired_on", False, {"day": card.valid_until})
    )
    entitled = card.service_completed and not card.other_state_training
    out.append(Check("entitled", True) if entitled else Check("not_entitled", False))
    out.append(_identity_check(card, person, birth_date))
    return out


def _declaration(decl: Declaration) -> tuple[str | None, bytes | None]:
    """The scan's content type and bytes (checked), or the tick's nothing."""
    if decl.kind == "tick":
        if not (decl.declared_to or "").strip():
            raise RedeemError("no_declared_to")
        return None, None
    if decl.kind != "scan" or not decl.content:
        raise RedeemError("no_declaration")
    if len(decl.content) > MAX_SCAN_BYTES:
        raise RedeemError("scan_too_large", mb=MAX_SCAN_BYTES // (1024 * 1024))
    kind = next((t for magic, t in SCAN_TYPES.items() if decl.content.startswith(magic)), None)
    if kind is None:
        raise RedeemError("scan_type")
    return kind, decl.content


def _figures(course: Course, terms: Terms) -> tuple[date, int, int]:
    """Start, days of study and tuition: what the officer entered, else the course's own."""
    start = terms.start_date or course.start_date
    days = terms.course_days or course.duration_days
    tuition = terms.tuition_vnd if terms.tuition_vnd is not None else course.fee_vnd
    if start is None:
        raise RedeemError("no_start")
    if days is None or not 1 <= days <= MAX_COURSE_DAYS:
        raise RedeemError("bad_days", most=MAX_COURSE_DAYS)
    if tuition is None or not 0 <= tuition <= MAX_TUITION_VND:
        raise RedeemError("bad_tuition")
    return start, days, tuition


async def redeem(
    session: AsyncSession,
    institution: Institution,
    card: TrainingCard,
    person: Person,
    terms: Terms,
    declaration: Declaration,
    officer: records.Officer,
    *,
    today: date,
    tz: ZoneInfo,
    in_scope: bool,
) -> CardRedemption:
    """Record the redemption and enrol the person (the caller commits; on RedeemError it
    must roll back)."""
    for check in await checks(
        session,
        institution,
        card,
        person,
        in_scope=in_scope,
        today=today,
        birth_date=terms.birth_date,
    ):
        if not check.ok:
            raise RedeemError(check.key, **check.params)
    course = await session.get(Course, terms.course_id)
    if course is None or course.institution_id != institution.id:
        raise RedeemError("not_own_course")
    start, days, tuition = _figures(course, terms)
    verdict = course_check(await current_rules(session), institution, course, start, days)
    if not verdict.ok:
        raise RedeemError(verdict.key, **verdict.params)
    content_type, content = _declaration(declaration)
    row = CardRedemption(
        card_id=card.id,
        institution_id=institution.id,
        course_id=course.id,
        person_id=person.id,
        redeemed_on=today,
        redeemed_by=officer.actor,
        declaration=declaration.kind,
        declared_to=(declaration.declared_to or "").strip()[:128] or None,
        declaration_name=(declaration.file_name or "scan")[:255] if content else None,
        declaration_type=content_type,
        declaration_file=content,
        start_date=start,
        course_days=days,
        tuition_vnd=tuition,
    )
    if not await repo.add_redemption(session, row):
        used = await repo.redemption_of_card(session, card.id)
        where = await repo.institution_name(session, used.institution_id) if used else ""
        raise RedeemError(
            "already_redeemed", day=used.redeemed_on if used else today, institution=where
        )
    await _move(
        session, institution, person.id, Step("enrolled", today, course.id), officer, today, tz
    )
    detail = {
        "person_id": person.id,
        "card": card.number,
        "institution_id": institution.id,
        "course_id": course.id,
        "redemption_id": row.id,
        "declaration": declaration.kind,
    }
    await audit(
        session, actor=officer.actor, action="redemption.recorded", detail=detail, ip=officer.ip
    )
    return row


async def _move(
    session: AsyncSession,
    institution: Institution,
    person_id: int,
    step: Step,
    officer: records.Officer,
    today: date,
    tz: ZoneInfo,
) -> None:
    """Move the person's enrolment to ``step`` through the institution lists' path, unless
    the institution already recorded that step on its list."""
    current = await enrolments.enrolment(session, person_id, institution.id)
    if current is not None and current.status == step.status:
        return
    try:
        await institution_lists.set_status(
            session, institution, person_id, step, officer, today=today, tz=tz
        )
    except ListError as exc:
        raise RedeemError(f"step_{exc.key}") from exc


async def end(
    session: AsyncSession,
    institution: Institution,
    row: CardRedemption,
    officer: records.Officer,
    *,
    dropped: bool,
    day: date,
    days_attended: int | None,
    today: date,
    tz: ZoneInfo,
) -> None:
    """Record the course finished or dropped on ``day`` (a drop-out with the days attended);
    the enrolment moves to finished / dropped (the caller commits)."""
    if row.finished_on is not None or row.dropped_on is not None:
        raise RedeemError("already_ended")
    if day < row.start_date and not dropped:
        raise RedeemError("before_start")
    if dropped:
        # no more days of study than the course has, nor than days passed since its start
        most = max(0, min(row.course_days, (day - row.start_date).days + 1))
        if days_attended is None or not 0 <= days_attended <= most:
            raise RedeemError("bad_attended", most=most)
        row.dropped_on, row.days_attended = day, days_attended
    else:
        row.finished_on, row.days_attended = day, row.course_days
    if row.person_id is not None:
        status = "dropped" if dropped else "finished"
        step = Step(status, day, row.course_id)
        await _move(session, institution, row.person_id, step, officer, today, tz)
    await session.flush()
    detail = {
        "person_id": row.person_id,
        "redemption_id": row.id,
        "institution_id": institution.id,
        "date": day.isoformat(),
    }
    if dropped:
        detail["days_attended"] = days_attended
    action = "redemption.dropped" if dropped else "redemption.finished"
    await audit(session, actor=officer.actor, action=action, detail=detail, ip=officer.ip)
