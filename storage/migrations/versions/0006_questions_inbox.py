"""questions inbox: what people ask counsellors through /ask, and the replies

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("faq_declined", sa.String(length=64), nullable=True),
        sa.Column("asked_at", TS, nullable=False),
        sa.Column("group_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("group_message_id", sa.BigInteger(), nullable=True),
        sa.Column("answer_text", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=128), nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.Column("reply_status", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"],
            name=op.f("fk_questions_person_id_people"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
        sa.UniqueConstraint(
            "group_chat_id", "group_message_id", name="uq_questions_group_message"
        ),
    )
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.create_index("ix_questions_open", ["answered_at", "asked_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_questions_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questions_person_id"))
        batch_op.drop_index("ix_questions_open")
    op.drop_table("questions")
