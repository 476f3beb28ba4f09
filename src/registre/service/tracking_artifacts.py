"""Artifacts behind the proxy: bytes in the blob store, (root, path) → digest in the index.

Paths are the artifact proxy's (``<exp>/<run_id>/artifacts/<path>`` for a run, likewise for a
logged model, any other safe relative path in the proxy's own namespace; see domain.tracking)
and are only ever used as index keys: nothing here touches the filesystem by name.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from registre.domain.entities import FileEntry, now_ms
from registre.domain.errors import Conflict, InvalidInput, NotFound
from registre.domain.tracking import (
    ArtifactEntry,
    ArtifactLocation,
    ArtifactRoot,
    ListedFile,
    check_artifact_key,
    list_directory,
    parse_proxy_location,
    parse_version_location,
)
from registre.service.context import current_actor
from registre.service.group_commit import GroupCommit
from registre.store.sql import tracking_store as q

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from registre.service.tracking import Tracking
    from registre.store.sql.store import WriteTx

MAX_PARTS = 10_000


@dataclass(frozen=True, slots=True)
class _Record:
    """An index entry to write, with who wrote it and when (taken in the caller's context: the
    write may run in another caller's thread)."""

    location: ArtifactLocation
    entry: ArtifactEntry
    action: str
    actor: str
    now: int
    extra: dict[str, Any] = field(default_factory=dict)


class TrackingArtifacts:
    def __init__(self, tracking: Tracking) -> None:
        self.store = tracking.store
        self.registry = tracking.registry
        self.blobs = tracking.registry.blobs
        # Concurrent uploads (a client logging a model's files in parallel) write their index
        # entries in one transaction.
        self._records: GroupCommit[_Record, ArtifactEntry] = GroupCommit(
            self._record_batch, turn=self.store.write_turn, name="registre-artifacts"
        )

    # ---- roots --------------------------------------------------------------------------
    def _check_root(self, conn: Connection, root: ArtifactRoot) -> None:
        if root.kind == "proxy":
            return
        if root.kind == "run":
            row = q.run_row(conn, root.id)
            what = f"run {root.id!r}"
        else:
            row = q.logged_model_row(conn, root.id)
            what = f"logged model {root.id!r}"
        if row is None or str(row.experiment_id) != root.experiment_id:
            raise NotFound(f"{what} does not exist in experiment {root.experiment_id}")

    def entries(self, root: ArtifactRoot, path: str = "") -> list[ArtifactEntry]:
        """Every entry at or under ``path`` of ``root`` (paths relative to the root)."""
        with self.store.read() as conn:
            return q.artifacts_under(conn, root, path)

    # ---- files --------------------------------------------------------------------------
    def locate_writable(self, path: str) -> ArtifactLocation:
        """Validate an upload target before any byte is read."""
        location = parse_proxy_location(path)
        if not location.path:
            raise InvalidInput(f"artifact path {path!r} names a root, not a file")
        with self.store.read() as conn:
            self._check_root(conn, location.root)
        return location

    def put(self, path: str, chunks: Iterable[bytes]) -> ArtifactEntry:
        """Store the bytes of ``path`` (replacing a previous file at that path)."""
        location = self.locate_writable(path)
        blob = self.blobs.put(chunks)
        return self._record(location, blob.digest, blob.size, "put_artifact")

    def _record(
        self, location: ArtifactLocation, digest: str, size: int, action: str, **extra: Any
    ) -> ArtifactEntry:
        entry = ArtifactEntry(location.path, digest, size)
        record = _Record(location, entry, action, current_actor(), now_ms(), extra)
        return self._records.submit(record)

    def _record_batch(self, records: Sequence[_Record]) -> list[ArtifactEntry | Exception]:
        """Write the records in one transaction; if it fails, each alone (its own outcome)."""
        try:
            with self.store.write() as tx:
                for record in records:
                    self._write(tx, record)
            return [r.entry for r in records]
        except Exception as exc:
            if len(records) == 1:
                return [exc]
        outcomes: list[ArtifactEntry | Exception] = []
        for record in records:
            try:
                with self.store.write() as tx:
                    self._write(tx, record)
                outcomes.append(record.entry)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def _write(self, tx: WriteTx, record: _Record) -> None:
        location, entry = record.location, record.entry
        self._check_root(tx.conn, location.root)
        q.put_artifact(tx.conn, location.root, entry, record.now)
        extra = dict(record.extra)
        for upload_id in extra.pop("drop_upload", ()):
            q.delete_upload(tx.conn, upload_id)
        tx.add_event(
            at=record.now, actor=record.actor, action=record.action,
            model=_subject(location.root),
            after={"path": entry.path, "digest": entry.digest, "size": entry.size, **extra},
        )  # fmt: skip

    def open(self, path: str) -> tuple[ArtifactEntry, Iterator[bytes]]:
        """The entry of ``path`` and its bytes, verified against the digest while streaming."""
        if version := parse_version_location(path):
            found, chunks = self.registry.open_file(version.name, version.version, version.path)
            return ArtifactEntry(found.path, found.digest, self._size(found)), chunks
        location = parse_proxy_location(path)
        with self.store.read() as conn:
            entry = q.artifact(conn, location.root, location.path) if location.path else None
        if entry is None:
            raise NotFound(f"artifact {path!r} does not exist")
        return entry, self.blobs.open(entry.digest)

    def _size(self, entry: FileEntry) -> int:
        # Registered versions always record sizes; ask the blob store only if one did not.
        return entry.size if entry.size is not None else self.blobs.size(entry.digest)

    def list(self, path: str) -> list[ListedFile]:
        """Children of the directory ``path``; [] for a file or a missing path."""
        if version := parse_version_location(path):
            files = self.registry.get_version(version.name, version.version).files
            entries = [ArtifactEntry(f.path, f.digest, self._size(f)) for f in files]
            directory = version.path
        else:
            location = parse_proxy_location(path)
            entries = self.entries(location.root, location.path)
            directory = location.path
        if directory and any(e.path == directory for e in entries):
            return []
        return list_directory(entries, directory)

    def delete(self, path: str) -> int:
        """Delete the file or directory ``path`` (a run's or model's root: all its files)."""
        location = parse_proxy_location(path)
        if location.root.kind == "proxy" and not location.path:
            raise InvalidInput("the artifact proxy's root cannot be deleted")
        now = now_ms()
        with self.store.write() as tx:
            self._check_root(tx.conn, location.root)
            count = q.delete_artifacts(tx.conn, location.root, location.path)
            tx.add_event(
                at=now, actor=current_actor(), action="delete_artifacts",
                model=_subject(location.root), before={"path": location.path, "files": count},
            )  # fmt: skip
        return count

    # ---- multipart uploads --------------------------------------------------------------
    def create_upload(self, directory: str, local_file: str, num_parts: int) -> str:
        """Start a multipart upload of ``local_file``'s basename into ``directory``."""
        base = re.split(r"[\\/]", str(local_file or ""))[-1]
        check_artifact_key(base)
        location = self.locate_writable(f"{directory.rstrip('/')}/{base}")
        if not isinstance(num_parts, int) or not 1 <= num_parts <= MAX_PARTS:
            raise InvalidInput(f"num_parts must be between 1 and {MAX_PARTS}")
        upload_id = uuid.uuid4().hex
        now = now_ms()
        with self.store.write() as tx:
            q.insert_upload(
                tx.conn, id=upload_id, root_kind=location.root.kind, root_id=location.root.id,
                experiment_id=location.root.experiment_id, path=location.path,
                num_parts=num_parts, created_at=now,
            )  # fmt: skip
            tx.add_event(
                at=now, actor=current_actor(), action="create_multipart_upload",
                model=_subject(location.root), after={"path": location.path, "parts": num_parts},
            )  # fmt: skip
        return upload_id

    def _upload(self, conn: Connection, upload_id: str) -> Any:
        if not isinstance(upload_id, str) or not re.fullmatch(r"[0-9a-f]{32}", upload_id):
            raise InvalidInput(f"invalid upload id {upload_id!r}")
        row = q.upload_row(conn, upload_id)
        if row is None:
            raise NotFound(f"multipart upload {upload_id!r} does not exist")
        return row

    def put_part(self, upload_id: str, part_number: int, chunks: Iterable[bytes]) -> str:
        """Store one part; returns its sha256 (the part's ETag)."""
        with self.store.read() as conn:
            row = self._upload(conn, upload_id)
        if not 1 <= part_number <= row.num_parts:
            raise InvalidInput(f"part_number must be between 1 and {row.num_parts}")
        blob = self.blobs.put(chunks)
        with self.store.write() as tx:
            self._upload(tx.conn, upload_id)
            q.put_part(tx.conn, upload_id, part_number, blob.digest, blob.size)
        return blob.digest

    def complete_upload(
        self, directory: str, local_file: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> ArtifactEntry:
        """Concatenate the listed parts (in part order) into the target file."""
        with self.store.read() as conn:
            row = self._upload(conn, upload_id)
            stored = q.parts(conn, upload_id)
        location = self._same_target(row, directory, local_file)
        numbers = sorted(n for n, _ in parts)
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise InvalidInput("parts must be numbered 1..N without gaps")
        for number, etag in parts:
            if number not in stored:
                raise InvalidInput(f"part {number} of upload {upload_id} was not uploaded")
            if etag and etag.strip('"') != stored[number].digest:
                raise Conflict(f"part {number} does not match its ETag {etag!r}")
        digests = [stored[n].digest for n in numbers]
        chunks = itertools.chain.from_iterable(self.blobs.open(d) for d in digests)
        blob = self.blobs.put(chunks)
        return self._record(
            location, blob.digest, blob.size, "complete_multipart_upload",
            parts=len(numbers), drop_upload=[upload_id],
        )  # fmt: skip

    def abort_upload(self, directory: str, local_file: str, upload_id: str) -> None:
        with self.store.write() as tx:
            row = self._upload(tx.conn, upload_id)
            location = self._same_target(row, directory, local_file)
            q.delete_upload(tx.conn, upload_id)
            tx.add_event(
                at=now_ms(), actor=current_actor(), action="abort_multipart_upload",
                model=_subject(location.root), before={"path": location.path},
            )  # fmt: skip

    def _same_target(self, row: Any, directory: str, local_file: str) -> ArtifactLocation:
        base = re.split(r"[\\/]", str(local_file or ""))[-1]
        location = parse_proxy_location(f"{directory.rstrip('/')}/{check_artifact_key(base)}")
        if (location.root.kind, location.root.id, location.path) != (
            row.root_kind, row.root_id, row.path,
        ):  # fmt: skip
            raise InvalidInput(f"upload {row.id} is for another artifact path")
        return location


def _subject(root: ArtifactRoot) -> str:
    """The event subject of a root's changes (never a model name: those have no '/')."""
    if root.kind == "proxy":
        return "mlflow-artifacts/"
    return f"runs/{root.id}" if root.kind == "run" else f"logged-models/{root.id}"
