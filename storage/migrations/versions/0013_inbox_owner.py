"""update inbox: the process that stored each update (several bot processes)

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('update_inbox') as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=32), nullable=True))
        batch_op.create_index(
            'ix_update_inbox_unfinished', ['bot_id', 'state', 'owner'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('update_inbox') as batch_op:
        batch_op.drop_index('ix_update_inbox_unfinished')
        batch_op.drop_column('owner')
