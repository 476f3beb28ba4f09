"""Many processes registering versions of one model at once get exactly 1..N."""

from __future__ import annotations

import io
import multiprocessing as mp
from pathlib import Path

import pytest

from registre.service.registry import Registry
from registre.store.blobs.local import LocalBlobStore
from registre.store.sql.store import SqlStore

PROCESSES = 8
PER_PROCESS = 12


def _register_many(database_url: str, blob_root: str, worker: int, start: mp.Barrier) -> list[int]:  # type: ignore[valid-type]
    registry = Registry(SqlStore(database_url, migrate=False), LocalBlobStore(blob_root))
    from registre.domain.entities import FileEntry

    blob = registry.upload_blob(io.BytesIO(f"worker {worker}".encode()))
    start.wait()  # type: ignore[attr-defined]
    got = []
    for i in range(PER_PROCESS):
        version = registry.register_version(
            "Contended",
            [FileEntry("model.bin", blob.digest, blob.size)],
            metrics={"worker": worker, "i": i},
        )
        got.append(version.version)
    registry.close()
    return got


def test_concurrent_registrations_get_distinct_gap_free_versions(
    database_url: str, tmp_path: Path
) -> None:
    blob_root = str(tmp_path / "blobs")
    Registry(SqlStore(database_url), LocalBlobStore(blob_root)).close()  # migrate once
    ctx = mp.get_context("spawn")
    barrier = ctx.Manager().Barrier(PROCESSES)
    with ctx.Pool(PROCESSES) as pool:
        results = pool.starmap(
            _register_many, [(database_url, blob_root, w, barrier) for w in range(PROCESSES)]
        )
    numbers = sorted(n for chunk in results for n in chunk)
    assert numbers == list(range(1, PROCESSES * PER_PROCESS + 1))

    registry = Registry(SqlStore(database_url, migrate=False), LocalBlobStore(blob_root))
    stored = [v.version for v in registry.list_versions("Contended")]
    assert stored == numbers
    assert registry.get_model("Contended").latest_version == PROCESSES * PER_PROCESS
    # Exactly one create_model event: concurrent first registrations did not race.
    creates = [e for e in registry.history("Contended").items if e.action == "create_model"]
    assert len(creates) == 1
    registry.close()


def _hold_turn(database: str, held: mp.Event, release: mp.Event) -> None:  # type: ignore[valid-type]
    from registre.store.sql.engine import WriterQueue

    queue = WriterQueue(database)
    with queue.turn():
        held.set()  # type: ignore[attr-defined]
        release.wait(30)  # type: ignore[attr-defined]
    queue.close()


def test_sqlite_writers_of_other_processes_wait_for_their_turn(tmp_path: Path) -> None:
    import threading
    import time

    from registre.store.sql.engine import WriterQueue

    database = str(tmp_path / "registre.db")
    ctx = mp.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_turn, args=(database, held, release))
    other.start()
    try:
        assert held.wait(30)
        queue = WriterQueue(database)
        entered = threading.Event()

        def write() -> None:
            with queue.turn(), queue.turn():  # re-entrant within a thread
                entered.set()

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.3)
        assert not entered.is_set()  # the other process holds the turn
        with queue.turn(wait=False) as ours:  # without waiting: told at once it is taken
            assert ours is False
        release.set()
        assert entered.wait(10)
        writer.join(10)
        with queue.turn() as ours:  # and it was given back
            assert ours is True
        with queue.turn(wait=False) as ours:
            assert ours is True
        queue.close()
    finally:
        release.set()
        other.join(30)


def test_without_a_lock_file_writers_fall_back_to_sqlite_locking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory where the lock file cannot be created (read-only) still opens."""
    import os

    from registre.store.sql import engine

    real_open = os.open

    def refuse_lock_file(path: str, *args: object, **kwargs: object) -> int:
        if str(path).endswith("-writers"):
            raise PermissionError(13, "read-only", path)
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.os, "open", refuse_lock_file)
    queue = engine.WriterQueue(str(tmp_path / "registre.db"))
    with queue.turn(), queue.turn(wait=False) as ours:
        assert ours is True
    queue.close()
    assert not (tmp_path / "registre.db-writers").exists()


def test_a_turn_held_by_another_thread_is_not_taken_without_waiting(tmp_path: Path) -> None:
    import threading

    from registre.store.sql.engine import WriterQueue

    queue = WriterQueue(str(tmp_path / "registre.db"))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with queue.turn():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    with queue.turn(wait=False) as ours:
        assert ours is False
    release.set()
    holder.join(10)
    with queue.turn(wait=False) as ours, queue.turn(wait=False) as again:  # re-entrant
        assert ours is True and again is True
    queue.close()
