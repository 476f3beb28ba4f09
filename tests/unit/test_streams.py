"""The loop ↔ thread bridges that carry uploads and downloads (server.streams)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import cast

import pytest

from registre.domain.errors import PayloadTooLarge
from registre.server.streams import (
    QUEUE_CHUNKS,
    coalesce,
    consume_in_thread,
    iterate_in_thread,
)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as pool:
        yield pool


async def parts(count: int, size: int = 1000) -> AsyncIterator[bytes]:
    for i in range(count):
        yield bytes([i % 256]) * size
        await asyncio.sleep(0)


def test_coalesce_regroups_pieces_and_stops_at_the_limit() -> None:
    async def collect(limit: int) -> list[bytes]:
        return [chunk async for chunk in coalesce(parts(10), limit, chunk_size=3000)]

    chunks = asyncio.run(collect(10_000))
    assert [len(c) for c in chunks] == [3000, 3000, 3000, 1000]
    with pytest.raises(PayloadTooLarge):
        asyncio.run(collect(9_999))


def test_the_consumer_gets_every_chunk_in_order(executor: ThreadPoolExecutor) -> None:
    async def run() -> bytes:
        return await consume_in_thread(parts(50), lambda chunks: b"".join(chunks), executor)

    expected = b"".join(bytes([i]) * 1000 for i in range(50))
    assert asyncio.run(run()) == expected


def test_a_source_error_fails_the_consumer_and_is_reraised(executor: ThreadPoolExecutor) -> None:
    seen: list[int] = []
    failures: list[BaseException] = []

    async def body() -> AsyncIterator[bytes]:
        async for part in parts(5):
            yield part
        raise PayloadTooLarge("too big")

    def consume(chunks: Iterator[bytes]) -> None:
        try:
            for chunk in chunks:
                seen.append(len(chunk))
        except BaseException as exc:
            failures.append(exc)
            raise

    async def run() -> None:
        await consume_in_thread(body(), consume, executor)

    with pytest.raises(PayloadTooLarge):
        asyncio.run(run())
    assert seen == [1000] * 5  # what came before the error was delivered
    assert len(failures) == 1 and isinstance(failures[0], PayloadTooLarge)


def test_a_consumer_that_stops_early_ends_the_transfer(executor: ThreadPoolExecutor) -> None:
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        while True:
            produced += 1
            yield b"x" * 100
            await asyncio.sleep(0)

    def first_two(chunks: Iterator[bytes]) -> int:
        return sum(len(next(chunks)) for _ in range(2))

    async def run() -> int:
        return await asyncio.wait_for(consume_in_thread(endless(), first_two, executor), 10)

    assert asyncio.run(run()) == 200
    assert produced <= 2 + QUEUE_CHUNKS + 1


def test_a_slow_consumer_holds_back_the_source(executor: ThreadPoolExecutor) -> None:
    produced = consumed = 0
    most_ahead = 0
    lock = threading.Lock()

    async def body() -> AsyncIterator[bytes]:
        nonlocal produced, most_ahead
        for _ in range(40):
            with lock:
                produced += 1
                most_ahead = max(most_ahead, produced - consumed)
            yield b"x"
            await asyncio.sleep(0)

    def slow(chunks: Iterator[bytes]) -> int:
        nonlocal consumed
        for _ in chunks:
            time.sleep(0.002)
            with lock:
                consumed += 1
        return consumed

    async def run() -> int:
        return await consume_in_thread(body(), slow, executor)

    assert asyncio.run(run()) == 40
    # queued, plus one being consumed, plus one the source is trying to queue
    assert most_ahead <= QUEUE_CHUNKS + 2


def test_iterate_in_thread_yields_everything_then_closes_the_source(
    executor: ThreadPoolExecutor,
) -> None:
    closed = threading.Event()

    def blocks() -> Iterator[bytes]:
        try:
            for i in range(10):
                yield bytes([i]) * 10
        finally:
            closed.set()

    async def run(limit: int) -> list[bytes]:
        got = []
        stream = cast(AsyncGenerator[bytes, None], iterate_in_thread(blocks(), executor))
        async for chunk in stream:
            got.append(chunk)
            if len(got) == limit:
                break
        await stream.aclose()
        for _ in range(100):  # the read in flight finishes, then the source is closed
            if closed.is_set():
                break
            await asyncio.sleep(0.01)
        return got

    assert len(asyncio.run(run(100))) == 10
    assert closed.wait(5)
    closed.clear()
    assert len(asyncio.run(run(3))) == 3  # the client went away after three chunks
    assert closed.wait(5)


def test_iterate_in_thread_reads_ahead_while_the_consumer_is_busy(
    executor: ThreadPoolExecutor,
) -> None:
    read: list[int] = []

    def blocks() -> Iterator[bytes]:
        for i in range(20):
            read.append(i)
            yield bytes([i])

    async def run() -> tuple[list[bytes], list[int]]:
        got, seen_ahead = [], []
        async for chunk in iterate_in_thread(blocks(), executor, ahead=3):
            await asyncio.sleep(0.02)  # sending this chunk: the thread reads on meanwhile
            seen_ahead.append(len(read) - len(got) - 1)
            got.append(chunk)
        return got, seen_ahead

    got, seen_ahead = asyncio.run(run())
    assert got == [bytes([i]) for i in range(20)]
    # while a chunk was being sent, the next ones were already read: up to 3 queued, plus
    # at most one being read when the queue had just made room
    assert max(seen_ahead) >= 3
    assert max(seen_ahead) <= 4


def test_a_slow_consumer_holds_no_thread() -> None:
    # One thread for two downloads: the first client reads a chunk and then waits while the
    # second downloads everything. A reader that waited for room would hold the only thread.
    def blocks(tag: int) -> Iterator[bytes]:
        for i in range(10):
            yield bytes([tag, i])

    async def run(pool: ThreadPoolExecutor) -> tuple[list[bytes], list[bytes]]:
        slow = cast(AsyncGenerator[bytes, None], iterate_in_thread(blocks(1), pool, ahead=2))
        first = [await slow.__anext__()]
        await asyncio.sleep(0.05)  # the reader filled the queue and left
        fast = [chunk async for chunk in iterate_in_thread(blocks(2), pool, ahead=2)]
        rest = [chunk async for chunk in slow]
        return first + rest, fast

    with ThreadPoolExecutor(1) as pool:
        slow, fast = asyncio.run(asyncio.wait_for(run(pool), 10))
    assert slow == [bytes([1, i]) for i in range(10)]
    assert fast == [bytes([2, i]) for i in range(10)]


def test_a_source_error_comes_after_the_chunks_before_it(executor: ThreadPoolExecutor) -> None:
    def blocks() -> Iterator[bytes]:
        yield b"a"
        yield b"b"
        raise OSError("disk gone")

    async def run() -> list[bytes]:
        got = []
        with pytest.raises(OSError, match="disk gone"):
            async for chunk in iterate_in_thread(blocks(), executor):
                got.append(chunk)
        return got

    assert asyncio.run(run()) == [b"a", b"b"]


def test_the_source_is_never_read_and_closed_at_once(executor: ThreadPoolExecutor) -> None:
    # The consumer leaves while a read is in flight: the source is closed after that read
    # ends, by the thread that reads it.
    reading = threading.Event()
    events: list[str] = []

    def blocks() -> Iterator[bytes]:
        try:
            yield b"first"
            reading.set()
            time.sleep(0.2)  # a slow read, in flight when the consumer leaves
            events.append("read done")
            yield b"second"
        finally:
            events.append("closed")

    async def run() -> None:
        stream = cast(AsyncGenerator[bytes, None], iterate_in_thread(blocks(), executor))
        assert await stream.__anext__() == b"first"
        await asyncio.get_running_loop().run_in_executor(None, reading.wait, 5)
        await stream.aclose()

    asyncio.run(run())
    for _ in range(100):
        if "closed" in events:
            break
        time.sleep(0.01)
    assert events == ["read done", "closed"]
