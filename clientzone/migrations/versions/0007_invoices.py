"""invoices, their lines, and document types (seeded)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)

DOCUMENT_TYPES = [
    ("CFDI_INGRESO", "CFDI de ingreso", "CFDI invoice", True),
    ("CFDI_EGRESO", "CFDI de egreso (nota de crédito)", "CFDI credit note", False),
    ("FACTURA_A", "Factura A", "Invoice A", True),
    ("FACTURA_B", "Factura B", "Invoice B", True),
    ("FACTURA_E", "Factura E (exportación)", "Invoice E (export)", False),
    ("FACTURA", "Factura", "Invoice", True),
    ("NOTA_CREDITO", "Nota de crédito", "Credit note", False),
]


def upgrade() -> None:
    document_types = op.create_table(
        "document_types",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name_es", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("allows_online_payment", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_document_types"),
    )
    op.bulk_insert(
        document_types,
        [
            {"code": c, "name_es": es, "name_en": en, "allows_online_payment": online}
            for c, es, en, online in DOCUMENT_TYPES
        ],
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(100), nullable=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("document_type", sa.String(32), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("account_id", "number", name="uq_invoices_account_id_number"),
        sa.UniqueConstraint("external_id", name="uq_invoices_external_id"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_invoices_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_type"],
            ["document_types.code"],
            name="fk_invoices_document_type_document_types",
        ),
    )
    for name, columns in (
        ("ix_invoices_account_id_issued_on_id", ["account_id", "issued_on", "id"]),
        ("ix_invoices_account_id_due_on_id", ["account_id", "due_on", "id"]),
        ("ix_invoices_account_id_total_minor_id", ["account_id", "total_minor", "id"]),
    ):
        op.create_index(name, "invoices", columns)
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("quantity_milli", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invoice_lines"),
        sa.UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_invoice_id_position"),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name="fk_invoice_lines_invoice_id_invoices",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("invoice_lines")
    op.drop_table("invoices")
    op.drop_table("document_types")
