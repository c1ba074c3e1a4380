"""Exchange rates: a workspace's table of rates, for one reporting currency.

Revision ID: 0004
Revises: 0003 (annotations)
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_sets",
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=True),
        sa.Column("pick", sa.String(length=8), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("workspace"),
    )
    op.create_table(
        "exchange_rates",
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("workspace", "currency", "day"),
    )


def downgrade() -> None:
    op.drop_table("exchange_rates")
    op.drop_table("rate_sets")
