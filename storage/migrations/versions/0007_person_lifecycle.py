"""person lifecycle: people ids never reused on SQLite, last contact; no rows without consent

- ``people`` becomes ``AUTOINCREMENT`` on SQLite (the table is rebuilt): an erased person's id,
  still named in audit entries, is never given to a stranger. PostgreSQL sequences never reuse
  an id, so nothing changes there.
- ``people.last_contact_at``: when the person last wrote (retention when there is no discharge
  month); existing rows start from ``updated_at``.
- A ``people`` row now exists only after consent: rows of people who never consented (made on
  first contact before this revision) are deleted with their survey rows.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)

# the tables that refer to people at this revision; SQLite migrations run with foreign keys off
# (storage/migrations/env.py), so the rows of people deleted here are deleted explicitly
_NEVER_CONSENTED = "SELECT id FROM people WHERE consent_at IS NULL"
_CHILD_ROWS = (
    "DELETE FROM answers WHERE response_id IN "
    f"(SELECT id FROM survey_responses WHERE person_id IN ({_NEVER_CONSENTED}))",
    f"DELETE FROM trade_preferences WHERE person_id IN ({_NEVER_CONSENTED})",
    f"DELETE FROM survey_responses WHERE person_id IN ({_NEVER_CONSENTED})",
    f"DELETE FROM outcomes WHERE person_id IN ({_NEVER_CONSENTED})",
    f"DELETE FROM scheduled_sends WHERE person_id IN ({_NEVER_CONSENTED})",
    f"DELETE FROM callback_requests WHERE person_id IN ({_NEVER_CONSENTED})",
    f"DELETE FROM questions WHERE person_id IN ({_NEVER_CONSENTED})",
)


def upgrade() -> None:
    for statement in _CHILD_ROWS:
        op.execute(statement)
    op.execute("DELETE FROM people WHERE consent_at IS NULL")
    column = sa.Column("last_contact_at", TS, nullable=True)
    if op.get_bind().dialect.name == "sqlite":
        # AUTOINCREMENT is part of the table's definition: rebuild it
        with op.batch_alter_table(
            "people", recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch_op:
            batch_op.add_column(column)
    else:
        op.add_column("people", column)
    op.execute("UPDATE people SET last_contact_at = updated_at")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "people", recreate="always", table_kwargs={"sqlite_autoincrement": False}
        ) as batch_op:
            batch_op.drop_column("last_contact_at")
    else:
        op.drop_column("people", "last_contact_at")
