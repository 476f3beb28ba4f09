"""Garbage collection deletes only old, unreferenced blobs."""

from __future__ import annotations

import io
import os
import time

from registre.domain.entities import FileEntry
from registre.service.maintenance import collect_garbage
from registre.service.registry import Registry


def _age(registry: Registry, digest: str, seconds: float) -> None:
    path = registry.blobs.root / "sha256" / digest[:2] / digest  # type: ignore[attr-defined]
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_gc_deletes_old_unreferenced_blobs_only(registry: Registry) -> None:
    kept = registry.upload_blob(io.BytesIO(b"in a version"))
    orphan_old = registry.upload_blob(io.BytesIO(b"never registered"))
    orphan_new = registry.upload_blob(io.BytesIO(b"just uploaded"))
    dropped = registry.upload_blob(io.BytesIO(b"version deleted"))
    registry.register_version("GC", [FileEntry("a", kept.digest)])
    registry.register_version("GC", [FileEntry("b", dropped.digest)])
    registry.delete_version("GC", 2)
    for blob in (kept, orphan_old, dropped):
        _age(registry, blob.digest, 2 * 3600)

    dry = collect_garbage(registry, grace_seconds=3600, dry_run=True)
    assert sorted(dry.deleted) == sorted([orphan_old.digest, dropped.digest])
    assert registry.blobs.exists(orphan_old.digest)

    report = collect_garbage(registry, grace_seconds=3600)
    assert (report.examined, report.referenced, report.too_young) == (4, 1, 1)
    assert report.freed_bytes == orphan_old.size + dropped.size
    assert not registry.blobs.exists(orphan_old.digest)
    assert not registry.blobs.exists(dropped.digest)
    assert registry.blobs.exists(orphan_new.digest)
    _, stream = registry.open_file("GC", 1, "a")
    assert b"".join(stream) == b"in a version"


def test_reuploading_an_old_orphan_makes_it_young_again(registry: Registry) -> None:
    blob = registry.upload_blob(io.BytesIO(b"about to be reused"))
    _age(registry, blob.digest, 2 * 3600)
    registry.upload_blob(io.BytesIO(b"about to be reused"))  # dedupe hit refreshes its age
    assert collect_garbage(registry, grace_seconds=3600).deleted == []
