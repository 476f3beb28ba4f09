"""Alembic environment: runs migrations against the URL set by ``registre.store.sql.engine``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import event

from registre.store.sql import tracking_tables  # noqa: F401  (its tables, for autogenerate)
from registre.store.sql.engine import begin_sqlite, make_engine
from registre.store.sql.tables import metadata

config = context.config


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    if engine.dialect.name == "sqlite":  # every transaction alembic opens is a real one
        event.listen(engine, "begin", begin_sqlite)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
