"""Bridges between the event loop and the synchronous blob store.

Bytes move in ~1 MiB chunks with a small bounded queue in between, so a file is never held
in memory whole, the loop never blocks on disk or hashing (both release the GIL), and the
socket side and the disk side overlap.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from typing import TypeVar

from registre.domain.errors import PayloadTooLarge

T = TypeVar("T")
CHUNK_SIZE = 1024 * 1024
QUEUE_CHUNKS = 4
_END = object()


async def coalesce(
    parts: AsyncIterator[bytes], limit: int, chunk_size: int = CHUNK_SIZE
) -> AsyncIterator[bytes]:
    """Regroup a request body (which arrives in pieces of a few KiB) into ~``chunk_size``
    chunks, raising PayloadTooLarge as soon as it passes ``limit`` bytes."""
    pending: list[bytes] = []
    buffered = 0
    total = 0
    async for part in parts:
        total += len(part)
        if total > limit:
            raise PayloadTooLarge(f"the upload exceeds the server's limit of {limit} bytes")
        pending.append(part)
        buffered += len(part)
        if buffered >= chunk_size:
            yield b"".join(pending)
            pending.clear()
            buffered = 0
    if buffered:
        yield b"".join(pending)


async def consume_in_thread(
    source: AsyncIterator[bytes],
    consume: Callable[[Iterator[bytes]], T],
    executor: Executor,
) -> T:
    """Run ``consume(chunks)`` in a worker thread, feeding it ``source``'s chunks.

    An error in ``source`` (client gone, body too large) is raised inside ``chunks`` so the
    consumer fails too (a blob store then discards its partial write) and is re-raised here.
    """
    loop = asyncio.get_running_loop()
    handoff: _Handoff = _Handoff(loop, QUEUE_CHUNKS)

    async def pump() -> None:
        try:
            async for chunk in source:
                await handoff.put(chunk)
            handoff.end(_END)
        except Exception as exc:
            handoff.end(exc)

    def chunks() -> Iterator[bytes]:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item

    pumping = asyncio.create_task(pump())
    try:
        return await loop.run_in_executor(executor, consume, chunks())
    finally:
        if not pumping.done():
            # The consumer stopped early (or we were cancelled): stop reading, and make sure
            # a thread still iterating sees an error instead of waiting for more chunks.
            pumping.cancel()
            handoff.end(ConnectionAbortedError("upload abandoned"), discard=True)


class _Handoff:
    """A bounded queue from the event loop to one thread. The thread takes what is there
    without a round trip through the loop; the loop is woken only when it waits for room."""

    def __init__(self, loop: asyncio.AbstractEventLoop, capacity: int) -> None:
        self._loop = loop
        self._capacity = capacity
        self._items: deque[object] = deque()
        self._ready = threading.Condition(threading.Lock())
        self._room: asyncio.Future[None] | None = None

    async def put(self, item: object) -> None:
        while True:
            with self._ready:
                if len(self._items) < self._capacity:
                    self._items.append(item)
                    self._ready.notify()
                    return
                room = self._room = self._loop.create_future()
            await room

    def end(self, item: object, *, discard: bool = False) -> None:
        """Queue a last item past the capacity (never waits); ``discard`` drops the rest."""
        with self._ready:
            if discard:
                self._items.clear()
            self._items.append(item)
            self._ready.notify()

    def get(self) -> object:
        with self._ready:
            while not self._items:
                self._ready.wait()
            item = self._items.popleft()
            room, self._room = self._room, None
        if room is not None:
            self._loop.call_soon_threadsafe(_set_done, room)
        return item


def _set_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def iterate_in_thread(
    chunks: Iterator[bytes], executor: Executor, ahead: int = QUEUE_CHUNKS
) -> AsyncIterator[bytes]:
    """Iterate a blocking iterator from the loop: a worker thread runs it up to ``ahead``
    chunks in front of the consumer, so reading (and verifying) the next chunks overlaps
    sending this one. The source is closed, in the thread that reads it, when the consumer
    stops early."""
    prefetch = _Prefetch(chunks, executor, asyncio.get_running_loop(), ahead)
    try:
        while (item := await prefetch.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        prefetch.stop()


class _Prefetch:
    """A bounded queue from one blocking iterator to the event loop. A worker thread reads
    while there is room and leaves when the queue is full, so a slow client holds no thread;
    the loop sends one back when it takes a chunk. At most one thread reads at a time."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        executor: Executor,
        loop: asyncio.AbstractEventLoop,
        capacity: int,
    ) -> None:
        self._chunks = chunks
        self._executor = executor
        self._loop = loop
        self._capacity = capacity
        self._items: deque[object] = deque()
        self._lock = threading.Lock()
        self._waiter: asyncio.Future[None] | None = None
        self._reading = False  # a thread is in _fill
        self._finished = False  # the source ended or failed: nothing more to read
        self._stopped = False  # the consumer left

    async def get(self) -> object:
        while True:
            with self._lock:
                item = self._items.popleft() if self._items else None
                waiter = None
                if item is None:
                    waiter = self._waiter = self._loop.create_future()
                start = not (self._reading or self._finished)
                self._reading = self._reading or start
            if start:
                self._loop.run_in_executor(self._executor, self._fill)
            if waiter is None:
                return item
            await waiter

    def stop(self) -> None:
        """The consumer is gone: a reading thread closes the source when it sees this;
        with none reading, it is closed here."""
        with self._lock:
            self._stopped = True
            self._items.clear()
            idle = not self._reading
        if idle:
            _close(self._chunks)

    def _fill(self) -> None:
        while True:
            with self._lock:
                if self._stopped or len(self._items) >= self._capacity:
                    self._reading = False
                    stopped = self._stopped
                    break
            try:
                item: object = next(self._chunks)
            except StopIteration:
                item = _END
            except BaseException as exc:  # delivered to the consumer, in order
                item = exc
            with self._lock:
                self._items.append(item)
                waiter, self._waiter = self._waiter, None
                if item is _END or isinstance(item, BaseException):
                    self._finished = True
                    self._reading = False
            if waiter is not None:
                self._loop.call_soon_threadsafe(_set_done, waiter)
            if self._finished:
                return
        if stopped:
            _close(self._chunks)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
