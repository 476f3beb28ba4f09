"""Engine creation (SQLite tuned for concurrency, PostgreSQL via psycopg) and migrations."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's own locking alone
    fcntl = None  # type: ignore[assignment]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(
        url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True, future=True
    )


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        # One connection per checkout is cheap for SQLite; a pool keeps page caches warm.
        poolclass=None if database and database != ":memory:" else NullPool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE is possible: the store
        # begins each transaction itself (see begin_sqlite).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA case_sensitive_like=ON")
        cur.close()

    return engine


def begin_sqlite(conn: Connection, *, immediate: bool = False) -> None:
    """Open the SQLite transaction of ``conn`` (pysqlite, left in autocommit mode, would run
    each statement alone). ``immediate`` takes the write lock up front: a deferred transaction
    that later upgrades to a writer can fail with SQLITE_BUSY without waiting. Sent straight
    to the driver: a "begin" event listener would put every statement of every connection on
    SQLAlchemy's slower evented path."""
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")  # type: ignore[union-attr]


class WriterQueue:
    """Writers of one SQLite database wait for their turn on a lock instead of polling.

    SQLite admits one writer at a time and makes the others retry from its busy handler,
    which sleeps 1 to 100 ms between tries: under concurrent registrations the database sits
    idle while writers sleep. Here writers queue on a thread lock inside the process and on
    an ``flock`` of ``<database>-writers`` between processes (the server's workers, the CLI),
    and wake as soon as the previous writer commits. SQLite's own locking still guards
    correctness for anything that does not take this lock.
    """

    def __init__(self, database: str | None) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        if database and database != ":memory:" and _flock is not None:
            try:
                self._fd = os.open(f"{database}-writers", os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:  # a read-only directory: SQLite's own locking alone, as before
                self._fd = None

    @contextmanager
    def turn(self, wait: bool = True) -> Iterator[bool]:
        """Hold the writers' turn; yields True. With ``wait=False`` it yields False at once
        instead of waiting when another thread or process has it."""
        if not self._thread_lock.acquire(blocking=wait):
            yield False
            return
        try:
            self._depth += 1
            locks = self._depth == 1 and self._fd is not None
            if locks and not _flock(self._fd, wait):  # type: ignore[arg-type]
                yield False
                return
            try:
                yield True
            finally:
                if locks:
                    _unflock(self._fd)  # type: ignore[arg-type]
        finally:
            self._depth -= 1
            self._thread_lock.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _posix_flock(fd: int, wait: bool) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unflock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)


_flock = _posix_flock if fcntl is not None else None


@contextmanager
def no_queue(wait: bool = True) -> Iterator[bool]:
    yield True


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The writer queue for a SQLite database file; None for other databases."""
    if not is_sqlite(engine):
        return None
    return WriterQueue(engine.url.database)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def upgrade(url: str, revision: str = "head") -> None:
    """Run Alembic migrations up to ``revision`` (the server does this on start)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    command.upgrade(cfg, revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
