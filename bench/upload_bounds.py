"""What this machine allows an upload, with no HTTP in the way: the bounds that the artifact
upload figures of ``bench.mlflow_compare`` are read against.

    .venv/bin/python -m bench.upload_bounds [--size-mb 256] [--rounds 5] [--files 2000]

One large file (``--size-mb``, median of ``--rounds``, the host's dirty pages flushed before each):
- sha256 of the bytes in one stream (a content address cannot be computed in parallel);
- the bytes written to a file and left in the page cache (what ``mlflow server`` does before it
  answers);
- the bytes written and fsynced, with writeback started as they go (the least a durable write
  costs);
- ``LocalBlobStore.put``: Registre's blob write (hash, write, fsync, rename, directory fsync).

Many 64 KiB files (``--files`` in all, from 16 threads, each file new with bytes of its own):
files created and written (as ``mlflow server`` stores an upload) against ``LocalBlobStore.put``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.common import scratch
from registre.store.blobs.local import WRITEBACK_STEP, LocalBlobStore, _start_writeback

MIB = 1024 * 1024
SMALL = 64 * 1024
THREADS = 16


def _timed(rounds: int, run: Callable[[], object]) -> tuple[float, float]:
    """Median wall seconds of ``rounds`` runs, and this process's CPU seconds in that run."""
    results = []
    for _ in range(rounds):
        os.sync()
        before, started = os.times(), time.perf_counter()
        run()
        wall, after = time.perf_counter() - started, os.times()
        results.append((wall, (after.user + after.system) - (before.user + before.system)))
    return sorted(results)[len(results) // 2]


def large_file(home: Path, size_mb: int, rounds: int) -> None:
    # Distinct chunks, so no layer below can take a shortcut on repeated bytes.
    chunks = [os.urandom(MIB) for _ in range(size_mb)]
    store = LocalBlobStore(home / "blobs")

    def digest() -> None:
        hasher = hashlib.sha256()
        for chunk in chunks:
            hasher.update(chunk)

    def write(durable: bool) -> Callable[[], None]:
        def run() -> None:
            fd, name = tempfile.mkstemp(dir=home)
            try:
                written = started = 0
                for chunk in chunks:
                    written += os.write(fd, chunk)
                    # Writeback started as the bytes go, as the store does.
                    if durable and _start_writeback and written - started >= WRITEBACK_STEP:
                        _start_writeback(fd, started, written - started)
                        started = written
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(name)

        return run

    def put() -> None:
        blob = store.put(iter(chunks))
        store.delete(blob.digest)

    print(f"one {size_mb} MiB file, median of {rounds}")
    for label, run in [
        ("sha256, one stream", digest),
        ("write to the page cache", write(durable=False)),
        ("write + fsync (durable)", write(durable=True)),
        ("LocalBlobStore.put", put),
    ]:
        wall, cpu = _timed(rounds, run)
        rate = size_mb / wall
        print(f"  {label:28s} {rate:7.0f} MB/s   {wall * 1e3:5.0f} ms   cpu {cpu * 1e3:5.0f} ms")


def small_files(home: Path, count: int) -> None:
    store = LocalBlobStore(home / "small-blobs")
    plain = home / "small-plain"

    def create(i: int) -> None:  # a directory per run, a file per upload, no fsync
        folder = plain / str(i % 50)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.bin").write_bytes(os.urandom(SMALL))

    def blob(i: int) -> None:
        store.put([os.urandom(SMALL)])

    print(f"{count} files of 64 KiB from {THREADS} threads")
    for label, one in [("create and write (no fsync)", create), ("LocalBlobStore.put", blob)]:
        os.sync()
        with ThreadPoolExecutor(THREADS) as pool:
            started = time.perf_counter()
            list(pool.map(one, range(count)))
            rate = count / (time.perf_counter() - started)
        print(f"  {label:28s} {rate:7.0f} files/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    with scratch("registre-bounds-") as home:
        large_file(home, args.size_mb, args.rounds)
        small_files(home, args.files)


if __name__ == "__main__":
    main()
