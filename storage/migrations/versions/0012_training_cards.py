"""training cards: cards, redemptions, settlements, officers' dated rules

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('support_rule_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('fields', JSON, nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_rule_overrides')),
    sa.UniqueConstraint('kind', 'valid_from', name='uq_support_rule_overrides')
    )
    op.create_table('settlements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total_vnd', sa.BigInteger(), nullable=False),
    sa.Column('learner_share_vnd', sa.BigInteger(), nullable=False),
    sa.Column('submitted_at', TS, nullable=True),
    sa.Column('submitted_by', sa.String(length=128), nullable=True),
    sa.Column('approved_at', TS, nullable=True),
    sa.Column('approved_by', sa.String(length=128), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_settlements_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlements')),
    sa.UniqueConstraint('institution_id', 'period', 'period_start', name='uq_settlements_institution_period')
    )
    op.create_table('training_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('holder_name', sa.String(length=128), nullable=False),
    sa.Column('holder_phone', sa.String(length=16), nullable=True),
    sa.Column('holder_birth_date', sa.Date(), nullable=True),
    sa.Column('home_commune_code', sa.String(length=16), nullable=True),
    sa.Column('issuer_kind', sa.String(length=16), nullable=False),
    sa.Column('issuer_unit', sa.String(length=255), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('discharge_date', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('service_completed', sa.Boolean(), nullable=False),
    sa.Column('other_state_training', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revoked_reason', sa.Text(), nullable=True),
    sa.Column('expiry_reminded_at', TS, nullable=True),
    sa.Column('created_by', sa.String(length=128), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_training_cards_person_id_people'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_cards')),
    sa.UniqueConstraint('number', name=op.f('uq_training_cards_number'))
    )
    with op.batch_alter_table('training_cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_cards_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_training_cards_status_valid_until', ['status', 'valid_until'], unique=False)

    op.create_table('card_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('redeemed_on', sa.Date(), nullable=False),
    sa.Column('redeemed_by', sa.String(length=128), nullable=False),
    sa.Column('declaration', sa.String(length=8), nullable=False),
    sa.Column('declared_to', sa.String(length=128), nullable=True),
    sa.Column('declaration_name', sa.String(length=255), nullable=True),
    sa.Column('declaration_type', sa.String(length=128), nullable=True),
    sa.Column('declaration_file', sa.LargeBinary(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('course_days', sa.Integer(), nullable=False),
    sa.Column('tuition_vnd', sa.BigInteger(), nullable=False),
    sa.Column('finished_on', sa.Date(), nullable=True),
    sa.Column('dropped_on', sa.Date(), nullable=True),
    sa.Column('days_attended', sa.Integer(), nullable=True),
    sa.Column('amounts', JSON, nullable=True),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['training_cards.id'], name=op.f('fk_card_redemptions_card_id_training_cards'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_card_redemptions_course_id_courses'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_card_redemptions_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_card_redemptions_person_id_people'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_card_redemptions_settlement_id_settlements'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_redemptions')),
    sa.UniqueConstraint('card_id', name='uq_card_redemptions_card_id')
    )
    with op.batch_alter_table('card_redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_card_redemptions_institution', ['institution_id', 'redeemed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_redemptions_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_redemptions_settlement_id'), ['settlement_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('card_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_redemptions_settlement_id'))
        batch_op.drop_index(batch_op.f('ix_card_redemptions_person_id'))
        batch_op.drop_index('ix_card_redemptions_institution')

    op.drop_table('card_redemptions')
    with op.batch_alter_table('training_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_training_cards_status_valid_until')
        batch_op.drop_index(batch_op.f('ix_training_cards_person_id'))

    op.drop_table('training_cards')
    op.drop_table('settlements')
    op.drop_table('support_rule_overrides')
