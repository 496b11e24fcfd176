"""What each role may do and which people it may see, as SQL conditions on ``Person``."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, select
from sqlalchemy.orm import aliased

from admin.auth import Principal
from storage.models.admin import CallbackRequest
from storage.models.core import Person, TradePreference

ALL_ROLES = frozenset(
    {"admin", "provincial", "commune", "counsellor", "employment", "institution", "viewer"}
)
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": ALL_ROLES,
    "survey": ALL_ROLES,
    "people": frozenset(
        {"admin", "provincial", "commune", "counsellor", "employment", "institution"}
    ),
    # record outcomes, correct the profile, erase: officers and counsellors, in their scope
    "people.edit": frozenset({"admin", "commune", "counsellor"}),
    "callbacks": frozenset({"admin", "provincial", "commune", "counsellor"}),
    "callbacks.edit": frozenset({"admin", "commune", "counsellor"}),
    "questions": frozenset({"admin", "provincial", "commune", "counsellor", "employment"}),
    "questions.reply": frozenset({"admin", "commune", "counsellor", "employment"}),
    "exports": frozenset({"admin", "provincial", "commune", "institution"}),
    "broadcasts": frozenset({"admin", "provincial", "commune", "counsellor", "employment"}),
    "alerts": frozenset({"admin", "provincial", "commune", "counsellor", "employment"}),
    # the catalog: an institution its own courses; the employment centre (employment) the job
    # fairs, employers and vacancies; admin everything (support policies, institutions)
    "catalog": frozenset({"admin", "provincial", "employment", "institution", "commune"}),
    "catalog.courses": frozenset({"admin", "institution"}),
    "catalog.jobs": frozenset({"admin", "employment"}),
    "catalog.all": frozenset({"admin"}),
    # training cards (issue 13): provincial officers (police, military, the Department of
    # Education and Training) record and import cards; an institution redeems them and
    # settles its own; the Department (provincial) approves settlements; admins change rules
    "cards": frozenset({"admin", "provincial", "institution"}),
    "cards.edit": frozenset({"admin", "provincial"}),
    "cards.redeem": frozenset({"admin", "institution"}),
    "settlements": frozenset({"admin", "provincial", "institution"}),
    "settlements.approve": frozenset({"admin", "provincial"}),
    "support_rules": frozenset({"admin", "provincial"}),
    "support_rules.edit": frozenset({"admin"}),
    # month-18 lists: an institution its own (and updates the steps), the province all of them
    "institution_lists": frozenset({"admin", "provincial", "institution"}),
    "institution_lists.edit": frozenset({"admin", "institution"}),
    "audit": frozenset({"admin"}),
    "accounts": frozenset({"admin"}),
}
ROLE_NEEDS_COMMUNES = frozenset({"commune"})
ROLE_NEEDS_TRADES = frozenset({"institution"})


def can(principal: Principal, what: str) -> bool:
    """Whether the principal's role allows ``what`` (a key of :data:`PERMISSIONS`)."""
    return principal.role in PERMISSIONS.get(what, frozenset())


def people_filter(principal: Principal) -> ColumnElement[bool]:
    """Condition on ``Person`` selecting exactly the people this principal may see in detail."""
    live = Person.erased_at.is_(None)
    role = principal.role
    if role in ("admin", "provincial"):
        return live
    if role == "commune":
        return and_(live, Person.home_commune_code.in_(principal.communes or ("",)))
    if role == "counsellor" and principal.kind == "user":
        assigned = select(CallbackRequest.person_id).where(
            CallbackRequest.assigned_counsellor_id == principal.id
        )
        return and_(live, Person.id.in_(assigned))
    if role == "institution":
        tp = aliased(TradePreference)  # the outer query may join TradePreference itself
        matching = exists().where(
            tp.person_id == Person.id, tp.trade_code.in_(principal.trades or ("",))
        )
        return and_(live, Person.consent_sharing.is_(True), matching)
    if role == "employment":  # the employment centre places people who agreed to share
        return and_(live, Person.consent_sharing.is_(True))
    return false()


def questions_filter(principal: Principal) -> ColumnElement[bool]:
    """Condition on ``Person``: whose questions (``/ask``) the principal's inbox holds.

    The counsellors of a commune see its people's questions: a commune account its communes, a
    counsellor account the communes it is given, or every commune when it has none (province
    counsellors, the employment centre); admin and provincial accounts see all.
    """
    live = Person.erased_at.is_(None)
    role = principal.role
    if role in ("admin", "provincial", "employment") or (
        role == "counsellor" and not principal.communes
    ):
        return live
    if role in ("commune", "counsellor"):
        return and_(live, Person.home_commune_code.in_(principal.communes or ("",)))
    return false()


def aggregate_filter(principal: Principal) -> ColumnElement[bool]:
    """Condition for counts and charts: like :func:`people_filter`, but viewers see totals."""
    if principal.role == "viewer":
        if principal.communes:
            return and_(
                Person.erased_at.is_(None), Person.home_commune_code.in_(principal.communes)
            )
        return Person.erased_at.is_(None)
    return people_filter(principal)


def commune_scope(principal: Principal) -> tuple[str, ...] | None:
    """Communes the principal is limited to (None = the whole province)."""
    if principal.role == "commune" or (principal.role == "viewer" and principal.communes):
        return principal.communes
    return None


def limit_codes(requested: list[str], allowed: tuple[str, ...] | None) -> list[str] | None:
    """Requested codes cut to the allowed ones; None means no limit at all."""
    if allowed is None:
        return requested or None
    if not requested:
        return list(allowed)
    return [c for c in requested if c in allowed]
