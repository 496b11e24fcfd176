"""catalog alerts: per-row outbox text, the item of an outbox message, alerts sent, opt-outs

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_kind", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_outbox_messages_item", ["kind", "item_kind", "item_id"]
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))

    op.create_table(
        "item_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["outbox_messages.id"],
            name=op.f("fk_item_alerts_message_id_outbox_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_item_alerts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_alerts")),
        sa.UniqueConstraint(
            "person_id", "item_kind", "item_id", name="uq_item_alerts_person_item"
        ),
    )
    with op.batch_alter_table("item_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_item_alerts_person_at", ["person_id", "created_at"])
        batch_op.create_index("ix_item_alerts_message", ["message_id"])

    op.create_table(
        "alert_opt_outs",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("opted_out_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_alert_opt_outs_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_alert_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("alert_opt_outs")
    with op.batch_alter_table("item_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_item_alerts_message")
        batch_op.drop_index("ix_item_alerts_person_at")
    op.drop_table("item_alerts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("text")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_messages_item", type_="unique")
        batch_op.drop_column("item_id")
        batch_op.drop_column("item_kind")
