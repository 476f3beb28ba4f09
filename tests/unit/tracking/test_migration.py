from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from registre.store.sql.engine import MIGRATIONS_DIR, current_revision, make_engine, upgrade


def _config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _metric_columns(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("run_metrics")}
    finally:
        engine.dispose()


def test_revision_0002_downgrades_and_upgrades_again(database_url: str) -> None:
    upgrade(database_url)
    assert current_revision(database_url) == "0004"
    command.downgrade(_config(database_url), "0001")
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


def test_revision_0003_adds_metric_datasets_and_keeps_existing_points(database_url: str) -> None:
    upgrade(database_url, "0002")
    assert "dataset_name" not in _metric_columns(database_url)
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO runs (id, experiment_id, name, user_id, status, start_time, "
                "lifecycle_stage) VALUES ('r1', 0, 'run', 'me', 'RUNNING', 1, 'active')"
            )
            conn.exec_driver_sql(
                "INSERT INTO run_metrics (run_id, key, value, timestamp, step, is_nan) "
                "VALUES ('r1', 'acc', 0.5, 1, 0, false)"
            )
    finally:
        engine.dispose()
    upgrade(database_url)
    assert {"dataset_name", "dataset_digest"} <= _metric_columns(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT key, value, dataset_name, dataset_digest FROM run_metrics"
            ).all()
        assert [tuple(r) for r in rows] == [("acc", 0.5, None, None)]
    finally:
        engine.dispose()
    command.downgrade(_config(database_url), "0002")
    assert "dataset_name" not in _metric_columns(database_url)


def test_revision_0004_indexes_versions_by_model_and_update_time(database_url: str) -> None:
    def indexes() -> set[str]:
        engine = make_engine(database_url)
        try:
            with engine.connect() as conn:
                return {i["name"] for i in inspect(conn).get_indexes("model_versions")}
        finally:
            engine.dispose()

    upgrade(database_url)
    assert "ix_model_versions_model_updated" in indexes()
    command.downgrade(_config(database_url), "0003")
    assert "ix_model_versions_model_updated" not in indexes()
    upgrade(database_url)
    assert "ix_model_versions_model_updated" in indexes()
