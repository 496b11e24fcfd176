"""The dated rules of training support: what is in force today and the history with its legal
basis (``content/training_support.yaml`` and officers' rules); an admin adds a rule (base salary,
support, settlement deadlines) from a day on, checked by the models of :mod:`bot.cards.rules`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from admin.auth import Principal
from admin.deps import Db, Refused, allowed, allowed_post, client_ip
from admin.routes.people import figures_changed, local_today
from admin.scope import can
from admin.web import lang_of, render
from bot.cards import rules as support
from bot.catalog.vocab import vocabularies
from bot.reporting.support_paid import money
from storage import settlements as repo
from storage.audit import audit

router = APIRouter(include_in_schema=False)
SEE, EDIT = "support_rules", "support_rules.edit"
Text = Annotated[str, Form(max_length=255)]
Num = Annotated[str, Form(max_length=16)]
REFUSALS = {
    "same_day": "An officer's rule of this kind already starts on that day.",
    "used": "Amounts already submitted for settlement depend on the rules of that day: "
    "choose a later day.",
    "invalid": "The rule is not valid: check every field.",
    "unknown_kind": "Unknown kind of rule.",
}


def _int(value: str) -> int | None:
    return int(value) if value.strip() else None


def _fields(kind: str, form: dict[str, str]) -> dict[str, Any]:
    """The rule's fields as in the YAML file, from the form's text (ValueError when a number
    is not one)."""
    fields: dict[str, Any] = {"from": form["valid_from"], "legal_basis": form["legal_basis"]}
    if kind == "base_salary":
        fields["amount"] = _int(form["amount"])
    elif kind == "support":
        fields |= {
            "cap_base_salary_months": _int(form["cap_base_salary_months"]),
            "meal_per_day": _int(form["meal_per_day"]),
            "travel_per_course": _int(form["travel_per_course"]),
            "card_valid_months": _int(form["card_valid_months"]),
            "levels": [x.strip() for x in form["levels"].split(",") if x.strip()],
            "order": [x.strip() for x in form["order"].split(",") if x.strip()],
        }
    else:
        fields["half_year_due"] = {"month": _int(form["half_month"]), "day": _int(form["half_day"])}
        fields["year_due"] = {"month": _int(form["year_month"]), "day": _int(form["year_day"])}
    return fields


async def _page(
    request: Request, db: Db, user: Principal, status: int = 200, **ctx: Any
) -> Response:
    rules = await support.current_rules(db)
    officers = {(r.kind, r.valid_from): r.created_by for r in await repo.overrides(db)}
    today = local_today(request)
    return render(
        request,
        "support_rules.html",
        status,
        rules=rules,
        officers=officers,
        today=today,
        in_force={
            "base_salary": rules.base_salary_on(today),
            "support": rules.support_on(today),
            "settlement": rules.settlement_on(today),
        },
        can_edit=can(user, EDIT),
        level_names=lambda codes: ", ".join(
            vocabularies().label("levels", c, lang_of(request)) for c in codes
        ),
        money=money,
        saved=request.query_params.get("saved", ""),
        **ctx,
    )


@router.get("/support-rules")
async def rules_page(
    request: Request, db: Db, user: Annotated[Principal, Depends(allowed(SEE))]
) -> Response:
    """The rules in force and their history."""
    return await _page(request, db, user)


@router.post("/support-rules")
async def add_rule(
    request: Request,
    db: Db,
    user: Annotated[Principal, Depends(allowed_post(EDIT))],
    kind: Annotated[str, Form(max_length=16)] = "",
    valid_from: Annotated[str, Form(max_length=10)] = "",
    legal_basis: Text = "",
    amount: Num = "",
    cap_base_salary_months: Num = "",
    meal_per_day: Num = "",
    travel_per_course: Num = "",
    card_valid_months: Num = "",
    levels: Text = "",
    order: Text = "",
    half_month: Num = "",
    half_day: Num = "",
    year_month: Num = "",
    year_day: Num = "",
) -> Response:
    """Add an officer's rule from a day on (400 with the reason when refused)."""
    form = {k: v for k, v in locals().items() if isinstance(v, str)}
    found = next((k for k in support.RULE_KINDS if k == kind), None)
    if found is None:
        raise Refused(status_code=400, detail=REFUSALS["unknown_kind"])
    try:
        rule = await support.add_rule(db, found, _fields(found, form), user.actor)
    except ValueError:  # pydantic's ValidationError too
        await db.rollback()
        return await _page(request, db, user, 400, error=REFUSALS["invalid"], form=form)
    except support.RuleRefused as exc:
        await db.rollback()
        return await _page(request, db, user, 409, error=REFUSALS[exc.key], form=form)
    detail = {"kind": found, "from": rule.valid_from.isoformat()}
    await audit(
        db, actor=user.actor, action="support_rule.added", detail=detail, ip=client_ip(request)
    )
    await db.commit()
    figures_changed(request)
    return RedirectResponse("/support-rules?saved=1", status_code=303)
