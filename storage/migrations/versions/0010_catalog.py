"""catalog: institutions, courses, policies, employers, fairs, vacancies, responses, enrolments

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "employers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tax_code", sa.String(length=32), nullable=True),
        sa.Column("sector", sa.String(length=128), nullable=True),
        sa.Column("place_code", sa.String(length=16), nullable=True),
        sa.Column("province", sa.String(length=64), nullable=True),
        sa.Column("out_of_province", sa.Boolean(), nullable=False),
        sa.Column("recruit_permit_note", sa.Text(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employers")),
        sa.UniqueConstraint("name", name=op.f("uq_employers_name")),
    )
    op.create_table(
        "institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("place_code", sa.String(length=16), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("website", sa.String(length=255), nullable=True),
        sa.Column("trades", JSON, nullable=False),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("name", name=op.f("uq_institutions_name")),
    )
    op.create_table(
        "job_fairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("venue_code", sa.String(length=16), nullable=True),
        sa.Column("venue_text", sa.Text(), nullable=True),
        sa.Column("online_link", sa.String(length=512), nullable=True),
        sa.Column("organiser", sa.String(length=255), nullable=False),
        sa.Column("co_organisers", JSON, nullable=False),
        sa.Column("registration_text", sa.Text(), nullable=True),
        sa.Column("expected_employers", sa.Integer(), nullable=True),
        sa.Column("expected_vacancies", sa.Integer(), nullable=True),
        sa.Column("also_offers", JSON, nullable=False),
        sa.Column("trades", JSON, nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("source_url", sa.String(length=512), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_fairs")),
    )
    with op.batch_alter_table("job_fairs", schema=None) as batch_op:
        batch_op.create_index("ix_job_fairs_status_starts", ["status", "starts_at"], unique=False)

    op.create_table(
        "support_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_vi", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=True),
        sa.Column("legal_basis", sa.String(length=255), nullable=False),
        sa.Column("target_groups", JSON, nullable=False),
        sa.Column("levels", JSON, nullable=False),
        sa.Column("items", JSON, nullable=False),
        sa.Column("cap_text", sa.Text(), nullable=True),
        sa.Column("window_months_after_discharge", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_policies")),
        sa.UniqueConstraint("code", name=op.f("uq_support_policies_code")),
    )
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("trade_code", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("hours", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("enrol_deadline", sa.Date(), nullable=True),
        sa.Column("quota", sa.Integer(), nullable=True),
        sa.Column("seats_left", sa.Integer(), nullable=True),
        sa.Column("venue_code", sa.String(length=16), nullable=True),
        sa.Column("venue_text", sa.Text(), nullable=True),
        sa.Column("is_mobile", sa.Boolean(), nullable=False),
        sa.Column("schedule_text", sa.Text(), nullable=True),
        sa.Column("fee_vnd", sa.BigInteger(), nullable=True),
        sa.Column("fee_note", sa.Text(), nullable=True),
        sa.Column("policy_codes", JSON, nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.Column("min_education", sa.String(length=32), nullable=True),
        sa.Column("sex", sa.String(length=8), nullable=True),
        sa.Column("requires_license", sa.String(length=16), nullable=True),
        sa.Column("health_note", sa.Text(), nullable=True),
        sa.Column("documents_text", sa.Text(), nullable=True),
        sa.Column("outcome_jobs_text", sa.Text(), nullable=True),
        sa.Column("certificate", sa.String(length=255), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("source_url", sa.String(length=512), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("published_at", TS, nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_courses_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.create_index("ix_courses_institution", ["institution_id"], unique=False)
        batch_op.create_index("ix_courses_status_start", ["status", "start_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_courses_trade_code"), ["trade_code"], unique=False)

    op.create_table(
        "item_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("response", sa.String(length=16), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_item_responses_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_responses")),
        sa.UniqueConstraint(
            "person_id", "item_kind", "item_id", name="uq_item_responses_person_item"
        ),
    )
    with op.batch_alter_table("item_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_responses_item", ["item_kind", "item_id", "response"], unique=False
        )

    op.create_table(
        "vacancies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=True),
        sa.Column("trade_code", sa.String(length=64), nullable=True),
        sa.Column("position", sa.String(length=255), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=True),
        sa.Column("age_min", sa.Integer(), nullable=True),
        sa.Column("age_max", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=8), nullable=True),
        sa.Column("education_min", sa.String(length=32), nullable=True),
        sa.Column("experience_years", sa.Integer(), nullable=True),
        sa.Column("license_required", sa.String(length=16), nullable=True),
        sa.Column("language_req", sa.String(length=128), nullable=True),
        sa.Column("pay_min_vnd", sa.BigInteger(), nullable=True),
        sa.Column("pay_max_vnd", sa.BigInteger(), nullable=True),
        sa.Column("pay_text", sa.String(length=255), nullable=True),
        sa.Column("benefits_text", sa.Text(), nullable=True),
        sa.Column("work_place_code", sa.String(length=16), nullable=True),
        sa.Column("work_place_text", sa.Text(), nullable=True),
        sa.Column("work_province", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("sample", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_id"],
            ["employers.id"],
            name=op.f("fk_vacancies_employer_id_employers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["job_fairs.id"],
            name=op.f("fk_vacancies_fair_id_job_fairs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vacancies")),
    )
    with op.batch_alter_table("vacancies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vacancies_fair_id"), ["fair_id"], unique=False)
        batch_op.create_index("ix_vacancies_status_valid_to", ["status", "valid_to"], unique=False)
        batch_op.create_index(batch_op.f("ix_vacancies_trade_code"), ["trade_code"], unique=False)

    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_enrolments_course_id_courses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_enrolments_institution_id_institutions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_enrolments_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint("person_id", "institution_id", name="uq_enrolments_person_institution"),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enrolments_institution_status", ["institution_id", "status"], unique=False
        )

    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_admin_users_institution_id_institutions"),
            "institutions",
            ["institution_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("institution_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_api_clients_institution_id_institutions"),
            "institutions",
            ["institution_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_clients_institution_id_institutions"), type_="foreignkey"
        )
        batch_op.drop_column("institution_id")

    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_admin_users_institution_id_institutions"), type_="foreignkey"
        )
        batch_op.drop_column("institution_id")

    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolments_institution_status")

    op.drop_table("enrolments")
    with op.batch_alter_table("vacancies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vacancies_trade_code"))
        batch_op.drop_index("ix_vacancies_status_valid_to")
        batch_op.drop_index(batch_op.f("ix_vacancies_fair_id"))

    op.drop_table("vacancies")
    with op.batch_alter_table("item_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_item_responses_item")

    op.drop_table("item_responses")
    with op.batch_alter_table("courses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_courses_trade_code"))
        batch_op.drop_index("ix_courses_status_start")
        batch_op.drop_index("ix_courses_institution")

    op.drop_table("courses")
    op.drop_table("support_policies")
    with op.batch_alter_table("job_fairs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_fairs_status_starts")

    op.drop_table("job_fairs")
    op.drop_table("institutions")
    op.drop_table("employers")
