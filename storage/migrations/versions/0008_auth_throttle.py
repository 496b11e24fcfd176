"""login throttle per (username, address) pair; no account-wide lock; API tokens expire

The old throttle rows (per username, per address) and the account lock columns go: they let
anyone lock any account. Throttle rows are short-lived, so they are dropped, not converted.
Tokens that exist get the default lifetime (90 days) from the upgrade on.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
EXISTING_TOKENS_LAST = timedelta(days=90)  # admin/accounts.py TOKEN_DAYS_DEFAULT at the time


def upgrade() -> None:
    op.drop_table("admin_login_throttle")
    op.create_table(
        "admin_login_throttle",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", TS, nullable=False),
        sa.Column("blocked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("username", "address", name=op.f("pk_admin_login_throttle")),
    )
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", TS, nullable=True))
    clients = sa.table("api_clients", sa.column("expires_at", TS))
    op.execute(clients.update().values(expires_at=datetime.now(UTC) + EXISTING_TOKENS_LAST))
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=TS, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_clients", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", TS, nullable=True))
    op.drop_table("admin_login_throttle")
    op.create_table(
        "admin_login_throttle",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_admin_login_throttle")),
    )
