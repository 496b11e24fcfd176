"""outbox: unprompted messages (broadcasts), a row per recipient, broadcast opt-outs

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("text_vi", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=True),
        sa.Column("media_kind", sa.String(length=16), nullable=True),
        sa.Column("media_name", sa.String(length=255), nullable=True),
        sa.Column("media_type", sa.String(length=128), nullable=True),
        sa.Column("media_data", sa.LargeBinary(), nullable=True),
        sa.Column("media_file_id", sa.String(length=255), nullable=True),
        sa.Column("segment", JSON, nullable=False),
        sa.Column("scope_communes", JSON, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("send_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_status_send_at", ["status", "send_at"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("result", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbox_messages.id"],
            name=op.f("fk_outbox_message_id_outbox_messages"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"],
            name=op.f("fk_outbox_person_id_people"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", "person_id", name="uq_outbox_message_person"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_status", ["message_id", "status"], unique=False)
        batch_op.create_index("ix_outbox_person_id", ["person_id"], unique=False)

    op.create_table(
        "broadcast_opt_outs",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("opted_out_at", TS, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbox_messages.id"],
            name=op.f("fk_broadcast_opt_outs_message_id_outbox_messages"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"],
            name=op.f("fk_broadcast_opt_outs_person_id_people"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_broadcast_opt_outs")),
    )
    with op.batch_alter_table("broadcast_opt_outs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_opt_outs_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcast_opt_outs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_opt_outs_message_id"))
    op.drop_table("broadcast_opt_outs")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_person_id")
        batch_op.drop_index("ix_outbox_message_status")
    op.drop_table("outbox")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_status_send_at")
    op.drop_table("outbox_messages")
