"""members suspended without being removed; contacts who can sign in

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("invitation_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("membership_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_contacts_invitation_id_invitations",
            "invitations",
            ["invitation_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            "fk_contacts_membership_id_memberships",
            "memberships",
            ["membership_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_constraint("fk_contacts_membership_id_memberships", type_="foreignkey")
        batch.drop_constraint("fk_contacts_invitation_id_invitations", type_="foreignkey")
        batch.drop_column("membership_id")
        batch.drop_column("invitation_id")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("suspended_at")
