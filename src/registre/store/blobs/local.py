"""Blobs in a local directory: ``<root>/sha256/ab/<digest>``, written via temp file + rename."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from registre.domain.errors import IntegrityError, NotFound, StorageFull
from registre.store.blobs.base import (
    CHUNK_SIZE,
    DIGEST_RE,
    BlobInfo,
    StoredBlob,
    check_digest,
    iter_chunks,
    verified,
)


class LocalBlobStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self._blobs = self.root / "sha256"
        self._tmp = self.root / "tmp"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(parents=True, exist_ok=True)

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
            with os.fdopen(fd, "wb") as out:
                started = 0  # bytes already on their way to disk
                for chunk in iter_chunks(source):
                    hasher.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                    if _start_writeback is not None and size - started >= WRITEBACK_STEP:
                        out.flush()
                        _start_writeback(fd, started, size - started)
                        started = size
                out.flush()
                os.fchmod(fd, 0o444)
                os.fsync(fd)
            digest = hasher.hexdigest()
            if expected_digest is not None and digest != expected_digest:
                raise IntegrityError(
                    f"uploaded bytes hash to {digest}, not the announced {expected_digest}"
                )
            final = self._path(digest)
            if _size_of(final) == size:
                os.unlink(tmp_name)
                # A re-upload refreshes the blob's age, which garbage collection's grace
                # period relies on (it may be about to be referenced again).
                os.utime(final)
            else:  # absent, or damaged (wrong size): the fresh bytes replace it
                try:
                    os.replace(tmp_name, final)
                except FileNotFoundError:  # the first blob of its shard directory
                    final.parent.mkdir(exist_ok=True)
                    os.replace(tmp_name, final)
                _fsync_dir(final.parent)
            return StoredBlob(digest, size)
        except BaseException as exc:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
                raise StorageFull("the blob store is out of space; nothing was stored") from exc
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
        if hasattr(os, "posix_fadvise"):  # read front to back: ask for a larger readahead
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
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


_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def _read(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


# Large uploads ask the kernel to start writing every few MiB as they arrive, so the fsync
# that makes the blob durable has little left to flush when the last byte comes in.
WRITEBACK_STEP = 8 * 1024 * 1024
_SYNC_FILE_RANGE_WRITE = 2  # start writeback of dirty pages in the range, do not wait


def _writeback_starter() -> Callable[[int, int, int], object] | None:
    """Linux's ``sync_file_range(fd, offset, n, SYNC_FILE_RANGE_WRITE)``; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    call.restype = ctypes.c_int
    # (a failure only means the final fsync does all the flushing, as it would anyway)
    return lambda fd, offset, n: call(fd, offset, n, _SYNC_FILE_RANGE_WRITE)


_start_writeback = _writeback_starter()


def _size_of(path: Path) -> int | None:
    """The size of the regular file at ``path``; None if there is none."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _fsync_dir(path: Path) -> None:
    # Make the rename durable: a recorded blob must survive a power cut.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
