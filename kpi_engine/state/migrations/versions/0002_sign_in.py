"""Sign-in: teams with their members, invitations and personal tokens, the audit log, rate
limits; how often each link was opened; what kind each workspace is.

Revision ID: 0002
Revises: 0001 (the state tables)
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id"),
    )
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.create_index("audit_workspace", ["workspace", "at"], unique=False)

    op.create_table(
        "invites",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("invited_by", sa.String(length=200), nullable=False),
        sa.Column("invited_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "email"),
    )
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.create_index("invites_email", ["email"], unique=False)

    op.create_table(
        "members",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "email"),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("members_email", ["email"], unique=False)

    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window"),
    )
    op.create_table(
        "teams",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("links_need_signin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("links_domain", sa.String(length=200), nullable=True),
        sa.Column("email_domains", sa.Text(), server_default="[]", nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
        sa.UniqueConstraint("workspace_id"),
    )
    op.create_table(
        "tokens",
        sa.Column("token_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opens", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("last_opened_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="anonymous", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("kind")

    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_column("last_opened_at")
        batch_op.drop_column("opens")

    op.drop_table("tokens")
    op.drop_table("teams")
    op.drop_table("rate_limits")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("members_email")

    op.drop_table("members")
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_index("invites_email")

    op.drop_table("invites")
    with op.batch_alter_table("audit", schema=None) as batch_op:
        batch_op.drop_index("audit_workspace")

    op.drop_table("audit")
