"""The SQL metadata store: reads that build entities, and a write transaction of primitives.

It holds no rules: validation, stage logic and events are the service layer's job.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    Select,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy import exc as sa_exc

from registre.domain.entities import (
    Event,
    FileEntry,
    ModelVersion,
    RegisteredModel,
    Stage,
    VersionStatus,
)
from registre.domain.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    StorageFull,
    Unavailable,
)
from registre.domain.filters import Node, OrderBy
from registre.store.sql import search
from registre.store.sql import tables as t
from registre.store.sql.engine import (
    begin_sqlite,
    is_sqlite,
    make_engine,
    no_queue,
    upgrade,
    writer_queue,
)

_V = t.versions.c
log = logging.getLogger(__name__)
NOT_TEXT = "the request holds text that is not valid Unicode (a lone UTF-16 surrogate)"

# In the order _version() unpacks them (positional access is several times cheaper than by name).
_VERSION_COLUMNS = (
    t.models.c.name.label("model_name"),
    _V.version,
    _V.stage,
    _V.status,
    _V.description,
    _V.source,
    _V.run_id,
    _V.created_by,
    _V.created_at,
    _V.updated_at,
    _V.doc,
    _V.model_id,
)
_INSERT_VERSIONS = insert(t.versions).returning(_V.id, sort_by_parameter_order=True)
_INSERT_EVENT = insert(t.events).returning(t.events.c.id)
_INSERT_EVENTS = insert(t.events)
_INSERT_FILES = insert(t.version_files)
_INSERT_VALUES = (insert(t.version_metrics), insert(t.version_params), insert(t.version_tags))
_ALLOCATE_BY_NAME = (
    update(t.models)
    .where(t.models.c.name == bindparam("model_name"))
    .values(last_version=t.models.c.last_version + bindparam("count"), updated_at=bindparam("now"))
    .returning(t.models.c.id, t.models.c.last_version)
)
_STAGES = {s.value: s for s in Stage}
_STATUSES = {s.value: s for s in VersionStatus}
_MODEL_BY_NAME = select(t.models).where(t.models.c.name == bindparam("name"))
_VERSION = (
    select(*_VERSION_COLUMNS)
    .join(t.models, t.models.c.id == _V.model_id)
    .where(t.models.c.name == bindparam("name"), _V.version == bindparam("version"))
)
_VERSION_BY_ALIAS = (
    select(*_VERSION_COLUMNS)
    .join(t.models, t.models.c.id == _V.model_id)
    .join(t.aliases, t.aliases.c.version_id == _V.id)
    .where(t.models.c.name == bindparam("name"), t.aliases.c.alias == bindparam("alias"))
)
_ALIAS_TARGET = (
    select(_V.version)
    .join(t.aliases, t.aliases.c.version_id == _V.id)
    .join(t.models, t.models.c.id == t.aliases.c.model_id)
    .where(t.models.c.name == bindparam("name"), t.aliases.c.alias == bindparam("alias"))
)
# Newest version per (model, stage): the "latest_versions" MLflow clients expect.
_NEWEST = (
    select(_V.model_id, _V.stage, func.max(_V.version).label("version"))
    .where(_V.model_id.in_(bindparam("ids", expanding=True)))
    .group_by(_V.model_id, _V.stage)
    .subquery()
)
_LATEST_PER_STAGE = (
    select(*_VERSION_COLUMNS)
    .join(t.models, t.models.c.id == _V.model_id)
    .join(
        _NEWEST,
        (_NEWEST.c.model_id == _V.model_id)
        & (_NEWEST.c.stage == _V.stage)
        & (_NEWEST.c.version == _V.version),
    )
)


def _out_of_space(exc: sa_exc.OperationalError) -> bool:
    """SQLite's "database or disk is full"; PostgreSQL's disk_full (SQLSTATE 53100)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate == "53100" or "database or disk is full" in str(exc.orig)


def _version(row: Any) -> ModelVersion:
    """A version entity from a row of ``_VERSION_COLUMNS`` (a search builds thousands)."""
    (name, number, stage, status, description, source, run_id, created_by, created_at,
     updated_at, doc_text, _model_id) = row  # fmt: skip
    doc = orjson.loads(doc_text)
    return ModelVersion(
        name,
        number,
        _STAGES[stage],
        _STATUSES[status],
        description,
        source,
        run_id,
        created_by,
        created_at,
        updated_at,
        doc.get("tags", {}),
        doc.get("aliases", []),
        doc.get("metrics", {}),
        doc.get("params", {}),
        [FileEntry(*f) for f in doc.get("files", ())],
    )


# Searches repeat (dashboards, CD jobs, clients paging): a statement built once per filter
# and order skips rebuilding and re-keying it, which costs more than a short query. The repr
# in the key keeps 1 and 1.0 (equal, and equally hashed) apart.
@functools.lru_cache(maxsize=512)
def _version_search(_key: str, where: Node | None, order: tuple[OrderBy, ...]) -> Select[Any]:
    return (
        select(*_VERSION_COLUMNS)
        .join(t.models, t.models.c.id == _V.model_id)
        .where(search.version_condition(where))
        .order_by(*search.version_order(list(order)))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


@functools.lru_cache(maxsize=512)
def _model_search(_key: str, where: Node | None, order: tuple[OrderBy, ...]) -> Select[Any]:
    return (
        select(t.models)
        .where(search.model_condition(where))
        .order_by(*search.model_order(list(order)))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


class SqlStore:
    def __init__(self, url: str, *, migrate: bool = True, pool_size: int = 8) -> None:
        if migrate:
            upgrade(url)
        self.url = url
        self.engine: Engine = make_engine(url, pool_size=pool_size)
        self._sqlite = is_sqlite(self.engine)
        self._queue = writer_queue(self.engine)
        self._turn = self._queue.turn if self._queue is not None else no_queue

    @property
    def local_reads(self) -> bool:
        return is_sqlite(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        if self._queue is not None:
            self._queue.close()

    def write_turn(self, wait: bool = True) -> AbstractContextManager[bool]:
        """This process's turn at the database's writer (reentrant: ``write`` inside it takes
        no second turn); yields True. ``wait=False`` yields False at once if another thread
        or process has the turn. Always True where the database admits concurrent writers."""
        return self._turn(wait)

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        """One write transaction; commits on success, rolls back on any exception."""
        try:
            # The turn before the connection, always: a group commit holds the turn while its
            # batch checks out connections, so a writer waiting for the turn must hold none
            # (the other order let waiters take the whole pool and the turn's holder starve).
            with self._turn(), self.engine.connect() as conn, conn.begin():
                if self._sqlite:
                    begin_sqlite(conn, immediate=True)
                yield WriteTx(conn)
        except sa_exc.IntegrityError as exc:
            # The database's text names tables and constraints: log it, do not send it.
            log.info("write rejected by the database: %s", exc.orig)
            raise Conflict("the change conflicts with existing data; retry or re-read") from None
        except sa_exc.OperationalError as exc:
            if "database is locked" in str(exc) or "deadlock" in str(exc).lower():
                raise Unavailable("the database is busy; retry the request") from None
            if _out_of_space(exc):
                log.error("write failed, no space left: %s", exc.orig)
                raise StorageFull("the database is out of space; nothing was written") from None
            raise
        except (UnicodeEncodeError, sa_exc.StatementError) as exc:
            _raise_if_not_text(exc)
            raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                if self._sqlite:  # one snapshot for every statement of the read
                    begin_sqlite(conn)
                yield conn
        except (UnicodeEncodeError, sa_exc.StatementError) as exc:
            _raise_if_not_text(exc)
            raise

    # ---- reads -------------------------------------------------------------------------
    # Hot reads use statements built once with bind parameters: building a select() per call
    # costs more than running it.
    def get_model(self, conn: Connection, name: str) -> RegisteredModel | None:
        row = conn.execute(_MODEL_BY_NAME, {"name": name}).first()
        if row is None:
            return None
        return self._models(conn, [row])[0]

    def _models(self, conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        by_model: dict[int, list[ModelVersion]] = defaultdict(list)
        for r in conn.execute(_LATEST_PER_STAGE, {"ids": ids}):
            by_model[r.model_id].append(_version(r))
        result = []
        for r in rows:
            doc = orjson.loads(r.doc)
            versions = sorted(by_model.get(r.id, []), key=lambda v: v.version)
            result.append(
                RegisteredModel(
                    name=r.name,
                    description=r.description,
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                    tags=doc.get("tags", {}),
                    aliases=doc.get("aliases", {}),
                    latest_version=max((v.version for v in versions), default=None),
                    latest_versions=versions,
                )
            )
        return result

    def search_models(
        self, conn: Connection, where: Node | None, order: list[OrderBy], limit: int, offset: int
    ) -> list[RegisteredModel]:
        query = _model_search(repr(where), where, tuple(order))
        rows = conn.execute(query, {"limit": limit, "offset": offset}).all()
        return self._models(conn, rows)

    def version_id(self, conn: Connection, name: str, version: int) -> int | None:
        row = conn.execute(_VERSION, {"name": name, "version": version}).first()
        return None if row is None else row.id

    def get_version(self, conn: Connection, name: str, version: int) -> ModelVersion | None:
        row = conn.execute(_VERSION, {"name": name, "version": version}).first()
        return None if row is None else _version(row)

    def alias_version(self, conn: Connection, name: str, alias: str) -> int | None:
        return conn.execute(_ALIAS_TARGET, {"name": name, "alias": alias}).scalar()

    def version_by_alias(self, conn: Connection, name: str, alias: str) -> ModelVersion | None:
        row = conn.execute(_VERSION_BY_ALIAS, {"name": name, "alias": alias}).first()
        return None if row is None else _version(row)

    def latest_version(
        self, conn: Connection, name: str, stage: Stage | None = None, ready_only: bool = True
    ) -> int | None:
        query = (
            select(func.max(_V.version))
            .join(t.models, t.models.c.id == _V.model_id)
            .where(t.models.c.name == name)
        )
        if stage is not None:
            query = query.where(_V.stage == stage.value)
        if ready_only:
            query = query.where(_V.status == VersionStatus.READY.value)
        return conn.execute(query).scalar()

    def search_versions(
        self, conn: Connection, where: Node | None, order: list[OrderBy], limit: int, offset: int
    ) -> list[ModelVersion]:
        query = _version_search(repr(where), where, tuple(order))
        rows = conn.execute(query, {"limit": limit, "offset": offset})
        return [_version(r) for r in rows]

    def version_files(self, conn: Connection, name: str, version: int) -> list[FileEntry]:
        found = self.get_version(conn, name, version)
        return [] if found is None else found.files

    def events(
        self,
        conn: Connection,
        model: str | None,
        version: int | None,
        limit: int,
        offset: int,
        actions: tuple[str, ...] = (),
    ) -> list[Event]:
        query = select(t.events)
        if actions:
            query = query.where(t.events.c.action.in_(actions))
        if model is not None:
            query = query.where(t.events.c.model == model)
        if version is not None:
            query = query.where(t.events.c.version == version)
        rows = conn.execute(query.order_by(t.events.c.id).limit(limit).offset(offset))
        return [
            Event(r.id, r.at, r.actor, r.action, r.model, r.version, r.before, r.after)
            for r in rows
        ]

    def referenced_digests(self, conn: Connection) -> set[str]:
        return set(conn.execute(select(t.version_files.c.digest).distinct()).scalars())


def _raise_if_not_text(exc: BaseException) -> None:
    """Text the database cannot encode (a lone UTF-16 surrogate, from an escaped JSON string
    or an undecodable file name) is the caller's input, not a fault here."""
    if isinstance(exc, UnicodeEncodeError) or isinstance(
        getattr(exc, "orig", None), UnicodeEncodeError
    ):
        raise InvalidInput(NOT_TEXT) from None


def _version_doc(
    tags: dict[str, str],
    metrics: dict[str, float],
    params: dict[str, str],
    aliases: list[str],
    files: list[list[Any]],
) -> str:
    """A version's read document (what ``_version`` reads back), as stored on its row."""
    doc = {"tags": tags, "metrics": metrics, "params": params, "aliases": aliases, "files": files}
    try:
        return orjson.dumps(doc).decode()
    except orjson.JSONEncodeError:  # only text can fail here (numbers are finite or null)
        raise InvalidInput(NOT_TEXT) from None


@dataclass(frozen=True, slots=True)
class NewVersion:
    """A version to insert: its row, and the files, metrics, params and tags it comes with
    (``files`` sorted by path). Its model and number are given in the transaction."""

    status: str
    description: str
    source: str
    run_id: str | None
    created_by: str | None
    now: int
    files: tuple[FileEntry, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewEvent:
    at: int
    actor: str
    action: str
    model: str
    version: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


class VersionRows:
    """A new version's rows and its history event, built before its transaction so the write
    lock is held for the SQL alone; the transaction fills in the model, the number and ids."""

    __slots__ = ("event", "files", "values", "version")

    def __init__(self, new: NewVersion, event: NewEvent) -> None:
        files = [[f.path, f.digest, f.size] for f in new.files]
        self.version: dict[str, Any] = {
            "model_id": None,
            "version": None,
            "stage": Stage.NONE.value,
            "status": new.status,
            "description": new.description,
            "source": new.source,
            "run_id": new.run_id,
            "created_by": new.created_by,
            "created_at": new.now,
            "updated_at": new.now,
            "doc": _version_doc(new.tags, new.metrics, new.params, [], files),
        }
        self.files = [
            {"version_id": None, "path": f.path, "digest": f.digest, "size": f.size}
            for f in new.files
        ]
        # in the order of _INSERT_VALUES
        self.values = [
            [{"version_id": None, "key": k, "value": v} for k, v in values.items()]
            for values in (new.metrics, new.params, new.tags)
        ]
        self.event = {"at": event.at, "actor": event.actor, "action": event.action,
                      "model": event.model, "version": None, "before": event.before,
                      "after": event.after}  # fmt: skip

    def numbered(self, model_id: int, number: int) -> VersionRows:
        self.version["model_id"] = model_id
        self.version["version"] = number
        self.event["version"] = number
        return self


class WriteTx:
    """Mutation primitives inside one transaction (see SqlStore.write)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def model_row(self, name: str) -> Any:
        query = select(t.models).where(t.models.c.name == name)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return self.conn.execute(query).first()

    def insert_model(self, name: str, description: str, now: int) -> int:
        try:
            with self.conn.begin_nested():
                return self.conn.execute(
                    insert(t.models)
                    .values(
                        name=name,
                        description=description,
                        created_at=now,
                        updated_at=now,
                        last_version=0,
                        doc="{}",
                    )
                    .returning(t.models.c.id)
                ).scalar_one()
        except sa_exc.IntegrityError:
            raise AlreadyExists(f"registered model {name!r} already exists") from None

    def update_model(self, model_id: int, **values: Any) -> None:
        self.conn.execute(update(t.models).where(t.models.c.id == model_id).values(**values))

    def delete_model(self, model_id: int) -> None:
        self.conn.execute(delete(t.models).where(t.models.c.id == model_id))

    def rename_history(self, old: str, new: str) -> None:
        self.conn.execute(update(t.events).where(t.events.c.model == old).values(model=new))

    def set_model_tags(self, model_id: int, tags: dict[str, str]) -> None:
        if tags:
            upsert_values(self.conn, t.model_tags, "model_id", model_id, tags)
            self.refresh_model_doc(model_id)

    def delete_model_tag(self, model_id: int, key: str) -> bool:
        result = self.conn.execute(
            delete(t.model_tags).where(
                t.model_tags.c.model_id == model_id, t.model_tags.c.key == key
            )
        )
        self.refresh_model_doc(model_id)
        return bool(result.rowcount)

    def refresh_model_doc(self, model_id: int) -> None:
        """Rewrite the model's read document from its tag and alias rows."""
        tags = {
            r.key: r.value
            for r in self.conn.execute(
                select(t.model_tags).where(t.model_tags.c.model_id == model_id)
            )
        }
        aliases = {
            r.alias: r.version
            for r in self.conn.execute(
                select(t.aliases.c.alias, _V.version)
                .join(t.versions, _V.id == t.aliases.c.version_id)
                .where(t.aliases.c.model_id == model_id)
                .order_by(t.aliases.c.alias)
            )
        }
        doc = orjson.dumps({"tags": tags, "aliases": aliases}).decode()
        self.conn.execute(update(t.models).where(t.models.c.id == model_id).values(doc=doc))

    def refresh_version_doc(self, version_id: int) -> None:
        """Rewrite the version's read document from its tag, metric, param, alias, file rows."""
        tags, metrics, params = (
            {
                r.key: r.value
                for r in self.conn.execute(select(table).where(table.c.version_id == version_id))
            }
            for table in (t.version_tags, t.version_metrics, t.version_params)
        )
        aliases = list(
            self.conn.execute(
                select(t.aliases.c.alias)
                .where(t.aliases.c.version_id == version_id)
                .order_by(t.aliases.c.alias)
            ).scalars()
        )
        files = [
            [r.path, r.digest, r.size]
            for r in self.conn.execute(
                select(t.version_files)
                .where(t.version_files.c.version_id == version_id)
                .order_by(t.version_files.c.path)
            )
        ]
        doc = _version_doc(tags, metrics, params, aliases, files)
        self.conn.execute(update(t.versions).where(_V.id == version_id).values(doc=doc))

    def allocate_version(self, model_id: int, now: int) -> int:
        """Next version number; the row update serialises concurrent writers on this model."""
        return self.conn.execute(
            update(t.models)
            .where(t.models.c.id == model_id)
            .values(last_version=t.models.c.last_version + 1, updated_at=now)
            .returning(t.models.c.last_version)
        ).scalar_one()

    def allocate_versions_of(self, name: str, count: int, now: int) -> tuple[int, int] | None:
        """(model id, first of ``count`` consecutive new version numbers) of the model called
        ``name``, in one statement (the hot path of registration); None if there is no such
        model."""
        row = self.conn.execute(
            _ALLOCATE_BY_NAME, {"model_name": name, "count": count, "now": now}
        ).first()
        return None if row is None else (row[0], row[1] - count + 1)

    def claim_version(self, model_id: int, number: int, now: int) -> int | None:
        """Take ``number`` if no version at or above it was ever allocated; the numbers
        skipped in between are never handed out (like deleted ones). None if too late."""
        return self.conn.execute(
            update(t.models)
            .where(t.models.c.id == model_id, t.models.c.last_version < number)
            .values(last_version=number, updated_at=now)
            .returning(t.models.c.last_version)
        ).scalar()

    def insert_versions(self, versions: Sequence[VersionRows]) -> list[int]:
        """Insert numbered versions with their files, metrics, params, tags and history
        events: one statement per table however many versions (a group commit writes
        several). Returns their ids."""
        if not versions:
            return []
        if len(versions) == 1:
            ids = [self.conn.execute(_INSERT_VERSIONS, versions[0].version).scalar_one()]
        else:
            ids = list(self.conn.execute(_INSERT_VERSIONS, [v.version for v in versions]).scalars())
        files: list[dict[str, Any]] = []
        values: list[list[dict[str, Any]]] = [[] for _ in _INSERT_VALUES]
        for vid, v in zip(ids, versions, strict=True):
            for row in v.files:
                row["version_id"] = vid
            files.extend(v.files)
            for rows, into in zip(v.values, values, strict=True):
                for value_row in rows:
                    value_row["version_id"] = vid
                into.extend(rows)
        if files:
            self.conn.execute(_INSERT_FILES, files)
        for statement, rows in zip(_INSERT_VALUES, values, strict=True):
            if rows:
                self.conn.execute(statement, rows)
        self.conn.execute(_INSERT_EVENTS, [v.event for v in versions])
        return ids

    def add_files(self, version_id: int, files: Iterable[FileEntry]) -> None:
        self._insert_files(version_id, files)
        self.refresh_version_doc(version_id)

    def _insert_files(self, version_id: int, files: Iterable[FileEntry]) -> None:
        rows = [
            {"version_id": version_id, "path": f.path, "digest": f.digest, "size": f.size}
            for f in files
        ]
        if rows:
            self.conn.execute(insert(t.version_files), rows)

    def version_row(self, model_id: int, version: int) -> Any:
        return self.conn.execute(
            select(t.versions).where(_V.model_id == model_id, _V.version == version)
        ).first()

    def versions_in_stage(self, model_id: int, stage: Stage) -> Sequence[Any]:
        return self.conn.execute(
            select(_V.id, _V.version).where(_V.model_id == model_id, _V.stage == stage.value)
        ).all()

    def update_version(self, version_id: int, **values: Any) -> None:
        self.conn.execute(update(t.versions).where(_V.id == version_id).values(**values))

    def delete_version(self, version_id: int) -> None:
        model_id = self.conn.execute(select(_V.model_id).where(_V.id == version_id)).scalar()
        self.conn.execute(delete(t.versions).where(_V.id == version_id))
        if model_id is not None:  # its aliases went with it
            self.refresh_model_doc(model_id)

    def set_version_values(self, table: Any, version_id: int, values: dict[str, Any]) -> None:
        upsert_values(self.conn, table, "version_id", version_id, values)
        self.refresh_version_doc(version_id)

    def delete_version_tag(self, version_id: int, key: str) -> bool:
        result = self.conn.execute(
            delete(t.version_tags).where(
                t.version_tags.c.version_id == version_id, t.version_tags.c.key == key
            )
        )
        self.refresh_version_doc(version_id)
        return bool(result.rowcount)

    def alias_row(self, model_id: int, alias: str) -> Any:
        return self.conn.execute(
            select(t.aliases.c.version_id, _V.version)
            .join(t.versions, _V.id == t.aliases.c.version_id)
            .where(t.aliases.c.model_id == model_id, t.aliases.c.alias == alias)
        ).first()

    def set_alias(self, model_id: int, alias: str, version_id: int) -> None:
        old = self.alias_row(model_id, alias)
        self.conn.execute(
            delete(t.aliases).where(t.aliases.c.model_id == model_id, t.aliases.c.alias == alias)
        )
        self.conn.execute(
            insert(t.aliases).values(model_id=model_id, alias=alias, version_id=version_id)
        )
        if old is not None and old.version_id != version_id:
            self.refresh_version_doc(old.version_id)
        self.refresh_version_doc(version_id)
        self.refresh_model_doc(model_id)

    def delete_alias(self, model_id: int, alias: str) -> None:
        old = self.alias_row(model_id, alias)
        self.conn.execute(
            delete(t.aliases).where(t.aliases.c.model_id == model_id, t.aliases.c.alias == alias)
        )
        if old is not None:
            self.refresh_version_doc(old.version_id)
        self.refresh_model_doc(model_id)

    def add_event(
        self,
        *,
        at: int,
        actor: str,
        action: str,
        model: str,
        version: int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> Event:
        event_id = self.conn.execute(
            _INSERT_EVENT,
            {"at": at, "actor": actor, "action": action, "model": model, "version": version,
             "before": before, "after": after},
        ).scalar_one()  # fmt: skip
        return Event(event_id, at, actor, action, model, version, before, after)


def upsert_values(
    conn: Connection, table: Any, owner: str, owner_id: Any, values: dict[str, Any]
) -> None:
    """Insert or replace (owner, key) → value rows."""
    if not values:
        return
    owner_col = table.c[owner]
    conn.execute(delete(table).where(owner_col == owner_id, table.c.key.in_(list(values))))
    conn.execute(
        insert(table), [{owner: owner_id, "key": k, "value": v} for k, v in values.items()]
    )


__all__ = ["Conflict", "NewEvent", "NewVersion", "SqlStore", "VersionRows", "WriteTx"]
