"""The local blob store's direct-I/O paths: block boundaries, fallbacks, failures, early stops."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from registre.store.blobs import local
from registre.store.blobs.local import BLOCK_SIZE, LocalBlobStore

PAGE = 4096


def payload(size: int) -> bytes:
    block = hashlib.sha256(str(size).encode()).digest() * 128  # 4 KiB, varied per size
    return (block * (size // len(block) + 1))[:size]


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "tmp").iterdir())


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture
def needs_direct_io(tmp_path: Path) -> None:
    probe = os.open(tmp_path / "probe", os.O_RDWR | os.O_CREAT)
    try:
        if not local._set_direct(probe, True):
            pytest.skip("this filesystem has no direct I/O")
    finally:
        os.close(probe)
        os.unlink(tmp_path / "probe")


@pytest.mark.parametrize("direct_io", [True, False], ids=["direct", "plain"])
@pytest.mark.parametrize(
    "size",
    [1, PAGE - 1, PAGE, PAGE + 1, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1,
     2 * BLOCK_SIZE + PAGE, 3 * BLOCK_SIZE + PAGE + 5],
)  # fmt: skip
def test_sizes_around_page_and_block_boundaries_round_trip(
    tmp_path: Path, size: int, direct_io: bool
) -> None:
    store = LocalBlobStore(tmp_path, direct_io=direct_io)
    data = payload(size)

    stored = store.put(pieces(data, 1_000_003))  # chunks that straddle every boundary

    assert stored.digest == hashlib.sha256(data).hexdigest()
    assert stored.size == size
    path = tmp_path / "sha256" / stored.digest[:2] / stored.digest
    assert path.read_bytes() == data
    assert b"".join(store.open(stored.digest)) == data
    assert leftovers(tmp_path) == []


def test_a_filesystem_without_direct_io_gets_plain_io(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local, "_set_direct", lambda fd, on: False)
    store = LocalBlobStore(tmp_path)
    data = payload(2 * BLOCK_SIZE + 7)

    digest = store.put(pieces(data, 65536)).digest

    assert b"".join(store.open(digest)) == data


@pytest.mark.usefixtures("needs_direct_io")
def test_direct_writes_refused_midway_fall_back_to_plain_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_pwrite = os.pwrite
    refused = []

    def pwrite(fd: int, data: bytes | memoryview, offset: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & local._O_DIRECT and offset >= BLOCK_SIZE:
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    store = LocalBlobStore(tmp_path)
    data = payload(3 * BLOCK_SIZE + 11)

    digest = store.put(pieces(data, 1 << 20)).digest

    assert refused == [BLOCK_SIZE]  # refused once, then plain writes only
    assert b"".join(store.open(digest)) == data


@pytest.mark.usefixtures("needs_direct_io")
def test_a_failed_background_write_fails_the_upload_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write_all = local._write_all

    def write_all(fd: int, data: bytes | memoryview, offset: int) -> None:
        if threading.current_thread().name == "registre-blob-writer" and offset > 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_all(fd, data, offset)

    monkeypatch.setattr(local, "_write_all", write_all)
    store = LocalBlobStore(tmp_path)
    data = payload(6 * BLOCK_SIZE)
    before = open_fds()

    with pytest.raises(OSError) as raised:
        store.put(pieces(data, 1 << 20))

    assert raised.value.errno == errno.ENOSPC
    assert leftovers(tmp_path) == []
    assert not store.exists(hashlib.sha256(data).hexdigest())
    assert open_fds() == before


@pytest.mark.usefixtures("needs_direct_io")
def test_large_blobs_are_written_around_the_page_cache_and_read_through_it(
    tmp_path: Path,
) -> None:
    store = LocalBlobStore(tmp_path)
    data = payload(4 * BLOCK_SIZE)
    digest = store.put(pieces(data, 1 << 20)).digest
    path = tmp_path / "sha256" / digest[:2] / digest
    pages = len(data) // PAGE

    assert cached_pages(path) < pages // 4  # written with direct I/O (the tail may be cached)
    assert b"".join(store.open(digest)) == data
    assert cached_pages(path) == pages  # a second download comes from memory


def cached_pages(path: Path) -> int:
    """How many of ``path``'s pages are in the page cache (mincore(2) over a mapping of it)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]  # fmt: skip
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = path.stat().st_size
    pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        assert address not in (None, ctypes.c_void_p(-1).value), ctypes.get_errno()
        try:
            vector = (ctypes.c_ubyte * pages)()
            assert libc.mincore(address, size, vector) == 0, ctypes.get_errno()
            return sum(v & 1 for v in vector)
        finally:
            libc.munmap(address, size)
    finally:
        os.close(fd)
