"""Alembic environment: runs on a connection handed over by clientzone.migrate."""

from alembic import context
from sqlmodel import SQLModel

import clientzone.models  # noqa: F401  (registers every table)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `clientzone migrate`")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
