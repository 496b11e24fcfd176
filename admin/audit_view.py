"""The audit log in words: stored codes (``login.succeeded``, ``{"person_id": 7}``) kept as they
are, translated only when a page shows them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.i18n import N_
from bot.reporting import labels
from storage.models.admin import AuditEntry

Gettext = Callable[..., str]

ACTIONS: dict[str, str] = {
    "login.succeeded": N_("Login succeeded"),
    "login.failed": N_("Login failed"),
    "login.locked": N_("Login refused: too many failed attempts"),
    "logout": N_("Logged out"),
    "account.password_changed": N_("Changed own password"),
    "account.created": N_("Account created"),
    "account.deactivate": N_("Account deactivated"),
    "account.activate": N_("Account reactivated"),
    "account.reset": N_("Password reset"),
    "account.unlock": N_("Account unlocked"),
    "api_client.created": N_("API client created"),
    "api_client.deactivate": N_("API client deactivated"),
    "api_client.activate": N_("API client reactivated"),
    "export.csv": N_("Exported a CSV file"),
    "export.xlsx": N_("Exported an Excel file"),
    "callback.done": N_("Call-back done"),
    "callback.reopen": N_("Call-back reopened"),
    "callback.take": N_("Call-back taken"),
    "callback.assign": N_("Call-back assigned"),
    "person.viewed": N_("Opened a person's page"),
    "person.outcome_recorded": N_("Recorded what happened to a person"),
    "person.corrected": N_("Corrected a person's profile"),
    "question.asked": N_("A person asked a counsellor"),
    "question.answered": N_("A counsellor answered a question"),
    "person.erased": N_("A person's data erased"),
    "erasure": N_("A person erased their data"),
    "enrolment.status": N_("An institution updated a person's status"),
    "catalog.import": N_("Imported catalog rows from XLSX"),
    "catalog.created": N_("Added a catalog row"),
    "catalog.updated": N_("Changed a catalog row"),
    "settlement.submitted": N_("An institution submitted a settlement"),
    "settlement.approved": N_("A settlement approved"),
    "settlement.returned": N_("A settlement returned to the institution"),
    "support_rule.added": N_("Added a dated support rule"),
    "redemption.recorded": N_("An institution redeemed a training card"),
    "redemption.finished": N_("A redeemed course recorded finished"),
    "redemption.dropped": N_("A redeemed course recorded dropped out"),
    "redemption.declaration_viewed": N_("Downloaded a signed declaration"),
    "card.recorded": N_("Recorded a training card"),
    "card.imported": N_("Imported training cards from XLSX"),
    "card.matched": N_("Matched a training card to a person"),
    "card.expired": N_("Training cards expired"),
    "card.revoked": N_("Revoked a training card"),
}
# filter choices of the audit page: an action prefix and its name
GROUPS: tuple[tuple[str, str], ...] = (
    ("login", N_("Logins")),
    ("account", N_("Accounts")),
    ("api_client", N_("API clients")),
    ("export", N_("Exports")),
    ("callback", N_("Call-backs")),
    ("person", N_("People's records")),
    ("erasure", N_("Erasures")),
    ("question", N_("Questions to counsellors")),
    ("catalog", N_("Catalog")),
    ("settlement", N_("Settlements")),
    ("support_rule", N_("Support rules")),
    ("redemption", N_("Card redemptions")),
    ("card", N_("Training cards")),
)
_REASONS = {
    "bad_credentials": N_("wrong username or password"),
    "inactive": N_("the account is deactivated"),
}
_ACTORS = {"cli": N_("Command line"), "bot": N_("Bot")}
_SKIPPED_KEYS = frozenset({"action"})  # repeats the entry's own action


@dataclass(frozen=True)
class Part:
    """One phrase of an entry's details; ``href`` links it (a person's page)."""

    text: str
    href: str | None = None


def action_name(action: str, _: Gettext) -> str:
    """The action in words; an action this page does not know yet is shown as stored."""
    known = ACTIONS.get(action)
    return _(known) if known else action


def actor_name(actor: str, _: Gettext) -> str:
    """``user:alice`` → ``alice``; ``api:crm`` → ``crm (API)``; ``tg:42`` → ``Telegram 42``;
    ``cli`` → ``Command line``."""
    kind, _sep, name = actor.partition(":")
    if kind == "user" and name:
        return name
    if kind == "api" and name:
        return f"{name} (API)"
    if kind == "tg" and name:  # a counsellor replying in the counsellors' Telegram group
        return f"Telegram {name}"
    known = _ACTORS.get(actor)
    return _(known) if known else actor


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def _names(value: Any, name_of: Callable[[str], str], everything: str) -> str:
    if value == "all":
        return everything
    if isinstance(value, list):
        return ", ".join(name_of(str(v)) for v in value) or "—"
    return name_of(str(value))


def _part(key: str, value: Any, _: Gettext, lang: str) -> Part | None:
    """One detail in words, or None when it says nothing worth reading."""
    if key == "person_id" and value is not None:
        return Part(_("person #%(id)s", id=value), f"/people/{value}")
    if key == "reason":
        return Part(_(_REASONS.get(str(value), str(value))))
    if key == "username":
        return Part(_("account %(name)s", name=value))
    if key == "client":
        return Part(_("application %(name)s", name=value))
    if key == "role":
        return Part(_("role: %(role)s", role=_("role_" + str(value))))
    if key == "communes":
        names = _names(value, labels.commune_name, _("all communes"))
        return Part(_("communes: %(names)s", names=names))
    if key == "trades":
        names = _names(value, lambda c: labels.trade_name(c, lang), _("all trades"))
        return Part(_("trades: %(names)s", names=names))
    if key == "rows":
        return Part(_("%(n)s people", n=value))
    if key in ("date_from", "date_to"):
        if not value:
            return None
        text = "completed from %(day)s" if key == "date_from" else "completed until %(day)s"
        return Part(_(text, day=_day(str(value))))
    if key == "completed_only":
        return Part(_("completed surveys only")) if value else None
    if key == "consent_sharing_only":
        return Part(_("only people who agreed to share with schools")) if value else None
    if key == "headers":
        return Part(_("column codes in the header row")) if value == "codes" else None
    if key == "counsellor_id":
        return Part(_("to counsellor #%(id)s", id=value) if value else _("to nobody"))
    if key == "by" and value == "person":
        return Part(_("at the person's own request"))
    if key in _SKIPPED_KEYS:
        return None
    return Part(f"{key}: {value}")


def detail_parts(entry: AuditEntry, _: Gettext, lang: str) -> list[Part]:
    """The entry's details as short phrases in the page language, in stored order."""
    parts = (_part(key, value, _, lang) for key, value in (entry.detail or {}).items())
    return [p for p in parts if p is not None]
