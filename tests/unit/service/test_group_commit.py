"""Group commit: concurrent callers share batches and each gets its own outcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pytest

from registre.service.group_commit import GroupCommit, _Pending


class LockTurn:
    """A turn on a thread lock that another thread (standing for another process) can hold."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    @contextmanager
    def __call__(self, wait: bool = True) -> Iterator[bool]:
        held = self.lock.acquire(blocking=wait)
        try:
            yield held
        finally:
            if held:
                self.lock.release()


def _caller(commit: GroupCommit[int, int], results: dict[int, object]) -> Callable[[int], None]:
    """A thread target submitting ``i`` and keeping its outcome (a failure as its text)."""

    def call(i: int) -> None:
        try:
            results[i] = commit.submit(i)
        except ValueError as exc:
            results[i] = str(exc)

    return call


class Recorder:
    """A batch runner that remembers its batches and can be held until released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()

    def __call__(self, items: Sequence[int]) -> list[int | BaseException]:
        self.entered.set()
        self.release.wait(10)
        self.batches.append(list(items))
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]


def test_a_lone_caller_runs_its_own_batch_in_its_own_thread() -> None:
    seen: list[str] = []

    def run(items: Sequence[int]) -> list[int]:
        seen.append(threading.current_thread().name)
        return [i + 1 for i in items]

    commit = GroupCommit(run)
    assert commit.submit(1) == 2
    assert seen == [threading.current_thread().name]
    commit.close()


def test_callers_queued_behind_a_running_batch_share_the_next_one() -> None:
    runner = Recorder()
    commit = GroupCommit(runner)
    runner.release.clear()
    results: dict[int, object] = {}
    call = _caller(commit, results)

    first = threading.Thread(target=call, args=(0,))
    first.start()
    assert runner.entered.wait(5)  # the first batch is running and held
    others = [threading.Thread(target=call, args=(i,)) for i in range(1, 9)]
    for t in others:
        t.start()
    while len(commit._queue) < 8:  # all eight are queued behind it
        threading.Event().wait(0.005)
    runner.release.set()
    for t in [first, *others]:
        t.join(10)
    assert runner.batches[0] == [0]
    assert sorted(runner.batches[1]) == list(range(1, 9))  # one shared batch
    # Each caller got its own outcome, failures included.
    assert results == {i: (f"odd {i}" if i % 2 else i * 10) for i in range(9)}
    commit.close()


def test_a_failing_batch_fails_each_of_its_callers() -> None:
    def run(items: Sequence[int]) -> list[int]:
        raise RuntimeError("database gone")

    commit = GroupCommit(run)
    with pytest.raises(RuntimeError, match="database gone"):
        commit.submit(1)
    with pytest.raises(RuntimeError, match="database gone"):  # and the next caller is served
        commit.submit(2)
    commit.close()


def test_a_wrong_number_of_outcomes_is_an_error_not_a_mixup() -> None:
    commit = GroupCommit(lambda items: [1])
    assert commit.submit(5) == 1
    with pytest.raises(RuntimeError, match="wrong number"):
        commit._run_batch = lambda items: []  # type: ignore[method-assign]
        commit.submit(6)
    commit.close()


def test_event_loop_callers_wait_without_a_thread_and_batch_together() -> None:
    runner = Recorder()
    runner.release.clear()  # the first batch is held while the others queue
    threading.Timer(0.5, runner.release.set).start()
    commit = GroupCommit(runner)

    async def main() -> list[object]:
        async def one(i: int) -> object:
            try:
                return await commit.submit_async(i)
            except ValueError as exc:
                return str(exc)

        first = asyncio.ensure_future(one(0))
        while not runner.entered.is_set():  # the committer holds the first batch
            await asyncio.sleep(0.005)
        rest = await asyncio.gather(*(one(i) for i in range(1, 10)))
        return [await first, *rest]

    results = asyncio.run(main())
    assert results == [f"odd {i}" if i % 2 else i * 10 for i in range(10)]
    assert sorted(i for b in runner.batches for i in b) == list(range(10))
    assert len(runner.batches) == 2  # the first alone, the nine queued behind it together
    commit.close()


def test_a_closed_group_commit_refuses_new_work() -> None:
    commit = GroupCommit(lambda items: list(items))
    commit.close()
    with pytest.raises(RuntimeError, match="closed"):
        commit.submit(1)


def test_a_waiter_that_cannot_be_told_does_not_strand_the_others() -> None:
    """An error while handing out one caller's outcome leaves the rest of its batch served."""
    commit = GroupCommit(lambda items: [i * 2 for i in items])

    async def main() -> int:
        def broken() -> None:
            raise ValueError("waiter gone")

        with commit._cond:  # a waiter whose notification fails, queued first
            commit._queue.append(_Pending(1, broken))
        return await commit.submit_async(21)

    assert asyncio.run(main()) == 42
    commit.close()


def test_callers_queued_while_the_turn_is_taken_elsewhere_join_one_batch() -> None:
    """The batch is taken once the write turn is ours: what queued meanwhile rides along."""
    turn = LockTurn()
    runner = Recorder()
    commit = GroupCommit(runner, turn=turn)
    results: dict[int, object] = {}
    call = _caller(commit, results)

    turn.lock.acquire()  # another process is writing
    threads = [threading.Thread(target=call, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    while len(commit._queue) < 5:
        threading.Event().wait(0.005)
    turn.lock.release()
    for t in threads:
        t.join(10)
    assert [sorted(b) for b in runner.batches] == [[0, 1, 2, 3, 4]]
    assert results == {i: (f"odd {i}" if i % 2 else i * 10) for i in range(5)}
    commit.close()


def test_on_loop_event_loop_callers_batch_on_the_loop_thread() -> None:
    threads: list[int] = []
    batches: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        threads.append(threading.get_ident())
        batches.append(list(items))
        return [i * 3 for i in items]

    commit = GroupCommit(run, on_loop=True)

    async def main() -> tuple[list[int], int]:
        results = await asyncio.gather(*(commit.submit_async(i) for i in range(20)))
        return list(results), threading.get_ident()

    results, loop_thread = asyncio.run(main())
    assert results == [i * 3 for i in range(20)]
    assert set(threads) == {loop_thread}  # no committer thread was involved
    assert batches == [list(range(20))]  # all twenty queued before the first batch ran
    assert commit._thread is None
    commit.close()


def test_on_loop_a_held_turn_is_waited_for_off_the_loop() -> None:
    """While another writer holds the turn the loop keeps serving; what queued meanwhile is
    committed in one batch, on the loop, once the turn is free."""
    turn = LockTurn()
    runner = Recorder()
    commit = GroupCommit(runner, turn=turn, on_loop=True)
    ran_on: list[int] = []
    real_run = commit._run_batch

    def run(items: Sequence[int]) -> Sequence[object]:
        ran_on.append(threading.get_ident())
        return real_run(items)

    commit._run_batch = run  # type: ignore[method-assign]
    turn.lock.acquire()  # another process is writing
    threading.Timer(0.4, turn.lock.release).start()

    async def main() -> tuple[list[object], int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def one(i: int) -> object:
            try:
                return await commit.submit_async(i)
            except ValueError as exc:
                return str(exc)

        beat = asyncio.ensure_future(ticker())
        results = await asyncio.gather(*(one(i) for i in range(6)))
        beat.cancel()
        return list(results), ticks, threading.get_ident()

    results, ticks, loop_thread = asyncio.run(main())
    assert results == [f"odd {i}" if i % 2 else i * 10 for i in range(6)]
    assert ticks >= 10  # the loop ran on for the 0.4 s the turn was held elsewhere
    assert runner.batches == [list(range(6))]
    assert ran_on == [loop_thread]
    commit.close()


def test_on_loop_thread_callers_are_still_served() -> None:
    """Thread callers and loop callers share one queue whoever runs it."""
    commit = GroupCommit(lambda items: [i + 100 for i in items], on_loop=True)
    assert commit.submit(1) == 101

    async def main() -> list[int]:
        in_thread = asyncio.to_thread(commit.submit, 2)
        return list(await asyncio.gather(in_thread, commit.submit_async(3)))

    assert asyncio.run(main()) == [102, 103]
    commit.close()


class BrokenTurn:
    """A turn that fails to be taken (``on_enter``) or let go of (``on_exit``) while broken."""

    def __init__(self, on_enter: bool = True, on_exit: bool = False) -> None:
        self.on_enter, self.on_exit = on_enter, on_exit
        self.broken = True

    @contextmanager
    def __call__(self, wait: bool = True) -> Iterator[bool]:
        if self.broken and self.on_enter:
            raise OSError("the lock file is gone")
        yield True
        if self.broken and self.on_exit:
            raise OSError("the lock could not be released")


@pytest.mark.parametrize("on_loop", [False, True], ids=["committer", "on-loop"])
def test_a_turn_that_cannot_be_taken_fails_the_batch_instead_of_retrying(on_loop: bool) -> None:
    ran: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        ran.append(list(items))
        return [i * 10 for i in items]

    turn = BrokenTurn()
    commit = GroupCommit(run, turn=turn, on_loop=on_loop)
    with pytest.raises(OSError, match="lock file is gone"):
        commit.submit(1)

    async def from_loop(i: int) -> int:
        return await asyncio.wait_for(commit.submit_async(i), 5)

    with pytest.raises(OSError, match="lock file is gone"):
        asyncio.run(from_loop(2))
    assert ran == []  # neither item ran, and neither is left queued to be retried
    turn.broken = False
    assert commit.submit(3) == 30
    assert asyncio.run(from_loop(4)) == 40
    assert ran == [[3], [4]]
    commit.close()


def test_a_turn_that_cannot_be_let_go_of_still_tells_the_batch_its_outcomes() -> None:
    ran: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        ran.append(list(items))
        return [i * 10 for i in items]

    commit = GroupCommit(run, turn=BrokenTurn(on_enter=False, on_exit=True))
    assert commit.submit(1) == 10  # it ran (and committed): that is its outcome
    assert asyncio.run(commit.submit_async(2)) == 20
    assert ran == [[1], [2]]
    commit.close()
