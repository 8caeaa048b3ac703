"""full-text search over the emails' text on PostgreSQL (Spanish and English)

Revision ID: 0026
Revises: 0023
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The same expression as models/mail_search.py body_document().
        op.execute(
            "CREATE INDEX ix_email_messages_body_search ON email_messages USING gin "
            "((to_tsvector('spanish', coalesce(text_body, '')) "
            "|| to_tsvector('english', coalesce(text_body, ''))))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_email_messages_body_search", table_name="email_messages")
