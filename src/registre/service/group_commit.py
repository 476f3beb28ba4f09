"""Concurrent calls of one kind share one transaction (group commit).

Under load many requests register versions at once. Each on its own pays for a turn at the
database's write lock, a BEGIN, a COMMIT and one statement per table. Here they queue, and one
runner takes everything queued so far as one batch (one transaction, one statement per table)
and hands each caller its own outcome, until the queue is empty. A caller waiting in a thread
(``submit``) finding no runner becomes it, so a lone caller runs its own batch of one with no
hand-off. A caller on an event loop (``submit_async``) holds no thread while it waits: its
batches run in a committer thread, or, with ``on_loop`` (a database that is CPU work in this
process, like SQLite), on the loop itself. There they run while the process has no other
Python thread to share the interpreter lock with, so the database's single writer lock is held
for the SQL alone; the turn is only tried on the loop, and waited for in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
R = TypeVar("R")


class Turn(Protocol):
    """A reentrant turn (say, at the database's writer): yields whether it is held, which is
    always True when ``wait`` is."""

    def __call__(self, wait: bool = True) -> AbstractContextManager[bool]: ...


def _always(wait: bool = True) -> AbstractContextManager[bool]:
    return nullcontext(True)


class _Pending(Generic[T]):
    __slots__ = ("item", "notify", "outcome")

    def __init__(self, item: T, notify: Callable[[], None]) -> None:
        self.item = item
        self.notify = notify
        self.outcome: Any = None


class GroupCommit(Generic[T, R]):
    """Run ``run_batch`` over whatever callers have queued, one batch at a time.

    ``run_batch`` gets the items in arrival order and returns one outcome per item: a result,
    or an exception raised in that caller alone. If it raises, every caller of the batch gets
    the exception. ``turn`` is taken before a batch is; it stays held while the batch runs.
    ``on_loop``: event-loop callers' batches run on their loop (see the module's text).

    >>> doubled = GroupCommit(lambda items: [2 * i for i in items])
    >>> doubled.submit(21)
    42
    >>> doubled.close()
    """

    def __init__(
        self,
        run_batch: Callable[[Sequence[T]], Sequence[R | BaseException]],
        *,
        limit: int = 64,
        name: str = "registre-commit",
        turn: Turn = _always,
        on_loop: bool = False,
    ) -> None:
        self._run_batch = run_batch
        self._turn = turn
        self._on_loop = on_loop
        self._loop_runner: asyncio.Task[None] | None = None
        self._limit = limit
        self._name = name
        self._cond = threading.Condition()
        self._queue: deque[_Pending[T]] = deque()
        self._running = False  # a runner is draining the queue
        self._wanted = False  # the committer thread is asked to be that runner
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, item: T) -> R:
        """Queue ``item`` and wait in this thread for its outcome."""
        done = threading.Event()
        pending = _Pending(item, done.set)
        with self._cond:
            self._check_open()
            self._queue.append(pending)
            lead = not self._running
            self._running = True
        if lead:
            self._drain()
        done.wait()
        return _unwrap(pending.outcome)

    async def submit_async(self, item: T) -> R:
        """Queue ``item`` and wait on the running event loop for its outcome."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def notify() -> None:
            # (a loop closed while the batch ran has nobody waiting on it)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future)

        pending = _Pending(item, notify)
        lead = False
        with self._cond:
            self._check_open()
            self._queue.append(pending)
            if not self._running:
                self._running = True
                if self._on_loop:
                    lead = True
                else:
                    self._wanted = True
                    self._start_committer()
                    self._cond.notify_all()
        if lead:  # (kept referenced here: the loop holds its tasks only weakly)
            self._loop_runner = loop.create_task(self._drain_on_loop())
        await asyncio.shield(future)  # a cancelled caller's item is committed all the same
        return _unwrap(pending.outcome)

    async def _drain_on_loop(self) -> None:
        """Run batches on this loop until the queue is empty, waiting for a held turn in a
        worker thread so the loop goes on serving (and queueing) meanwhile."""
        try:
            while True:
                with self._cond:
                    if not self._queue:
                        self._running = False
                        return
                held = self._held_batch(wait=False)
                if held is None:
                    await asyncio.to_thread(self._wait_turn)
                    continue
                self._tell(*held)
                await asyncio.sleep(0)  # read what has arrived before the next batch
        except BaseException:  # cancelled: the committer thread takes what is left
            self._hand_over()
            raise

    def _wait_turn(self) -> None:
        with self._turn():
            pass

    def close(self) -> None:
        """Stop the committer thread once what is queued is done."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the registry is closed")

    def _start_committer(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._committer, name=self._name, daemon=True)
            self._thread.start()

    def _committer(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._closed:
                    self._cond.wait()
                if not self._wanted:
                    return
                self._wanted = False
            try:
                self._drain()
            except Exception:  # (``_drain`` has handed what is left back to this loop)
                log.exception("group commit: the committer hit an error")

    def _drain(self) -> None:
        """Run batches until the queue is empty (the caller has set ``_running``)."""
        try:
            self._run_batches()
        except BaseException:  # interrupted: the committer thread takes what is left
            self._hand_over()
            raise

    def _hand_over(self) -> None:
        with self._cond:
            self._running = self._wanted = bool(self._queue)
            if self._wanted:
                self._start_committer()
            self._cond.notify_all()

    def _run_batches(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._running = False
                    return
            held = self._held_batch(wait=True)
            assert held is not None  # (a turn waited for is always held)
            self._tell(*held)

    def _held_batch(self, wait: bool) -> tuple[list[_Pending[T]], Sequence[object]] | None:
        """Take the turn and run a batch under it; None if the turn was not ``wait``ed for and
        is held elsewhere. A turn that cannot be taken at all (say, its lock file is gone)
        fails the batch with its error rather than leaving it queued to be retried forever."""
        held = None
        try:
            with self._turn(wait) as ours:
                if ours:
                    held = self._take_batch()
        except Exception as exc:
            if held is not None:  # the batch ran; only letting go of the turn failed
                log.exception("group commit: the turn could not be let go of")
                return held
            log.error("group commit: the turn could not be taken: %s", exc)
            with self._cond:
                batch = [self._queue.popleft() for _ in range(min(self._limit, len(self._queue)))]
            return batch, [exc] * len(batch)
        return held

    def _take_batch(self) -> tuple[list[_Pending[T]], Sequence[object]]:
        """Take what is queued and run it (the turn is held). The batch is taken once the turn
        is ours: whatever queued while we waited for it (another process writing) joins it."""
        with self._cond:
            batch = [self._queue.popleft() for _ in range(min(self._limit, len(self._queue)))]
        try:
            outcomes: Sequence[object] = self._run_batch([p.item for p in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError("a batch returned the wrong number of outcomes")
        except BaseException as exc:  # every caller of the batch learns why
            outcomes = [exc] * len(batch)
        return batch, outcomes

    @staticmethod
    def _tell(batch: list[_Pending[T]], outcomes: Sequence[object]) -> None:
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.outcome = outcome
            try:
                pending.notify()
            except Exception:  # one waiter's failure must not strand the others
                log.exception("group commit: a caller could not be told its outcome")


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _unwrap(outcome: Any) -> Any:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
