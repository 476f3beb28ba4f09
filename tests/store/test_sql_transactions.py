"""SQLite transactions are opened by the store itself (pysqlite runs in autocommit mode)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from registre.store.sql import tables as t
from registre.store.sql.store import SqlStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{tmp_path / 'registre.db'}")
    yield s
    s.close()


def _names(store: SqlStore) -> list[str]:
    with store.read() as conn:
        return list(conn.execute(select(t.models.c.name).order_by(t.models.c.name)).scalars())


def test_a_read_sees_one_snapshot_while_others_commit(store: SqlStore) -> None:
    with store.write() as tx:
        tx.insert_model("before", "", 1)
    with store.read() as conn:
        assert conn.connection.driver_connection.in_transaction
        first = list(conn.execute(select(t.models.c.name)).scalars())
        with store.write() as tx:  # another connection commits meanwhile
            tx.insert_model("during", "", 2)
        again = list(conn.execute(select(t.models.c.name)).scalars())
    assert first == again == ["before"]
    assert _names(store) == ["before", "during"]


def test_a_failed_write_leaves_none_of_its_statements(store: SqlStore) -> None:
    with pytest.raises(RuntimeError), store.write() as tx:
        assert tx.conn.connection.driver_connection.in_transaction
        tx.insert_model("half", "", 1)
        raise RuntimeError("something after the first statement failed")
    assert _names(store) == []
