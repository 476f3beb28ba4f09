"""The registry use cases. Every door (REST, MLflow REST, CLI, SDK) calls these."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import orjson

from registre.domain import names
from registre.domain.entities import (
    Event,
    FileEntry,
    ModelVersion,
    Page,
    RegisteredModel,
    Stage,
    VersionStatus,
    now_ms,
)
from registre.domain.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from registre.domain.filters import Compare, Field, parse_filter, parse_order_by
from registre.service.context import current_actor
from registre.service.group_commit import GroupCommit
from registre.service.paging import check_max_results, decode_token, encode_token
from registre.service.uris import ModelRef, parse_model_uri, parse_ref
from registre.store.blobs.base import BlobStore, StoredBlob
from registre.store.sql import tables as t
from registre.store.sql.store import NewEvent, NewVersion, SqlStore, VersionRows, WriteTx

ARCHIVABLE_TARGETS = (Stage.STAGING, Stage.PRODUCTION)
# What other systems may write into a model's history (they change nothing else).
EXTERNAL_ACTIONS = frozenset({"serving_check_failed", "serving_swapped", "deployed", "note"})
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class VersionDraft:
    """A checked registration waiting to be written (see ``Registry.draft_version``), with
    its rows built already."""

    name: str
    new: NewVersion
    requested: int | None  # an exact version number, or None for the next one
    create_model: bool
    rows: VersionRows

    def written(self, number: int) -> ModelVersion:
        """The version as a read would return it once written (no alias or stage yet)."""
        n = self.new
        return ModelVersion(
            self.name, number, Stage.NONE, VersionStatus(n.status), n.description, n.source,
            n.run_id, n.created_by, n.now, n.now, n.tags, [], n.metrics, n.params, list(n.files),
        )  # fmt: skip


def _registered(name: str, new: NewVersion) -> NewEvent:
    after = {"stage": Stage.NONE.value, "files": len(new.files), "source": new.source}
    return NewEvent(new.now, new.created_by or "", "register_version", name, None, None, after)


class Registry:
    """Register, version, annotate, promote and resolve models.

    >>> registry = Registry.open("sqlite:///registre.db", "./artifacts")
    >>> registry.create_model("Iris").name
    'Iris'
    """

    def __init__(self, store: SqlStore, blobs: BlobStore) -> None:
        self.store = store
        self.blobs = blobs
        self._registrations: GroupCommit[VersionDraft, int] = GroupCommit(
            self._register_batch, turn=store.write_turn, on_loop=store.local_reads
        )

    @classmethod
    def open(cls, database_url: str, artifact_root: str, *, migrate: bool = True) -> Registry:
        """Open the stores; ``migrate=False`` when the schema is known to be current."""
        from registre.store.blobs import open_blob_store

        return cls(SqlStore(database_url, migrate=migrate), open_blob_store(artifact_root))

    def close(self) -> None:
        self._registrations.close()
        self.store.close()

    @property
    def local_reads(self) -> bool:
        """Whether reads are CPU work in this process (SQLite) rather than waits on a server."""
        return self.store.local_reads

    # ---- registered models --------------------------------------------------------------
    def create_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        names.check_model_name(name)
        description = names.check_description(description)
        tags = _check_tags(tags)
        now = now_ms()
        with self.store.write() as tx:
            model_id = tx.insert_model(name, description, now)
            tx.set_model_tags(model_id, tags)
            tx.add_event(
                at=now,
                actor=current_actor(),
                action="create_model",
                model=name,
                after={"description": description, "tags": tags},
            )
        return self.get_model(name)

    def get_model(self, name: str) -> RegisteredModel:
        names.check_model_name(name)
        with self.store.read() as conn:
            model = self.store.get_model(conn, name)
        if model is None:
            raise NotFound(f"registered model {name!r} does not exist")
        return model

    def search_models(
        self,
        filter: str | None = None,
        order_by: list[str] | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        where = parse_filter(filter)
        order = parse_order_by(order_by)
        limit = check_max_results(max_results)
        offset = decode_token(page_token)
        with self.store.read() as conn:
            items = self.store.search_models(conn, where, order, limit + 1, offset)
        return _page(items, limit, offset)

    def update_model(self, name: str, description: str) -> RegisteredModel:
        description = names.check_description(description)
        with self.store.write() as tx:
            row = self._model_row(tx, name)
            now = now_ms()
            tx.update_model(row.id, description=description, updated_at=now)
            tx.add_event(
                at=now,
                actor=current_actor(),
                action="update_model",
                model=name,
                before={"description": row.description},
                after={"description": description},
            )
        return self.get_model(name)

    def rename_model(self, name: str, new_name: str) -> RegisteredModel:
        names.check_model_name(new_name)
        with self.store.write() as tx:
            row = self._model_row(tx, name)
            if new_name != name and tx.model_row(new_name) is not None:
                raise AlreadyExists(f"registered model {new_name!r} already exists")
            now = now_ms()
            tx.update_model(row.id, name=new_name, updated_at=now)
            tx.rename_history(name, new_name)
            tx.add_event(
                at=now,
                actor=current_actor(),
                action="rename_model",
                model=new_name,
                before={"name": name},
                after={"name": new_name},
            )
        return self.get_model(new_name)

    def delete_model(self, name: str) -> None:
        with self.store.write() as tx:
            row = self._model_row(tx, name)
            tx.delete_model(row.id)
            tx.add_event(
                at=now_ms(),
                actor=current_actor(),
                action="delete_model",
                model=name,
                before={"name": name, "last_version": row.last_version},
            )

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        key, value = names.check_tag(key, value)
        with self.store.write() as tx:
            row = self._model_row(tx, name)
            now = now_ms()
            tx.set_model_tags(row.id, {key: value})
            tx.update_model(row.id, updated_at=now)
            tx.add_event(
                at=now, actor=current_actor(), action="set_model_tag", model=name,
                after={"key": key, "value": value},
            )  # fmt: skip

    def delete_model_tag(self, name: str, key: str) -> None:
        with self.store.write() as tx:
            row = self._model_row(tx, name)
            if not tx.delete_model_tag(row.id, key):
                raise NotFound(f"registered model {name!r} has no tag {key!r}")
            tx.add_event(
                at=now_ms(), actor=current_actor(), action="delete_model_tag", model=name,
                before={"key": key},
            )  # fmt: skip

    # ---- files --------------------------------------------------------------------------
    def upload_blob(
        self, source: BinaryIO | Iterable[bytes], expected_digest: str | None = None
    ) -> StoredBlob:
        """Store bytes content-addressed; registering a version then refers to the digest."""
        return self.blobs.put(source, expected_digest)

    def blob_size(self, digest: str) -> int:
        """Size of a stored blob; NotFound when it was never (fully) uploaded."""
        return self.blobs.size(digest)

    def open_file(
        self, name: str, version: int | str, path: str
    ) -> tuple[FileEntry, Iterator[bytes]]:
        """The file's manifest entry and a stream of its bytes, verified against its digest."""
        number = names.check_version(version)
        path = names.check_artifact_path(path)
        with self.store.read() as conn:
            files = self.store.version_files(conn, name, number)
            if not files and self.store.version_id(conn, name, number) is None:
                raise NotFound(f"model version {name!r} version {number} does not exist")
        entry = next((f for f in files if f.path == path), None)
        if entry is None:
            raise NotFound(f"model version {name!r} version {number} has no file {path!r}")
        return entry, self.blobs.open(entry.digest)

    def list_files(self, name: str, version: int | str) -> list[FileEntry]:
        return self.get_version(name, version).files

    # ---- versions -----------------------------------------------------------------------
    def register_version(
        self,
        name: str,
        files: Iterable[FileEntry] = (),
        *,
        source: str = "",
        run_id: str | None = None,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        create_model: bool = True,
        status: VersionStatus = VersionStatus.READY,
        number: int | None = None,
    ) -> ModelVersion:
        """Create the next version of ``name`` from files already in the blob store.

        The version number is allocated in the inserting transaction; the version is READY
        at once because every file it names is verified to be fully stored first. ``number``
        (for imports that keep another registry's numbering) asks for that exact number: it
        is granted only if no version at or above it was ever allocated, else Conflict.
        """
        draft = self.draft_version(
            name, files, source=source, run_id=run_id, metrics=metrics, params=params,
            tags=tags, description=description, create_model=create_model, status=status,
            number=number,
        )  # fmt: skip
        return self.commit_version(draft)

    def draft_version(
        self,
        name: str,
        files: Iterable[FileEntry] = (),
        *,
        source: str = "",
        run_id: str | None = None,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        create_model: bool = True,
        status: VersionStatus = VersionStatus.READY,
        number: int | None = None,
        files_stored: bool = False,
    ) -> VersionDraft:
        """A checked registration, not written yet (``commit_version`` writes it).
        ``files_stored``: the entries come from the artifact index (or another version),
        whose paths were checked and whose blobs were stored before the entries were written,
        so neither is checked again."""
        requested = None if number is None else names.check_version(number)
        names.check_model_name(name)
        description = names.check_description(description)
        entries = self._check_files(files, stored=files_stored)
        entries.sort(key=lambda f: f.path)
        new = NewVersion(
            status.value, description, source, run_id, current_actor(), now_ms(),
            tuple(entries), _check_metrics(metrics), _check_params(params), _check_tags(tags),
        )  # fmt: skip
        return VersionDraft(
            name, new, requested, create_model, VersionRows(new, _registered(name, new))
        )

    def commit_version(self, draft: VersionDraft) -> ModelVersion:
        """Write a drafted version; concurrent commits share one transaction."""
        return draft.written(self._registrations.submit(draft))

    async def commit_version_async(self, draft: VersionDraft) -> ModelVersion:
        """``commit_version`` for an event loop: waits for the write without a thread."""
        return draft.written(await self._registrations.submit_async(draft))

    def _register_batch(self, batch: Sequence[VersionDraft]) -> list[int | Exception]:
        """Write drafts: those taking the next number of an existing model together (one
        allocation per model name, one insert per table), the others (an exact number, a
        model to create) one by one. If the shared transaction fails, each of its drafts is
        written alone, so each gets its own outcome."""
        outcomes: list[int | Exception | None] = [None] * len(batch)
        by_name: dict[str, list[int]] = {}
        for i, draft in enumerate(batch):
            if draft.requested is None:
                by_name.setdefault(draft.name, []).append(i)
        if by_name:
            shared: list[int] = []
            try:
                with self.store.write() as tx:
                    rows = []
                    for name, positions in by_name.items():
                        now = max(batch[i].new.now for i in positions)
                        allocated = tx.allocate_versions_of(name, len(positions), now)
                        if allocated is None:  # no such model: created (or refused) alone
                            continue
                        model_id, first = allocated
                        for number, i in enumerate(positions, start=first):
                            rows.append(batch[i].rows.numbered(model_id, number))
                            outcomes[i] = number
                            shared.append(i)
                    tx.insert_versions(rows)
            except Exception as exc:
                for i in shared:
                    outcomes[i] = exc if len(shared) == 1 else None
        for i, draft in enumerate(batch):
            if outcomes[i] is None:
                try:
                    outcomes[i] = self._register_alone(draft)
                except Exception as exc:
                    outcomes[i] = exc
        return cast("list[int | Exception]", outcomes)

    def _register_alone(self, draft: VersionDraft) -> int:
        new, name, requested = draft.new, draft.name, draft.requested
        with self.store.write() as tx:
            actor = new.created_by or ""
            model_id = self._model_for_version(tx, name, new.now, actor, draft.create_model)
            if requested is None:
                number = tx.allocate_version(model_id, new.now)
            elif tx.claim_version(model_id, requested, new.now) is None:
                raise Conflict(
                    f"model {name!r} already allocated version numbers up to or past {requested}"
                )
            else:
                number = requested
            tx.insert_versions([draft.rows.numbered(model_id, number)])
        return number

    def _model_for_version(self, tx: WriteTx, name: str, now: int, actor: str, create: bool) -> int:
        row = tx.model_row(name)
        if row is not None:
            return int(row.id)
        if not create:
            raise NotFound(f"registered model {name!r} does not exist")
        try:
            return self._create_in_tx(tx, name, now, actor)
        except AlreadyExists:  # another writer created it first: use theirs
            return int(tx.model_row(name).id)

    def register_directory(self, name: str, directory: str | Path, **kwargs: Any) -> ModelVersion:
        """Upload every file under ``directory`` and register them as the next version."""
        root = Path(directory)
        if not root.is_dir():
            raise InvalidInput(f"{str(root)!r} is not a directory")
        entries = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            with path.open("rb") as handle:
                blob = self.upload_blob(handle)
            entries.append(FileEntry(path.relative_to(root).as_posix(), blob.digest, blob.size))
        return self.register_version(name, entries, **kwargs)

    def _create_in_tx(self, tx: WriteTx, name: str, now: int, actor: str) -> int:
        model_id = tx.insert_model(name, "", now)
        tx.add_event(at=now, actor=actor, action="create_model", model=name, after={})
        return model_id

    def _check_files(self, files: Iterable[FileEntry], stored: bool = False) -> list[FileEntry]:
        entries: dict[str, FileEntry] = {}
        for entry in files:
            known = stored and entry.size is not None  # from the index: path and blob checked
            path = entry.path if known else names.check_artifact_path(entry.path)
            if path in entries:
                raise InvalidInput(f"file {path!r} is listed twice")
            if known:
                entries[path] = entry
                continue
            try:
                size = self.blobs.size(entry.digest)
            except NotFound:
                raise InvalidInput(
                    f"file {path!r}: blob {entry.digest} has not been uploaded"
                ) from None
            if entry.size is not None and entry.size != size:
                raise InvalidInput(
                    f"file {path!r}: size {entry.size} does not match the stored {size} bytes"
                )
            entries[path] = FileEntry(path, entry.digest, size)
        return list(entries.values())

    def get_version(self, name: str, version: int | str) -> ModelVersion:
        number = names.check_version(version)
        with self.store.read() as conn:
            found = self.store.get_version(conn, name, number)
            if found is None:
                if self.store.get_model(conn, name) is None:
                    raise NotFound(f"registered model {name!r} does not exist")
                raise NotFound(f"model {name!r} has no version {number}")
        return found

    def search_versions(
        self,
        filter: str | None = None,
        order_by: list[str] | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        where = parse_filter(filter)
        order = parse_order_by(order_by)
        limit = check_max_results(max_results)
        offset = decode_token(page_token)
        with self.store.read() as conn:
            items = self.store.search_versions(conn, where, order, limit + 1, offset)
        return _page(items, limit, offset)

    def list_versions(self, name: str) -> list[ModelVersion]:
        self.get_model(name)
        where = Compare(Field("attr", "name"), "=", name)
        with self.store.read() as conn:
            return self.store.search_versions(conn, where, parse_order_by(["version"]), 10**9, 0)

    def update_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        description = names.check_description(description)
        with self.store.write() as tx:
            _, vrow = self._version_row(tx, name, version)
            now = now_ms()
            tx.update_version(vrow.id, description=description, updated_at=now)
            tx.add_event(
                at=now, actor=current_actor(), action="update_version", model=name,
                version=vrow.version, before={"description": vrow.description},
                after={"description": description},
            )  # fmt: skip
        return self.get_version(name, version)

    def delete_version(self, name: str, version: int | str) -> None:
        with self.store.write() as tx:
            _, vrow = self._version_row(tx, name, version)
            tx.delete_version(vrow.id)
            tx.add_event(
                at=now_ms(), actor=current_actor(), action="delete_version", model=name,
                version=vrow.version, before={"stage": vrow.stage, "source": vrow.source},
            )  # fmt: skip

    def set_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        key, value = names.check_tag(key, value)
        with self.store.write() as tx:
            _, vrow = self._version_row(tx, name, version)
            tx.set_version_values(t.version_tags, vrow.id, {key: value})
            tx.add_event(
                at=now_ms(), actor=current_actor(), action="set_version_tag", model=name,
                version=vrow.version, after={"key": key, "value": value},
            )  # fmt: skip

    def delete_version_tag(self, name: str, version: int | str, key: str) -> None:
        with self.store.write() as tx:
            _, vrow = self._version_row(tx, name, version)
            if not tx.delete_version_tag(vrow.id, key):
                raise NotFound(f"model {name!r} version {vrow.version} has no tag {key!r}")
            tx.add_event(
                at=now_ms(), actor=current_actor(), action="delete_version_tag", model=name,
                version=vrow.version, before={"key": key},
            )  # fmt: skip

    def log_metrics(self, name: str, version: int | str, metrics: Mapping[str, float]) -> None:
        clean = _check_metrics(metrics)
        with self.store.write() as tx:
            _, vrow = self._version_row(tx, name, version)
            tx.set_version_values(t.version_metrics, vrow.id, clean)
            tx.add_event(
                at=now_ms(), actor=current_actor(), action="log_metrics", model=name,
                version=vrow.version, after={"metrics": clean},
            )  # fmt: skip

    # ---- lifecycle ----------------------------------------------------------------------
    def transition_stage(
        self, name: str, version: int | str, stage: str | Stage, archive_existing: bool = False
    ) -> ModelVersion:
        """Move a version to ``stage``; with ``archive_existing`` the versions already in that
        stage become Archived in the same transaction."""
        target = Stage.parse(stage)
        if archive_existing and target not in ARCHIVABLE_TARGETS:
            raise InvalidInput(
                f"archive_existing applies only to Staging and Production, not {target.value}"
            )
        with self.store.write() as tx:
            self._transition(tx, name, version, target, archive_existing, "transition_stage")
        return self.get_version(name, version)

    def _transition(
        self,
        tx: WriteTx,
        name: str,
        version: int | str,
        target: Stage,
        archive_existing: bool,
        action: str,
    ) -> None:
        mrow, vrow = self._version_row(tx, name, version)
        if vrow.status != VersionStatus.READY.value:
            raise Conflict(f"model {name!r} version {vrow.version} is not READY ({vrow.status})")
        now = now_ms()
        actor = current_actor()
        if archive_existing:
            for other in tx.versions_in_stage(mrow.id, target):
                if other.id == vrow.id:
                    continue
                tx.update_version(other.id, stage=Stage.ARCHIVED.value, updated_at=now)
                tx.add_event(
                    at=now, actor=actor, action="transition_stage", model=name,
                    version=other.version, before={"stage": target.value},
                    after={"stage": Stage.ARCHIVED.value, "archived_by": vrow.version},
                )  # fmt: skip
        tx.update_version(vrow.id, stage=target.value, updated_at=now)
        tx.update_model(mrow.id, updated_at=now)
        tx.add_event(
            at=now, actor=actor, action=action, model=name, version=vrow.version,
            before={"stage": vrow.stage}, after={"stage": target.value},
        )  # fmt: skip

    def rollback(self, name: str, stage: str | Stage = Stage.PRODUCTION) -> ModelVersion:
        """Put back the version that held ``stage`` before the current one (archiving it)."""
        target = Stage.parse(stage)
        with self.store.write() as tx:
            mrow = self._model_row(tx, name)
            current = {r.version for r in tx.versions_in_stage(mrow.id, target)}
            moves = ("transition_stage", "rollback")
            history = self.store.events(tx.conn, name, None, 10**9, 0, actions=moves)
            previous = None
            for event in reversed(history):
                entered = (event.after or {}).get("stage") == target.value
                if (
                    entered
                    and event.version is not None
                    and event.version not in current
                    and tx.version_row(mrow.id, event.version) is not None
                ):
                    previous = event.version
                    break
            if previous is None:
                raise Conflict(
                    f"model {name!r} has no earlier {target.value} version to roll back to"
                )
            self._transition(tx, name, previous, target, True, "rollback")
        return self.get_version(name, previous)

    def set_alias(self, name: str, alias: str, version: int | str) -> ModelVersion:
        names.check_alias(alias)
        with self.store.write() as tx:
            mrow, vrow = self._version_row(tx, name, version)
            old = tx.alias_row(mrow.id, alias)
            tx.set_alias(mrow.id, alias, vrow.id)
            now = now_ms()
            tx.update_model(mrow.id, updated_at=now)
            tx.add_event(
                at=now, actor=current_actor(), action="set_alias", model=name,
                version=vrow.version,
                before={"alias": alias, "version": old.version} if old else None,
                after={"alias": alias, "version": vrow.version},
            )  # fmt: skip
        return self.get_version(name, version)

    def delete_alias(self, name: str, alias: str) -> None:
        with self.store.write() as tx:
            mrow = self._model_row(tx, name)
            old = tx.alias_row(mrow.id, alias)
            if old is None:
                raise NotFound(f"model {name!r} has no alias {alias!r}")
            tx.delete_alias(mrow.id, alias)
            tx.add_event(
                at=now_ms(), actor=current_actor(), action="delete_alias", model=name,
                version=old.version, before={"alias": alias, "version": old.version},
            )  # fmt: skip

    def record_event(
        self,
        name: str,
        version: int | str | None,
        action: str,
        details: Mapping[str, Any] | None = None,
    ) -> Event:
        """Write what another system observed (a scoring server refusing a version, a
        deployment) into the history; nothing else changes."""
        if action not in EXTERNAL_ACTIONS:
            valid = ", ".join(sorted(EXTERNAL_ACTIONS))
            raise InvalidInput(f"invalid event action {action!r}: expected one of {valid}")
        after = _plain_json(dict(details or {}), "event details")
        if len(repr(after)) > 10_000:
            raise InvalidInput("event details are larger than 10,000 characters")
        with self.store.write() as tx:
            if version is None:
                self._model_row(tx, name)
                number = None
            else:
                number = self._version_row(tx, name, version)[1].version
            return tx.add_event(
                at=now_ms(), actor=current_actor(), action=action, model=name,
                version=number, after=after,
            )  # fmt: skip

    # ---- resolution ---------------------------------------------------------------------
    def resolve(self, name: str, ref: str | int) -> ModelVersion:
        """``resolve("Iris", "Production")`` / ``3`` / ``"latest"`` / ``"@champion"``."""
        return self.resolve_ref(parse_ref(name, ref))

    def resolve_uri(self, uri: str) -> ModelVersion:
        """``models:/Iris/Production``, ``models:/Iris/3``, ``models:/Iris@champion``."""
        return self.resolve_ref(parse_model_uri(uri))

    def resolve_ref(self, ref: ModelRef) -> ModelVersion:
        if ref.kind == "version":
            return self.get_version(ref.name, ref.value)
        with self.store.read() as conn:
            if ref.kind == "alias" and (
                found := self.store.version_by_alias(conn, ref.name, ref.value)
            ):
                return found
            if ref.kind == "alias":
                number = self.store.alias_version(conn, ref.name, ref.value)
                missing = f"model {ref.name!r} has no alias {ref.value!r}"
            elif ref.kind == "latest":
                number = self.store.latest_version(conn, ref.name)
                missing = f"model {ref.name!r} has no READY version"
            else:
                number = self.store.latest_version(conn, ref.name, Stage(ref.value))
                missing = f"model {ref.name!r} has no version in stage {ref.value}"
            if number is None:
                if self.store.get_model(conn, ref.name) is None:
                    raise NotFound(f"registered model {ref.name!r} does not exist")
                raise NotFound(missing)
        return self.get_version(ref.name, number)

    # ---- history ------------------------------------------------------------------------
    def history(
        self,
        name: str,
        version: int | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Event]:
        number = None if version is None else names.check_version(version)
        limit = check_max_results(max_results, default=1000)
        offset = decode_token(page_token)
        with self.store.read() as conn:
            items = self.store.events(conn, name, number, limit + 1, offset)
            if not items and offset == 0 and self.store.get_model(conn, name) is None:
                raise NotFound(f"registered model {name!r} does not exist")
        return _page(items, limit, offset)

    # ---- helpers ------------------------------------------------------------------------
    def _model_row(self, tx: WriteTx, name: str) -> Any:
        names.check_model_name(name)
        row = tx.model_row(name)
        if row is None:
            raise NotFound(f"registered model {name!r} does not exist")
        return row

    def _version_row(self, tx: WriteTx, name: str, version: int | str) -> tuple[Any, Any]:
        number = names.check_version(version)
        mrow = self._model_row(tx, name)
        vrow = tx.version_row(mrow.id, number)
        if vrow is None:
            raise NotFound(f"model {name!r} has no version {number}")
        return mrow, vrow


def _page(items: list[T], limit: int, offset: int) -> Page[T]:
    if len(items) > limit:
        return Page(items[:limit], encode_token(offset + limit))
    return Page(items, None)


def _check_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    return dict(names.check_tag(k, v) for k, v in (tags or {}).items())


def _check_metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    clean: dict[str, float] = {}
    for key, value in (metrics or {}).items():
        names.check_tag(key)
        if isinstance(value, bool):
            raise InvalidInput(f"metric {key!r} must be a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"metric {key!r} must be a number, got {value!r}") from None
        if not math.isfinite(number):
            raise InvalidInput(f"metric {key!r} must be a finite number, got {value!r}")
        clean[key] = number
    return clean


def _check_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    clean: dict[str, str] = {}
    for key, value in (params or {}).items():
        names.check_tag(key)
        text = value if isinstance(value, str) else str(value)
        if len(text) > 6000:
            raise InvalidInput(f"param {key!r} is longer than 6000 characters")
        clean[key] = text
    return clean


def _plain_json(value: dict[str, Any], what: str) -> dict[str, Any]:
    """``value`` if it reads back exactly as written: text, finite numbers, 64-bit integers,
    at most 255 levels deep (history is read by every door, long after it was written)."""
    try:
        same = orjson.loads(orjson.dumps(value)) == value
    except orjson.JSONEncodeError:
        same = False
    if not same:
        raise InvalidInput(
            f"{what} must be plain JSON: text, finite numbers, 64-bit integers, at most 255 "
            "levels deep"
        )
    return value


__all__ = ["Registry"]
