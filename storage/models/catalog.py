"""The catalog people are matched to: institutions and their courses (one row per intake),
support policies, employers, job fairs and vacancies; what each person said about an item, and
where each person stands with an institution.

Codes, not free text, wherever a list is fixed by data: ``trade_code`` (``content/trades.yaml``),
``level``, ``kind``, ``mode`` and ``education`` (``content/catalog.yaml``, extendable there), places
as ward codes of 2025 (``vietnam-provinces``/``vietnamadminunits``, the same as
``people.home_commune_code``). Money in whole đồng; ``None`` means unknown, never zero.
``sample``: a row of the demo's sample catalog (fictional, shown marked as such).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, JsonType, UtcDateTime, utcnow


class Institution(Base):
    """A college, GDNN-GDTX centre, driving school, employer that trains, or labour-export firm.

    kind: cao_dang | trung_cap | gdnn_gdtx | lai_xe | doanh_nghiep | xkld (content/catalog.yaml)
    ``trades``: trade codes it trains for (its month-18 list is the people who chose one).
    """

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    place_code: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(255))
    trades: Mapped[list[str]] = mapped_column(JsonType, default=list)
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SupportPolicy(Base):
    """A support policy with its legal basis and dates (a new decree = a new row).

    ``code``: stable key courses refer to (``nd338_d25``); ``levels``: course levels it covers;
    ``target_groups``: who (``discharged``, ``police_discharged``…); ``items``: what it pays
    (``tuition``, ``meals``, ``travel``…); ``cap_text``: the cap in words.
    """

    __tablename__ = "support_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    legal_basis: Mapped[str] = mapped_column(String(255))
    target_groups: Mapped[list[str]] = mapped_column(JsonType, default=list)
    levels: Mapped[list[str]] = mapped_column(JsonType, default=list)
    items: Mapped[list[str]] = mapped_column(JsonType, default=list)
    cap_text: Mapped[str | None] = mapped_column(Text)
    window_months_after_discharge: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    sample: Mapped[bool] = mapped_column(Boolean, default=False)


class Course(Base):
    """One intake of a course at an institution.

    status: draft (not shown) → open (shown, enrolling) → closed | cancelled.
    ``published_at``: when it first became open (alerts go out once, from then).
    ``policy_codes``: support policies that apply (``SupportPolicy.code``).
    """

    __tablename__ = "courses"
    __table_args__ = (
        Index("ix_courses_status_start", "status", "start_date"),
        Index("ix_courses_institution", "institution_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    trade_code: Mapped[str] = mapped_column(String(64), index=True)
    level: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(255))
    duration_days: Mapped[int | None] = mapped_column(Integer)
    hours: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    enrol_deadline: Mapped[date | None] = mapped_column(Date)
    quota: Mapped[int | None] = mapped_column(Integer)
    seats_left: Mapped[int | None] = mapped_column(Integer)
    venue_code: Mapped[str | None] = mapped_column(String(16))
    venue_text: Mapped[str | None] = mapped_column(Text)
    is_mobile: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_text: Mapped[str | None] = mapped_column(Text)
    fee_vnd: Mapped[int | None] = mapped_column(BigInteger)
    fee_note: Mapped[str | None] = mapped_column(Text)
    policy_codes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    min_education: Mapped[str | None] = mapped_column(String(32))
    sex: Mapped[str | None] = mapped_column(String(8))
    requires_license: Mapped[str | None] = mapped_column(String(16))
    health_note: Mapped[str | None] = mapped_column(Text)
    documents_text: Mapped[str | None] = mapped_column(Text)
    outcome_jobs_text: Mapped[str | None] = mapped_column(Text)
    certificate: Mapped[str | None] = mapped_column(String(255))
    contact: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Employer(Base):
    """A firm that recruits (vacancies, job-fair stands)."""

    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    tax_code: Mapped[str | None] = mapped_column(String(32))
    sector: Mapped[str | None] = mapped_column(String(128))
    place_code: Mapped[str | None] = mapped_column(String(16))
    province: Mapped[str | None] = mapped_column(String(64))
    out_of_province: Mapped[bool] = mapped_column(Boolean, default=False)
    recruit_permit_note: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    sample: Mapped[bool] = mapped_column(Boolean, default=False)


class JobFair(Base):
    """A job fair (phiên giao dịch việc làm) or counselling day.

    kind: dinh_ky | luu_dong_xa | chuyen_de_xuat_ngu | truc_tuyen | xkld; mode: offline |
    online | hybrid; status: draft → published → done | cancelled.
    """

    __tablename__ = "job_fairs"
    __table_args__ = (Index("ix_job_fairs_status_starts", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    mode: Mapped[str] = mapped_column(String(16), default="offline")
    venue_code: Mapped[str | None] = mapped_column(String(16))
    venue_text: Mapped[str | None] = mapped_column(Text)
    online_link: Mapped[str | None] = mapped_column(String(512))
    organiser: Mapped[str] = mapped_column(String(255))
    co_organisers: Mapped[list[str]] = mapped_column(JsonType, default=list)
    registration_text: Mapped[str | None] = mapped_column(Text)
    expected_employers: Mapped[int | None] = mapped_column(Integer)
    expected_vacancies: Mapped[int | None] = mapped_column(Integer)
    also_offers: Mapped[list[str]] = mapped_column(JsonType, default=list)
    trades: Mapped[list[str]] = mapped_column(JsonType, default=list)
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    source_url: Mapped[str | None] = mapped_column(String(512))
    sample: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Vacancy(Base):
    """A job offer (shaped like the employment centres' own records); ``fair_id`` when it is
    offered at a fair. ``country``: None or "VN" at home, else the ISO code (labour export)."""

    __tablename__ = "vacancies"
    __table_args__ = (Index("ix_vacancies_status_valid_to", "status", "valid_to"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("employers.id", ondelete="CASCADE"))
    fair_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_fairs.id", ondelete="SET NULL"), index=True
    )
    trade_code: Mapped[str | None] = mapped_column(String(64), index=True)
    position: Mapped[str] = mapped_column(String(255))
    headcount: Mapped[int | None] = mapped_column(Integer)
    age_min: Mapped[int | None] = mapped_column(Integer)
    age_max: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(8))
    education_min: Mapped[str | None] = mapped_column(String(32))
    experience_years: Mapped[int | None] = mapped_column(Integer)
    license_required: Mapped[str | None] = mapped_column(String(16))
    language_req: Mapped[str | None] = mapped_column(String(128))
    pay_min_vnd: Mapped[int | None] = mapped_column(BigInteger)
    pay_max_vnd: Mapped[int | None] = mapped_column(BigInteger)
    pay_text: Mapped[str | None] = mapped_column(String(255))
    benefits_text: Mapped[str | None] = mapped_column(Text)
    work_place_code: Mapped[str | None] = mapped_column(String(16))
    work_place_text: Mapped[str | None] = mapped_column(Text)
    work_province: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    source: Mapped[str | None] = mapped_column(String(255))
    sample: Mapped[bool] = mapped_column(Boolean, default=False)


class ItemResponse(Base):
    """What a person said about one catalog item in the bot (the latest wins).

    item_kind: course | fair | vacancy; response: interested ("Đăng ký quan tâm") | remind
    ("Nhắc tôi", fairs) | not_interested ("Không quan tâm": never shown again).
    """

    __tablename__ = "item_responses"
    __table_args__ = (
        UniqueConstraint("person_id", "item_kind", "item_id", name="uq_item_responses_person_item"),
        Index("ix_item_responses_item", "item_kind", "item_id", "response"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Enrolment(Base):
    """Where one person stands with one institution (its month-18 list, its intakes).

    status: listed (on the list, nobody acted yet) → contacted → enrolled → finished | dropped.
    ``course_id``: the intake, once known. Enrolled and finished are recorded as the person's
    outcomes too (in_training, finished_training), so the one KPI implementation counts them.
    """

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("person_id", "institution_id", name="uq_enrolments_person_institution"),
        Index("ix_enrolments_institution_status", "institution_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="CASCADE"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="listed")
    status_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
