"""Apply (or write) Alembic migrations: the only way tables are made."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from clientzone.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


async def upgrade(database: Database, revision: str = "heads") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def make_migration(database: Database, message: str) -> None:
    """Write a new revision from the difference between the models and the database."""

    def run(connection: Connection) -> None:
        command.revision(alembic_config(connection), message=message, autogenerate=True)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)
