"""One validated row of each catalog list, as the XLSX import and the admin forms take it.

Field names are the column codes of the workbook and, except the references between lists
(``institution``, ``employer``, ``fair``: by name or title), the attributes of the stored rows.
Validate with ``Model.model_validate(cells, context={"province": 20})``; errors carry a message
key (see :mod:`bot.catalog.problems`) and the column they are about.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from bot.catalog import fields as f
from bot.catalog.fields import problem

Text = Annotated[str | None, BeforeValidator(f.text)]
Required = Annotated[str, BeforeValidator(f.required_text)]
Day = Annotated[date | None, BeforeValidator(f.to_date)]
Moment = Annotated[datetime | None, BeforeValidator(f.to_datetime)]
Count = Annotated[int | None, BeforeValidator(f.to_count)]
Money = Annotated[int | None, BeforeValidator(f.to_money)]
Flag = Annotated[bool, BeforeValidator(f.to_bool)]
Items = Annotated[list[str], BeforeValidator(f.to_list)]
Trades = Annotated[list[str], BeforeValidator(f.trade_list)]
TradeCode = Annotated[str | None, BeforeValidator(f.trade)]
Ward = Annotated[str | None, BeforeValidator(f.ward)]
Sex = Annotated[str | None, BeforeValidator(f.to_sex)]
Country = Annotated[str | None, BeforeValidator(f.to_country)]
Education = Annotated[str | None, BeforeValidator(f.vocab("education"))]
Licence = Annotated[str | None, BeforeValidator(f.one_of(("A1", "A", "B", "C1", "C", "D", "E")))]

COURSE_STATUSES = ("draft", "open", "closed", "cancelled")
FAIR_STATUSES = ("draft", "published", "done", "cancelled")
VACANCY_STATUSES = ("open", "closed")
MAX_AGE = 100


def _in_order(low: Any, high: Any, column: str, key: str) -> None:
    """``low`` ≤ ``high`` when both are known, else an error on ``column``."""
    if low is not None and high is not None and low > high:
        raise problem(key, "", column=column, low=f.shown(low), high=f.shown(high))


def _age(value: int | None, column: str) -> None:
    if value is not None and value > MAX_AGE:
        raise problem("bad_age", value, column=column)


class Row(BaseModel):
    """What every list's row shares: extra columns are refused, ``sample`` marks demo rows."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    # the columns naming this row among its list (upserts match on them)
    KEY: ClassVar[tuple[str, ...]]
    # columns that refer to another list by its key: column → list name
    REFS: ClassVar[dict[str, str]] = {}

    sample: Flag = False

    def key(self) -> tuple[Any, ...]:
        """The natural key's values."""
        return tuple(getattr(self, c) for c in self.KEY)

    def stored(self) -> dict[str, Any]:
        """The stored attributes (every field but the references)."""
        return {k: v for k, v in self.model_dump().items() if k not in self.REFS}


class InstitutionRow(Row):
    KEY = ("name",)

    name: Required
    kind: Annotated[str, BeforeValidator(f.required(f.vocab("institution_kinds")))]
    place_code: Ward = None
    address: Text = None
    phone: Text = None
    website: Text = None
    trades: Trades = []


class SupportPolicyRow(Row):
    KEY = ("code",)

    code: Required
    name_vi: Required
    name_en: Text = None
    legal_basis: Required
    target_groups: Items = []
    levels: Annotated[list[str], BeforeValidator(f.vocab_list("levels"))] = []
    items: Items = []
    cap_text: Text = None
    window_months_after_discharge: Count = None
    valid_from: Day = None
    valid_to: Day = None

    @model_validator(mode="after")
    def _dates(self) -> SupportPolicyRow:
        _in_order(self.valid_from, self.valid_to, "valid_to", "before_from")
        return self


class CourseRow(Row):
    KEY = ("institution", "title", "start_date")
    REFS: ClassVar[dict[str, str]] = {"institution": "institutions"}

    institution: Required
    title: Required
    trade_code: Annotated[str, BeforeValidator(f.required(f.trade))]
    level: Annotated[str, BeforeValidator(f.required(f.vocab("levels")))]
    duration_days: Count = None
    hours: Count = None
    start_date: Day = None
    enrol_deadline: Day = None
    quota: Count = None
    seats_left: Count = None
    venue_code: Ward = None
    venue_text: Text = None
    is_mobile: Flag = False
    schedule_text: Text = None
    fee_vnd: Money = None
    fee_note: Text = None
    policy_codes: Items = []
    min_age: Count = None
    max_age: Count = None
    min_education: Education = None
    sex: Sex = None
    requires_license: Licence = None
    health_note: Text = None
    documents_text: Text = None
    outcome_jobs_text: Text = None
    certificate: Text = None
    contact: Text = None
    source_url: Text = None
    status: Annotated[str, BeforeValidator(f.or_default(f.one_of(COURSE_STATUSES), "draft"))] = (
        "draft"
    )

    @model_validator(mode="after")
    def _rules(self) -> CourseRow:
        _in_order(self.enrol_deadline, self.start_date, "enrol_deadline", "deadline_after_start")
        _in_order(self.seats_left, self.quota, "seats_left", "seats_over_quota")
        _age(self.min_age, "min_age")
        _age(self.max_age, "max_age")
        _in_order(self.min_age, self.max_age, "max_age", "max_below_min")
        return self


class EmployerRow(Row):
    KEY = ("name",)

    name: Required
    tax_code: Text = None
    sector: Text = None
    place_code: Ward = None
    province: Text = None
    out_of_province: Flag = False
    recruit_permit_note: Text = None
    contact: Text = None


class JobFairRow(Row):
    KEY = ("title",)

    title: Required
    kind: Annotated[str, BeforeValidator(f.required(f.vocab("fair_kinds")))]
    starts_at: Annotated[datetime, BeforeValidator(f.required(f.to_datetime))]
    ends_at: Moment = None
    mode: Annotated[str, BeforeValidator(f.or_default(f.vocab("fair_modes"), "offline"))] = (
        "offline"
    )
    venue_code: Ward = None
    venue_text: Text = None
    online_link: Text = None
    organiser: Required
    co_organisers: Items = []
    registration_text: Text = None
    expected_employers: Count = None
    expected_vacancies: Count = None
    also_offers: Items = []
    trades: Trades = []
    min_age: Count = None
    max_age: Count = None
    status: Annotated[str, BeforeValidator(f.or_default(f.one_of(FAIR_STATUSES), "draft"))] = (
        "draft"
    )
    source_url: Text = None

    @model_validator(mode="after")
    def _rules(self) -> JobFairRow:
        _in_order(self.starts_at, self.ends_at, "ends_at", "ends_before_start")
        _age(self.min_age, "min_age")
        _age(self.max_age, "max_age")
        _in_order(self.min_age, self.max_age, "max_age", "max_below_min")
        return self


class VacancyRow(Row):
    KEY = ("employer", "position", "valid_from")
    REFS: ClassVar[dict[str, str]] = {"employer": "employers", "fair": "job_fairs"}

    employer: Required
    fair: Text = None
    position: Required
    trade_code: TradeCode = None
    headcount: Count = None
    age_min: Count = None
    age_max: Count = None
    sex: Sex = None
    education_min: Education = None
    experience_years: Count = None
    license_required: Licence = None
    language_req: Text = None
    pay_min_vnd: Money = None
    pay_max_vnd: Money = None
    pay_text: Text = None
    benefits_text: Text = None
    work_place_code: Ward = None
    work_place_text: Text = None
    work_province: Text = None
    country: Country = None
    valid_from: Day = None
    valid_to: Day = None
    status: Annotated[str, BeforeValidator(f.or_default(f.one_of(VACANCY_STATUSES), "open"))] = (
        "open"
    )
    source: Text = None

    @model_validator(mode="after")
    def _rules(self) -> VacancyRow:
        _age(self.age_min, "age_min")
        _age(self.age_max, "age_max")
        _in_order(self.age_min, self.age_max, "age_max", "max_below_min")
        _in_order(self.pay_min_vnd, self.pay_max_vnd, "pay_max_vnd", "max_below_min")
        _in_order(self.valid_from, self.valid_to, "valid_to", "before_from")
        return self


# every list in workbook order: referenced lists before the lists referring to them
ROW_MODELS: dict[str, type[Row]] = {
    "institutions": InstitutionRow,
    "support_policies": SupportPolicyRow,
    "courses": CourseRow,
    "employers": EmployerRow,
    "job_fairs": JobFairRow,
    "vacancies": VacancyRow,
}
