"""the product catalogue, orders placed in the portal, service change requests

products (prices per currency as JSON); orders gain origin (IMPORT or
PORTAL), notes and created_by; cases gain service_id; a SERVICES case
category (not offered to createCase) with its SERVICE_CHANGE and
SERVICE_CREDENTIALS subcategories; services gain credentials_sealed.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-01
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
# As in 0011: category ids derive from their codes.
NAMESPACE = uuid.UUID("6f1c2a4e-3b7d-5c8e-9a10-2b3c4d5e6f70")
CATEGORY = ("SERVICES", "Servicios contratados", "Contracted services")
SUBCATEGORIES = [
    ("SERVICE_CHANGE", "Cambio de servicio", "Service change"),
    ("SERVICE_CREDENTIALS", "Nuevas credenciales", "New credentials"),
]


def _id(code: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, code)


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_es", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("description_es", sa.Text(), nullable=True),
        sa.Column("description_en", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("code", name="uq_products_code"),
    )
    op.create_index("ix_products_active_code", "products", ["active", "code"])
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("origin", sa.String(32), nullable=False, server_default="IMPORT")
        )
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("created_by", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_orders_created_by_users", "users", ["created_by"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("services") as batch:
        batch.add_column(sa.Column("credentials_sealed", sa.Text(), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("service_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            "fk_cases_service_id_services", "services", ["service_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_cases_service_id", ["service_id"])
    bind = op.get_bind()
    position = bind.execute(sa.text("SELECT COALESCE(MAX(position), -1) + 1 FROM case_categories"))
    code, es, en = CATEGORY
    categories = sa.table(
        "case_categories",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name_es", sa.String()),
        sa.column("name_en", sa.String()),
        sa.column("position", sa.Integer()),
        sa.column("active", sa.Boolean()),
    )
    op.bulk_insert(
        categories,
        [
            {
                "id": _id(code),
                "code": code,
                "name_es": es,
                "name_en": en,
                "position": position.scalar_one(),
                # Not offered to createCase: its cases come from
                # requestServiceChange, linked to their service.
                "active": False,
            }
        ],
    )
    subcategories = sa.table(
        "case_subcategories",
        sa.column("id", sa.Uuid()),
        sa.column("category_id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name_es", sa.String()),
        sa.column("name_en", sa.String()),
        sa.column("position", sa.Integer()),
        sa.column("requires_invoice", sa.Boolean()),
        sa.column("requires_order", sa.Boolean()),
        sa.column("field_specs", sa.JSON()),
        sa.column("active", sa.Boolean()),
    )
    op.bulk_insert(
        subcategories,
        [
            {
                "id": _id(sub),
                "category_id": _id(code),
                "code": sub,
                "name_es": sub_es,
                "name_en": sub_en,
                "position": index,
                "requires_invoice": False,
                "requires_order": False,
                "field_specs": [],
                "active": True,
            }
            for index, (sub, sub_es, sub_en) in enumerate(SUBCATEGORIES)
        ],
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM case_categories WHERE code = 'SERVICES'"))
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_service_id")
        batch.drop_constraint("fk_cases_service_id_services", type_="foreignkey")
        batch.drop_column("service_id")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("credentials_sealed")
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("fk_orders_created_by_users", type_="foreignkey")
        batch.drop_column("created_by")
        batch.drop_column("notes")
        batch.drop_column("origin")
    op.drop_index("ix_products_active_code", table_name="products")
    op.drop_table("products")
