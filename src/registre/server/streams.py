"""Bridges between the event loop and the synchronous blob store.

Bytes move in ~1 MiB chunks with a small bounded queue in between, so a file is never held
in memory whole, the loop never blocks on disk or hashing (both release the GIL), and the
socket side and the disk side overlap.
"""

from __future__ import annotations

import asyncio
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
    queue: asyncio.Queue[object] = asyncio.Queue(QUEUE_CHUNKS)

    async def pump() -> None:
        try:
            async for chunk in source:
                await queue.put(chunk)
            await queue.put(_END)
        except Exception as exc:
            await queue.put(exc)

    def chunks() -> Iterator[bytes]:
        while True:
            item = asyncio.run_coroutine_threadsafe(queue.get(), loop).result()
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
            # The consumer stopped early (or we were cancelled): unblock both sides so the
            # thread sees an error instead of waiting for chunks that will never come.
            pumping.cancel()
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(ConnectionAbortedError("upload abandoned"))


async def iterate_in_thread(chunks: Iterator[bytes], executor: Executor) -> AsyncIterator[bytes]:
    """Iterate a blocking iterator from the loop, reading one chunk ahead in a thread."""
    loop = asyncio.get_running_loop()
    ahead = loop.run_in_executor(executor, next, chunks, None)
    try:
        while True:
            # Shielded: if the client goes away, the read in flight finishes in its thread
            # and the iterator is closed only afterwards (it must not be closed mid-next()).
            chunk = await asyncio.shield(ahead)
            if chunk is None:
                return
            ahead = loop.run_in_executor(executor, next, chunks, None)
            yield chunk
    finally:
        ahead.add_done_callback(lambda done: _close_after(done, chunks))


def _close_after(done: asyncio.Future[bytes | None], chunks: Iterator[bytes]) -> None:
    if not done.cancelled():
        done.exception()  # retrieved here, so asyncio does not warn about it
    close = getattr(chunks, "close", None)
    if close is not None:
        close()
