"""SQLite transactions are opened by the store itself (pysqlite runs in autocommit mode)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from registre.domain.errors import StorageFull
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


def test_a_full_database_is_storage_full_and_keeps_what_was_there(store: SqlStore) -> None:
    with store.write() as tx:
        tx.insert_model("kept", "", 1)
    with store.read() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @event.listens_for(store.engine, "connect")
    def cap(dbapi_connection: Any, _record: Any) -> None:  # SQLite's own "disk is full"
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    store.engine.dispose()  # new connections, each capped
    with pytest.raises(StorageFull, match="out of space"), store.write() as tx:
        for i in range(10_000):
            tx.insert_model(f"model-{i}-" + "x" * 200, "d" * 2000, 1)
    assert _names(store) == ["kept"]


def test_writers_queued_for_the_turn_leave_the_pool_to_its_holder(store: SqlStore) -> None:
    """A group commit holds the writers' turn while its batch checks out a connection: writers
    waiting for the turn must not hold the pool's connections meanwhile (deadlock)."""
    pool = store.engine.pool
    capacity = pool.size() + pool._max_overflow  # type: ignore[attr-defined]
    failures: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with store.write() as tx:
                tx.insert_model(f"queued-{i}", "", i)
        except BaseException as exc:
            failures.append(exc)

    with store.write_turn():
        waiting = [threading.Thread(target=write, args=(i,)) for i in range(capacity + 5)]
        for thread in waiting:
            thread.start()
        deadline = time.monotonic() + 1.0  # time for them to reach the turn (or drain the pool)
        while pool.checkedout() < capacity and time.monotonic() < deadline:
            time.sleep(0.01)
        with store.write() as tx:  # the holder's own write needs a connection now
            tx.insert_model("holder", "", 0)
    for thread in waiting:
        thread.join(timeout=60)
    assert not failures
    assert len(_names(store)) == capacity + 6
