"""Garbage collection: the explicit step that deletes blobs nothing references any more.

Deleting a model or a version never deletes bytes (other versions, runs or logged models may
share them). ``collect_garbage`` removes the blobs that no version, run or logged-model
artifact and no pending multipart upload points at, and that are older than a grace period:
a blob uploaded a moment ago is usually about to be referenced by the registration that
follows (re-uploading an existing blob refreshes its age for the same reason).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from registre.service.registry import Registry
from registre.store.sql import tracking_store

DEFAULT_GRACE_SECONDS = 24 * 3600


@dataclass
class GcReport:
    examined: int = 0
    referenced: int = 0
    too_young: int = 0
    deleted: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    dry_run: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "examined": self.examined,
            "referenced": self.referenced,
            "too_young": self.too_young,
            "deleted": len(self.deleted),
            "freed_bytes": self.freed_bytes,
            "dry_run": self.dry_run,
        }


def collect_garbage(
    registry: Registry, *, grace_seconds: float = DEFAULT_GRACE_SECONDS, dry_run: bool = False
) -> GcReport:
    """Delete unreferenced blobs older than ``grace_seconds`` (or only count them)."""
    report = GcReport(dry_run=dry_run)
    cutoff = time.time() - grace_seconds
    # References are read after the listing starts: a blob referenced by the time we read
    # them is kept; a newer upload is too young to be touched.
    blobs = list(registry.blobs.iter_blobs())
    with registry.store.read() as conn:
        referenced = registry.store.referenced_digests(conn)
        referenced |= tracking_store.referenced_digests(conn)
    for blob in blobs:
        report.examined += 1
        if blob.digest in referenced:
            report.referenced += 1
        elif blob.modified > cutoff:
            report.too_young += 1
        else:
            if not dry_run:
                registry.blobs.delete(blob.digest)
            report.deleted.append(blob.digest)
            report.freed_bytes += blob.size
    return report
