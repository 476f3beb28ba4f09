"""Blobs in a local directory: ``<root>/sha256/ab/<digest>``, written via temp file + rename.

Uploads of ``BLOCK_SIZE`` or more are written with direct I/O (``O_DIRECT``) from a background
thread: the bytes reach the disk while the rest of the upload is still arriving, so the fsync
that acknowledges it has almost nothing left to flush, and writing does not first fill the page
cache with bytes that may never be read (object stores such as MinIO write large objects the
same way). Reads go through the page cache, so a model downloaded often is served from memory.
Smaller blobs, and filesystems without direct I/O, are written with plain I/O.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import mmap
import os
import queue
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from registre.domain.errors import IntegrityError, NotFound
from registre.store.blobs.base import (
    CHUNK_SIZE,
    DIGEST_RE,
    BlobInfo,
    StoredBlob,
    check_digest,
    iter_chunks,
    verified,
)

BLOCK_SIZE = 2 * 1024 * 1024  # unit of direct I/O, and of reads of large blobs
_ALIGN = 4096  # direct I/O needs page-aligned memory, offsets and lengths
_WRITE_BUFFERS = 3  # per upload: one filling, up to two being written
_O_DIRECT: int = getattr(os, "O_DIRECT", 0)


class LocalBlobStore:
    def __init__(self, root: str | os.PathLike[str], *, direct_io: bool = True) -> None:
        self.root = Path(root).resolve()
        self._blobs = self.root / "sha256"
        self._tmp = self.root / "tmp"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._direct = direct_io and bool(_O_DIRECT)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def _path(self, digest: str) -> Path:
        check_digest(digest)
        return self._blobs / digest[:2] / digest

    def put(
        self, source: BinaryIO | Iterable[bytes], expected_digest: str | None = None
    ) -> StoredBlob:
        if expected_digest is not None:
            check_digest(expected_digest)
        hasher = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="upload-")
        try:
            try:
                out = _BlockWriter(fd, direct=self._direct)
                try:
                    for chunk in iter_chunks(source):
                        hasher.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                    out.finish()
                finally:
                    out.close()
                os.fsync(fd)
            finally:
                os.close(fd)
            digest = hasher.hexdigest()
            if expected_digest is not None and digest != expected_digest:
                raise IntegrityError(
                    f"uploaded bytes hash to {digest}, not the announced {expected_digest}"
                )
            final = self._path(digest)
            if final.is_file() and final.stat().st_size == size:
                os.unlink(tmp_name)
                # A re-upload refreshes the blob's age, which garbage collection's grace
                # period relies on (it may be about to be referenced again).
                os.utime(final)
            else:  # absent, or damaged (wrong size): the fresh bytes replace it
                final.parent.mkdir(exist_ok=True)
                os.chmod(tmp_name, 0o444)
                os.replace(tmp_name, final)
                _fsync_dir(final.parent)
            return StoredBlob(digest, size)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def size(self, digest: str) -> int:
        try:
            return self._path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"blob {digest} does not exist") from None

    def open(self, digest: str) -> Iterator[bytes]:
        path = self._path(digest)
        try:
            handle = path.open("rb", buffering=0)
        except FileNotFoundError:
            raise NotFound(f"blob {digest} does not exist") from None
        return verified(_read(handle), digest)

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)

    def iter_digests(self) -> Iterator[str]:
        return (info.digest for info in self.iter_blobs())

    def iter_blobs(self) -> Iterator[BlobInfo]:
        for sub in sorted(self._blobs.iterdir()):
            if sub.is_dir():
                for entry in sorted(sub.iterdir()):
                    if DIGEST_RE.match(entry.name):
                        stat = entry.stat()
                        yield BlobInfo(entry.name, stat.st_size, stat.st_mtime)


class _BufferPool:
    """Page-aligned blocks for direct I/O, kept for reuse (faulting fresh memory in costs
    about as much as the copy into it)."""

    def __init__(self, size: int, keep: int) -> None:
        self._size = size
        self._keep = keep
        self._idle: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def take(self) -> mmap.mmap:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return mmap.mmap(-1, self._size)

    def give(self, buffer: mmap.mmap) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(buffer)
                return
        with contextlib.suppress(BufferError):  # still viewed (by a traceback): left to GC
            buffer.close()


_buffers = _BufferPool(BLOCK_SIZE, keep=8)


def _set_direct(fd: int, on: bool) -> bool:
    """Turn direct I/O on or off for ``fd``; False if its filesystem does not offer it."""
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | _O_DIRECT if on else flags & ~_O_DIRECT)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return False
        raise
    return True


class _BlockWriter:
    """Writes a file front to back: bytes are gathered into aligned blocks that a background
    thread writes with direct I/O while the next block fills. The sub-page tail, and
    everything on filesystems without direct I/O, is written normally.

    ``finish()`` returns once every byte is written (not yet fsync'd); ``close()`` always
    runs, stops the thread and hands the buffers back, whether or not ``finish()`` did.
    """

    def __init__(self, fd: int, *, direct: bool) -> None:
        self._fd = fd
        self._direct = direct and _set_direct(fd, True)
        self._buffer: mmap.mmap | None = None
        self._view: memoryview | None = None
        self._filled = 0
        self._offset = 0  # file offset of the buffer being filled
        self._owned: list[mmap.mmap] = []
        self._free: queue.SimpleQueue[mmap.mmap] = queue.SimpleQueue()
        self._todo: queue.SimpleQueue[tuple[mmap.mmap, int, int] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def write(self, data: bytes) -> None:
        if not self._direct:
            _write_all(self._fd, data, self._offset)
            self._offset += len(data)
            return
        view = memoryview(data)
        while view:
            if self._view is None:
                self._next_buffer()
            assert self._view is not None
            n = min(len(view), BLOCK_SIZE - self._filled)
            self._view[self._filled : self._filled + n] = view[:n]
            self._filled += n
            view = view[n:]
            if self._filled == BLOCK_SIZE:
                self._hand_off(BLOCK_SIZE)

    def finish(self) -> None:
        if self._thread is None and self._view is not None:
            # Smaller than a block: one plain write, no thread.
            _set_direct(self._fd, False)
            _write_all(self._fd, self._view[: self._filled], self._offset)
            self._release_current()
        elif self._view is not None and self._filled:
            aligned = self._filled - self._filled % _ALIGN
            tail = bytes(self._view[aligned : self._filled])
            offset = self._offset + aligned
            if aligned:
                self._hand_off(aligned)
            else:
                self._release_current()
            self._stop()
            if tail:
                _set_direct(self._fd, False)
                _write_all(self._fd, tail, offset)
        self._stop()

    def close(self) -> None:
        self._release_current()
        # An error here was already raised by write() or finish(), or is moot: the upload
        # failed for another reason.
        with contextlib.suppress(BaseException):
            self._stop()
        for buffer in self._owned:
            _buffers.give(buffer)
        self._owned.clear()

    def _next_buffer(self) -> None:
        if len(self._owned) < _WRITE_BUFFERS:
            buffer = _buffers.take()
            self._owned.append(buffer)
        else:
            buffer = self._free.get()
        self._check()
        self._buffer, self._view, self._filled = buffer, memoryview(buffer), 0

    def _hand_off(self, length: int) -> None:
        assert self._buffer is not None
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="registre-blob-writer", daemon=True
            )
            self._thread.start()
        self._todo.put((self._buffer, length, self._offset))
        self._offset += length
        self._release_current(keep=True)

    def _release_current(self, keep: bool = False) -> None:
        if self._view is not None:
            self._view.release()
            if not keep and self._buffer is not None:
                self._free.put(self._buffer)
        self._buffer, self._view, self._filled = None, None, 0

    def _stop(self) -> None:
        if self._thread is not None:
            self._todo.put(None)
            self._thread.join()
            self._thread = None
        self._check()

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (item := self._todo.get()) is not None:
            buffer, length, offset = item
            try:
                if self._error is None:
                    with memoryview(buffer) as view:
                        try:
                            _write_all(self._fd, view[:length], offset)
                        except OSError as exc:
                            # Direct I/O refused after all (alignment rules of an odd
                            # device or filesystem): carry on with plain writes.
                            if exc.errno != errno.EINVAL or not _set_direct(self._fd, False):
                                raise
                            _write_all(self._fd, view[:length], offset)
            except BaseException as exc:
                self._error = exc
            finally:
                self._free.put(buffer)


def _write_all(fd: int, data: bytes | memoryview, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written <= 0:
            raise OSError(errno.EIO, "short write")
        view, offset = view[written:], offset + written


def _read(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _fsync_dir(path: Path) -> None:
    # Make the rename durable: a recorded blob must survive a power cut.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
