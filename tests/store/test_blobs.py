"""The blob store contract, run against every implementation (local directory, S3 via moto)."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from registre.domain.errors import IntegrityError, InvalidInput, NotFound, StorageFull
from registre.store.blobs import BlobStore, LocalBlobStore, S3BlobStore, open_blob_store
from registre.store.blobs.base import CHUNK_SIZE
from tests.fixtures.s3 import S3Location

MiB = 1024 * 1024
T = TypeVar("T")


@dataclass
class Backend:
    """A store plus a view of its storage from behind its back."""

    kind: str
    store: BlobStore
    stored_objects: Callable[[], list[str]]  # every file/key, temp ones included
    overwrite: Callable[[str, bytes], None]  # replace a blob's bytes, bypassing the store
    pending_uploads: Callable[[], list[str]]  # unfinished multipart uploads (S3 only)


def _local_backend(root: Path) -> Backend:
    store = open_blob_store(str(root))
    assert isinstance(store, LocalBlobStore)

    def stored_objects() -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    def overwrite(digest: str, data: bytes) -> None:
        path = root / "sha256" / digest[:2] / digest
        path.chmod(0o644)  # blobs are written read-only
        path.write_bytes(data)

    return Backend("local", store, stored_objects, overwrite, list)


def _s3_backend(location: S3Location) -> Backend:
    store = open_blob_store(location.url)  # endpoint + credentials come from AWS_* env vars
    assert isinstance(store, S3BlobStore)
    client = location.client()

    def overwrite(digest: str, data: bytes) -> None:
        key = f"{location.prefix}/sha256/{digest[:2]}/{digest}"
        client.put_object(Bucket=location.bucket, Key=key, Body=data)

    def pending_uploads() -> list[str]:
        uploads = client.list_multipart_uploads(Bucket=location.bucket).get("Uploads", [])
        return [upload["Key"] for upload in uploads]

    return Backend("s3", store, location.keys, overwrite, pending_uploads)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local_backend(tmp_path / "blobs")
    return _s3_backend(request.getfixturevalue("s3_url"))


@pytest.fixture
def blob_store(backend: Backend) -> BlobStore:
    return backend.store


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload(size: int, seed: int = 0) -> bytes:
    block = hashlib.sha256(f"{seed}".encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def chunked(data: bytes, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]


def cut_off(data: bytes, after_chunks: int) -> Iterator[bytes]:
    for i, chunk in enumerate(chunked(data)):
        if i == after_chunks:
            raise ConnectionResetError("client went away mid-upload")
        yield chunk


def blob_files(backend: Backend) -> list[str]:
    return [name for name in backend.stored_objects() if "/sha256/" in f"/{name}"]


@pytest.mark.parametrize("size", [0, 5, 3 * MiB + 7, 17 * MiB + 3])
def test_round_trip_returns_the_same_bytes(blob_store: BlobStore, size: int) -> None:
    data = payload(size, seed=size)

    stored = blob_store.put(io.BytesIO(data))

    assert stored.digest == sha256(data)
    assert stored.size == size
    assert b"".join(blob_store.open(stored.digest)) == data


def test_put_accepts_an_iterable_of_chunks(blob_store: BlobStore) -> None:
    data = payload(2 * MiB + 1)
    stored = blob_store.put(chunked(data, 100_000))
    assert stored.digest == sha256(data)
    assert b"".join(blob_store.open(stored.digest)) == data


def test_same_bytes_are_stored_once(backend: Backend) -> None:
    data = payload(3 * MiB)

    first = backend.store.put(io.BytesIO(data))
    second = backend.store.put(chunked(data, 12345), expected_digest=first.digest)

    assert first == second
    assert len(blob_files(backend)) == 1
    assert list(backend.store.iter_digests()) == [first.digest]
    assert backend.stored_objects() == blob_files(backend)  # no temp leftovers


def test_expected_digest_mismatch_raises_and_stores_nothing(backend: Backend) -> None:
    data = payload(1000)
    announced = sha256(b"something else")

    with pytest.raises(IntegrityError):
        backend.store.put(io.BytesIO(data), expected_digest=announced)

    assert backend.stored_objects() == []
    assert not backend.store.exists(sha256(data))
    assert not backend.store.exists(announced)


@pytest.mark.parametrize("after_chunks", [2, 20], ids=["single-request", "multipart"])
def test_upload_cut_off_midway_leaves_nothing(backend: Backend, after_chunks: int) -> None:
    data = payload(24 * MiB)

    with pytest.raises(ConnectionResetError):
        backend.store.put(cut_off(data, after_chunks))

    assert backend.stored_objects() == []
    assert backend.pending_uploads() == []
    assert list(backend.store.iter_digests()) == []
    assert not backend.store.exists(sha256(data))
    assert not backend.store.exists(sha256(data[: after_chunks * CHUNK_SIZE]))


@pytest.mark.parametrize("damage", ["flipped-byte", "truncated", "appended"])
def test_corrupted_blob_fails_before_the_stream_completes(backend: Backend, damage: str) -> None:
    data = payload(4 * MiB + 10)
    digest = backend.store.put(io.BytesIO(data)).digest
    corrupt = {
        "flipped-byte": data[:-3] + bytes([data[-3] ^ 0xFF]) + data[-2:],
        "truncated": data[:-1],
        "appended": data + b"!",
    }[damage]
    backend.overwrite(digest, corrupt)

    received = bytearray()
    with pytest.raises(IntegrityError):
        for chunk in backend.store.open(digest):
            received += chunk

    assert len(received) < len(corrupt)  # the consumer never holds the whole (bad) stream


def test_size_exists_delete_and_not_found(blob_store: BlobStore) -> None:
    data = payload(4321)
    digest = blob_store.put(io.BytesIO(data)).digest
    absent = sha256(b"never stored")

    assert blob_store.exists(digest)
    assert blob_store.size(digest) == 4321
    assert not blob_store.exists(absent)
    with pytest.raises(NotFound):
        blob_store.size(absent)
    with pytest.raises(NotFound):
        blob_store.open(absent)

    blob_store.delete(digest)
    blob_store.delete(digest)  # deleting an absent blob is not an error

    assert not blob_store.exists(digest)
    with pytest.raises(NotFound):
        blob_store.size(digest)


def test_iter_digests_lists_every_blob(blob_store: BlobStore) -> None:
    assert list(blob_store.iter_digests()) == []
    digests = {blob_store.put(io.BytesIO(payload(100 + i, seed=i))).digest for i in range(5)}

    assert sorted(blob_store.iter_digests()) == sorted(digests)

    gone = digests.pop()
    blob_store.delete(gone)
    assert sorted(blob_store.iter_digests()) == sorted(digests)


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "../" + "0" * 61, " " + "0" * 63],
    ids=["empty", "short", "uppercase", "non-hex", "63", "65", "traversal", "space"],
)
def test_invalid_digest_strings_are_rejected(backend: Backend, bad: str) -> None:
    store = backend.store
    for call in (store.exists, store.size, store.open, store.delete):
        with pytest.raises(InvalidInput):
            call(bad)
    with pytest.raises(InvalidInput):
        store.put(io.BytesIO(b"data"), expected_digest=bad)
    assert backend.stored_objects() == []


def test_large_blob_streams_with_bounded_memory(backend: Backend) -> None:
    size = 256 * MiB
    block = os.urandom(MiB)
    expected = hashlib.sha256()

    def source() -> Iterator[bytes]:
        for i in range(size // MiB):
            chunk = i.to_bytes(8, "big") + block[8:]
            expected.update(chunk)
            yield chunk

    def round_trip() -> tuple[str, str, int]:
        stored = backend.store.put(source())
        readback = hashlib.sha256()
        for chunk in backend.store.open(stored.digest):
            readback.update(chunk)
        return stored.digest, readback.hexdigest(), stored.size

    started = time.monotonic()
    growth, (digest, read_digest, stored_size) = peak_rss_growth(round_trip)
    elapsed = time.monotonic() - started

    assert stored_size == size
    assert digest == read_digest == expected.hexdigest()
    assert growth < 96 * MiB, f"peak RSS grew by {growth / MiB:.0f} MiB for a 256 MiB blob"
    print(f"[{backend.kind}] 256 MiB in {elapsed:.1f}s, peak RSS +{growth / MiB:.0f} MiB")


def peak_rss_growth(fn: Callable[[], T]) -> tuple[int, T]:
    """Run ``fn``; return how far peak resident memory rose above the starting RSS, in bytes."""
    status = Path("/proc/self/status")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset the peak (VmHWM) to now
    except OSError:
        # Elsewhere ru_maxrss is a lifetime high-water mark, so this under-reports growth.
        scale = 1 if sys.platform == "darwin" else 1024
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
        result = fn()
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale - before, result

    def read_kib(field: str) -> int:
        line = next(x for x in status.read_text().splitlines() if x.startswith(field + ":"))
        return int(line.split()[1]) * 1024

    before = read_kib("VmRSS")
    result = fn()
    return read_kib("VmHWM") - before, result


def test_open_blob_store_picks_the_backend_from_the_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert isinstance(open_blob_store("s3://bucket/some/prefix"), S3BlobStore)
    assert isinstance(open_blob_store(f"file://{tmp_path}/a"), LocalBlobStore)
    assert isinstance(open_blob_store(str(tmp_path / "b")), LocalBlobStore)
    assert (tmp_path / "a" / "sha256").is_dir()
    for bad in ("gs://bucket", "file://otherhost/x", "s3://", ""):
        with pytest.raises(InvalidInput):
            open_blob_store(bad)


# The fixtures' own smoke test lives here until tests/fixtures gets a test module of its own.
def test_postgres_fixture_serves_a_real_server(postgres_url: str, postgres_db_url: str) -> None:
    import sqlalchemy as sa

    for url in (postgres_url, postgres_db_url):
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                assert conn.scalar(sa.text("select version()")).startswith("PostgreSQL")
                conn.execute(sa.text("create table t (x int)"))  # fresh db: no clash
                conn.execute(sa.text("drop table t"))
        finally:
            engine.dispose()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux's")
def test_local_uploads_start_writeback_as_they_arrive(tmp_path: Path) -> None:
    """Large uploads hand dirty pages to the disk every few MiB (sync_file_range), so the
    final fsync is short; the bytes stored are the same."""
    from registre.store.blobs import local

    assert local._start_writeback is not None
    data = payload(local.WRITEBACK_STEP * 2 + 5)
    store = LocalBlobStore(tmp_path / "blobs")
    stored = store.put(chunked(data, MiB))
    assert stored.digest == sha256(data)
    assert b"".join(store.open(stored.digest)) == data


def test_local_blobs_are_read_only_and_a_damaged_one_is_replaced_on_reupload(
    tmp_path: Path,
) -> None:
    import os
    import stat

    store = LocalBlobStore(tmp_path / "blobs")
    data = payload(70_000)
    digest = store.put([data]).digest
    path = tmp_path / "blobs" / "sha256" / digest[:2] / digest
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    os.utime(path, (1, 1))
    store.put([data])  # intact: kept, its age refreshed (garbage collection's grace period)
    assert path.stat().st_mtime > 1
    path.chmod(0o644)
    path.write_bytes(data[:-1])  # damaged on disk (wrong size)
    assert store.put([data]).digest == digest
    assert path.read_bytes() == data and stat.S_IMODE(path.stat().st_mode) == 0o444
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []  # no temporary file left


@pytest.mark.parametrize("size", [1000, 3 * MiB + 5])
def test_a_full_disk_is_storage_full_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    kept = store.put([b"stored before"])

    def failing(code: int) -> Callable[[int], None]:
        def fsync(fd: int) -> None:
            raise OSError(code, os.strerror(code))

        return fsync

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", failing(errno.ENOSPC))
        with pytest.raises(StorageFull, match="out of space"):
            store.put(chunked(os.urandom(size), MiB))
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    assert list(store.iter_digests()) == [kept.digest]
    with monkeypatch.context() as patch:  # other I/O errors stay what they are
        patch.setattr(os, "fsync", failing(errno.EIO))
        with pytest.raises(OSError) as raised:
            store.put([b"other"])
    assert not isinstance(raised.value, StorageFull)
