from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from registre.store.sql.engine import MIGRATIONS_DIR, current_revision, make_engine, upgrade


def test_revision_0002_downgrades_and_upgrades_again(database_url: str) -> None:
    upgrade(database_url)
    assert current_revision(database_url) == "0002"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.downgrade(config, "0001")
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        assert "runs" not in tables and "model_versions" in tables
    finally:
        engine.dispose()
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, name FROM experiments").all()
        assert [tuple(r) for r in rows] == [(0, "Default")]
    finally:
        engine.dispose()
