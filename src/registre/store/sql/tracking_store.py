"""SQL queries for tracking: rows in, entities out. No rules (they live in service.tracking).

Every method takes the connection of the caller's transaction (``SqlStore.read()`` or
``WriteTx.conn``), so tracking writes share one transaction with their event.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy import exc as sa_exc

from registre.domain.tracking import (
    ArtifactEntry,
    ArtifactRoot,
    Experiment,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    Run,
    RunStatus,
    model_artifact_root,
    run_artifact_root,
)
from registre.store.sql import tracking_tables as tt

_E = tt.experiments.c
_R = tt.runs.c
_L = tt.logged_models.c
_A = tt.artifacts.c

# Hot reads (every registration from a run or logged model), built once with bind parameters.
_RUN = select(tt.runs).where(_R.id == bindparam("id"))
_LOGGED_MODEL = select(tt.logged_models).where(_L.id == bindparam("id"))
_ENTRIES = (
    select(_A.path, _A.digest, _A.size)
    .where(_A.root_kind == bindparam("kind"), _A.root_id == bindparam("root"))
    .order_by(_A.path)
)
# Prefix match without LIKE, so '%' and '_' in paths are literal.
_ENTRIES_UNDER = _ENTRIES.where(
    or_(
        _A.path == bindparam("path"),
        func.substr(_A.path, 1, bindparam("prefix_length")) == bindparam("prefix"),
    )
)


def keyed_values(
    conn: Connection, table: Any, owner: str, ids: Sequence[Any]
) -> dict[Any, dict[str, str]]:
    found: dict[Any, dict[str, str]] = defaultdict(dict)
    if ids:
        for r in conn.execute(select(table).where(table.c[owner].in_(list(ids)))):
            found[r._mapping[owner]][r.key] = r.value
    return found


def _stored(value: float) -> dict[str, Any]:
    return (
        {"value": 0.0, "is_nan": True} if math.isnan(value) else {"value": value, "is_nan": False}
    )


def _loaded(row: Any) -> float:
    return math.nan if row.is_nan else float(row.value)


def delete_value(conn: Connection, table: Any, owner: str, owner_id: Any, key: str) -> bool:
    result = conn.execute(delete(table).where(table.c[owner] == owner_id, table.c.key == key))
    return bool(result.rowcount)


# ---- experiments --------------------------------------------------------------------------
def insert_experiment(conn: Connection, name: str, now: int) -> str | None:
    """The new experiment's id, or None when another writer just took ``name``."""
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(tt.experiments)
                .values(name=name, artifact_location="", lifecycle_stage="active",
                        created_at=now, updated_at=now)
                .returning(_E.id)
            ).scalar_one()  # fmt: skip
    except sa_exc.IntegrityError:
        return None
    conn.execute(
        update(tt.experiments)
        .where(_E.id == new_id)
        .values(artifact_location=f"mlflow-artifacts:/{new_id}")
    )
    return str(new_id)


def experiment_row(conn: Connection, experiment_id: str) -> Any:
    return conn.execute(select(tt.experiments).where(_E.id == int(experiment_id))).first()


def experiment_id_by_name(conn: Connection, name: str) -> str | None:
    found = conn.execute(select(_E.id).where(_E.name == name)).scalar()
    return None if found is None else str(found)


def update_experiment(conn: Connection, experiment_id: str, **values: Any) -> None:
    conn.execute(update(tt.experiments).where(_E.id == int(experiment_id)).values(**values))


def experiments(conn: Connection, rows: Sequence[Any]) -> list[Experiment]:
    tags = keyed_values(conn, tt.experiment_tags, "experiment_id", [r.id for r in rows])
    return [
        Experiment(
            id=str(r.id),
            name=r.name,
            artifact_location=r.artifact_location,
            lifecycle_stage=r.lifecycle_stage,
            created_at=r.created_at,
            updated_at=r.updated_at,
            tags=tags.get(r.id, {}),
        )
        for r in rows
    ]


def search_experiments(
    conn: Connection, stages: tuple[str, ...], name_like: str | None, order: list[Any],
    limit: int | None, offset: int,
) -> list[Experiment]:  # fmt: skip
    """Experiments in ``stages`` by ``order``; ``limit`` None: all of them."""
    query = select(tt.experiments).where(_E.lifecycle_stage.in_(stages))
    if name_like is not None:
        query = query.where(_E.name.like(name_like))
    rows = conn.execute(query.order_by(*order, _E.id.asc()).limit(limit).offset(offset)).all()
    return experiments(conn, rows)


# ---- runs ---------------------------------------------------------------------------------
def insert_run(conn: Connection, **values: Any) -> None:
    conn.execute(insert(tt.runs).values(**values))


def run_row(conn: Connection, run_id: str, *, lock: bool = False) -> Any:
    """The run's row; with ``lock`` (PostgreSQL) concurrent writers to one run take turns, so
    params and latest metrics are read and written consistently. SQLite writers always do."""
    query = _RUN
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query, {"id": run_id}).first()


def update_run(conn: Connection, run_id: str, **values: Any) -> None:
    conn.execute(update(tt.runs).where(_R.id == run_id).values(**values))


def run_ids(
    conn: Connection,
    experiment_ids: list[str],
    stages: tuple[str, ...],
    where: Sequence[Any] = (),
) -> list[str]:
    """Ids of the runs in ``experiment_ids`` (newest first), optionally narrowed by ``where``."""
    rows = conn.execute(
        select(_R.id)
        .where(_R.experiment_id.in_([int(e) for e in experiment_ids]))
        .where(_R.lifecycle_stage.in_(stages), *where)
        .order_by(_R.start_time.desc(), _R.id.asc())
    )
    return list(rows.scalars())


def runs(conn: Connection, ids: Sequence[str]) -> list[Run]:
    """Full runs (params, tags, latest metrics, outputs) for ``ids``, in that order."""
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(select(tt.runs).where(_R.id.in_(list(ids))))}
    params = keyed_values(conn, tt.run_params, "run_id", ids)
    tags = keyed_values(conn, tt.run_tags, "run_id", ids)
    metrics: dict[str, list[Metric]] = defaultdict(list)
    for m in conn.execute(
        select(tt.run_latest_metrics)
        .where(tt.run_latest_metrics.c.run_id.in_(list(ids)))
        .order_by(tt.run_latest_metrics.c.key)
    ):
        metrics[m.run_id].append(Metric(m.key, _loaded(m), m.timestamp, m.step, run_id=m.run_id))
    outputs: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for o in conn.execute(select(tt.run_outputs).where(tt.run_outputs.c.run_id.in_(list(ids)))):
        outputs[o.run_id].append((o.model_id, o.step))
    inputs: dict[str, list[str]] = defaultdict(list)
    for i in conn.execute(select(tt.run_inputs).where(tt.run_inputs.c.run_id.in_(list(ids)))):
        inputs[i.run_id].append(i.model_id)
    datasets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    d = tt.run_datasets.c
    for row in conn.execute(
        select(tt.run_datasets).where(d.run_id.in_(list(ids))).order_by(d.position)
    ):
        datasets[row.run_id].append(row.body)
    result = []
    for run_id in ids:
        r = rows.get(run_id)
        if r is None:
            continue
        result.append(
            Run(
                id=r.id,
                experiment_id=str(r.experiment_id),
                name=r.name,
                user_id=r.user_id,
                status=RunStatus(r.status),
                start_time=r.start_time,
                end_time=r.end_time,
                lifecycle_stage=r.lifecycle_stage,
                artifact_uri=run_artifact_root(str(r.experiment_id), r.id).uri,
                params=params.get(r.id, {}),
                tags=tags.get(r.id, {}),
                metrics=metrics.get(r.id, []),
                outputs=sorted(outputs.get(r.id, [])),
                inputs=sorted(inputs.get(r.id, [])),
                datasets=datasets.get(r.id, []),
            )
        )
    return result


def insert_metrics(conn: Connection, run_id: str, points: list[Metric]) -> None:
    """Record ``points``; a point logged again (same key, value, timestamp, step) is not
    duplicated, it only gains the model id and dataset it is now linked to."""
    m = tt.run_metrics.c
    fresh = []
    for p in points:
        stored = _stored(p.value)
        same = and_(
            m.run_id == run_id, m.key == p.key, m.timestamp == p.timestamp, m.step == p.step,
            m.value == stored["value"], m.is_nan == stored["is_nan"],
        )  # fmt: skip
        row = conn.execute(select(m.id, m.model_id, m.dataset_name).where(same)).first()
        if row is None:
            fresh.append(p)
            continue
        gained: dict[str, Any] = {}
        if p.model_id and not row.model_id:
            gained["model_id"] = p.model_id
        if p.dataset_name and not row.dataset_name:
            gained.update(dataset_name=p.dataset_name, dataset_digest=p.dataset_digest)
        if gained:
            conn.execute(update(tt.run_metrics).where(m.id == row.id).values(**gained))
    if fresh:
        conn.execute(
            insert(tt.run_metrics),
            [
                {"run_id": run_id, "key": p.key, **_stored(p.value), "timestamp": p.timestamp,
                 "step": p.step, "model_id": p.model_id, "dataset_name": p.dataset_name,
                 "dataset_digest": p.dataset_digest}
                for p in fresh
            ],
        )  # fmt: skip


def _point(row: Any) -> Metric:
    return Metric(
        row.key, _loaded(row), row.timestamp, row.step, row.model_id, row.run_id,
        row.dataset_name, row.dataset_digest,
    )  # fmt: skip


def latest_metrics(conn: Connection, run_id: str, keys: Iterable[str]) -> dict[str, Metric]:
    rows = conn.execute(
        select(tt.run_latest_metrics).where(
            tt.run_latest_metrics.c.run_id == run_id,
            tt.run_latest_metrics.c.key.in_(list(keys)),
        )
    )
    return {r.key: Metric(r.key, _loaded(r), r.timestamp, r.step) for r in rows}


def set_latest_metrics(conn: Connection, run_id: str, latest: dict[str, Metric]) -> None:
    if not latest:
        return
    table = tt.run_latest_metrics
    conn.execute(delete(table).where(table.c.run_id == run_id, table.c.key.in_(list(latest))))
    conn.execute(
        insert(table),
        [
            {"run_id": run_id, "key": m.key, **_stored(m.value), "timestamp": m.timestamp,
             "step": m.step}
            for m in latest.values()
        ],
    )  # fmt: skip


def metric_history(conn: Connection, run_id: str, key: str) -> list[Metric]:
    m = tt.run_metrics.c
    rows = conn.execute(
        select(tt.run_metrics)
        .where(m.run_id == run_id, m.key == key)
        .order_by(m.step, m.timestamp, m.id)
    )
    return [_point(r) for r in rows]


def upsert_output(conn: Connection, table: Any, run_id: str, values: dict[str, Any]) -> None:
    keys = [table.c.run_id == run_id, table.c.model_id == values["model_id"]]
    conn.execute(delete(table).where(*keys))
    conn.execute(insert(table).values(run_id=run_id, **values))


def put_datasets(conn: Connection, run_id: str, inputs: list[dict[str, Any]], now: int) -> None:
    """Record dataset inputs; one logged again (same name and digest) is replaced."""
    d = tt.run_datasets.c
    for offset, body in enumerate(inputs):
        dataset = body["dataset"]
        key = (d.run_id == run_id, d.name == dataset["name"], d.digest == dataset["digest"])
        conn.execute(delete(tt.run_datasets).where(*key))
        conn.execute(
            insert(tt.run_datasets).values(
                run_id=run_id, name=dataset["name"], digest=dataset["digest"],
                position=now * 1000 + offset, body=body,
            )
        )  # fmt: skip


# ---- logged models ------------------------------------------------------------------------
def insert_logged_model(conn: Connection, **values: Any) -> None:
    conn.execute(insert(tt.logged_models).values(**values))


def logged_model_row(conn: Connection, model_id: str, *, lock: bool = False) -> Any:
    """The logged model's row; with ``lock`` (PostgreSQL) writers of its tags take turns."""
    query = _LOGGED_MODEL
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query, {"id": model_id}).first()


def update_logged_model(conn: Connection, model_id: str, **values: Any) -> None:
    conn.execute(update(tt.logged_models).where(_L.id == model_id).values(**values))


def logged_models(conn: Connection, rows: Sequence[Any]) -> list[LoggedModel]:
    ids = [r.id for r in rows]
    tags = keyed_values(conn, tt.logged_model_tags, "model_id", ids)
    params = keyed_values(conn, tt.logged_model_params, "model_id", ids)
    # The latest point of each (key, dataset): rows come oldest first, so later ones replace
    # earlier ones and each entry remembers how recent it is.
    metrics: dict[str, dict[tuple[str, str | None, str | None], tuple[int, Metric]]]
    metrics = defaultdict(dict)
    if ids:
        m = tt.run_metrics.c
        points = conn.execute(
            select(tt.run_metrics).where(m.model_id.in_(ids)).order_by(m.step, m.timestamp, m.id)
        )
        for rank, p in enumerate(points):
            metrics[p.model_id][(p.key, p.dataset_name, p.dataset_digest)] = (rank, _point(p))
    return [
        LoggedModel(
            id=r.id,
            experiment_id=str(r.experiment_id),
            name=r.name,
            artifact_uri=model_artifact_root(str(r.experiment_id), r.id).uri,
            status=LoggedModelStatus(r.status),
            source_run_id=r.source_run_id,
            model_type=r.model_type,
            status_message=r.status_message,
            created_at=r.created_at,
            updated_at=r.updated_at,
            lifecycle_stage=r.lifecycle_stage,
            tags=tags.get(r.id, {}),
            params=params.get(r.id, {}),
            metrics=_by_key(metrics.get(r.id, {}).values()),
        )
        for r in rows
    ]


def _by_key(ranked: Iterable[tuple[int, Metric]]) -> list[Metric]:
    """Points ordered by key, then oldest to newest."""
    return [point for _, point in sorted(ranked, key=lambda item: (item[1].key, item[0]))]


def logged_model_rows(
    conn: Connection,
    experiment_ids: list[str],
    stages: tuple[str, ...],
    where: Sequence[Any] = (),
) -> list[Any]:
    """Rows of the logged models in ``experiment_ids`` (newest first), optionally narrowed."""
    query = select(tt.logged_models).where(_L.lifecycle_stage.in_(stages), *where)
    if experiment_ids:
        query = query.where(_L.experiment_id.in_([int(e) for e in experiment_ids]))
    return list(conn.execute(query.order_by(_L.created_at.desc(), _L.id.asc())).all())


# ---- artifacts ----------------------------------------------------------------------------
def _root(root: ArtifactRoot) -> Any:
    return and_(_A.root_kind == root.kind, _A.root_id == root.id)


# Every artifact upload and download: built once with bind parameters.
_AT_PATH = (
    _A.root_kind == bindparam("root_kind"),
    _A.root_id == bindparam("root_id"),
    _A.path == bindparam("path"),
)
_DELETE_ARTIFACT = delete(tt.artifacts).where(*_AT_PATH)
_INSERT_ARTIFACT = insert(tt.artifacts)
_ARTIFACT = select(_A.path, _A.digest, _A.size).where(*_AT_PATH)


def put_artifact(conn: Connection, root: ArtifactRoot, entry: ArtifactEntry, now: int) -> None:
    at = {"root_kind": root.kind, "root_id": root.id, "path": entry.path}
    conn.execute(_DELETE_ARTIFACT, at)
    conn.execute(_INSERT_ARTIFACT, {**at, "digest": entry.digest, "size": entry.size,
                                    "created_at": now})  # fmt: skip


def artifact(conn: Connection, root: ArtifactRoot, path: str) -> ArtifactEntry | None:
    row = conn.execute(_ARTIFACT, {"root_kind": root.kind, "root_id": root.id, "path": path})
    found = row.first()
    return None if found is None else ArtifactEntry(*found)


def _under(path: str) -> Any:
    if not path:
        return _A.path.is_not(None)
    # Prefix match without LIKE, so '%' and '_' in paths are literal.
    prefix = f"{path}/"
    return or_(_A.path == path, func.substr(_A.path, 1, len(prefix)) == prefix)


def artifacts_under(conn: Connection, root: ArtifactRoot, path: str) -> list[ArtifactEntry]:
    """Entries at ``path`` or below it ("" = the whole root), ordered by path."""
    if not path:
        rows = conn.execute(_ENTRIES, {"kind": root.kind, "root": root.id})
    else:
        prefix = f"{path}/"
        rows = conn.execute(
            _ENTRIES_UNDER,
            {"kind": root.kind, "root": root.id, "path": path, "prefix": prefix,
             "prefix_length": len(prefix)},
        )  # fmt: skip
    return [ArtifactEntry(p, d, size) for p, d, size in rows]


def delete_artifacts(conn: Connection, root: ArtifactRoot, path: str) -> int:
    return conn.execute(delete(tt.artifacts).where(_root(root), _under(path))).rowcount


def referenced_digests(conn: Connection) -> set[str]:
    """Digests the artifact index and pending multipart uploads point at (for blob GC)."""
    found = set(conn.execute(select(_A.digest).distinct()).scalars())
    found |= set(conn.execute(select(tt.multipart_parts.c.digest).distinct()).scalars())
    return found


# ---- multipart uploads --------------------------------------------------------------------
def insert_upload(conn: Connection, **values: Any) -> None:
    conn.execute(insert(tt.multipart_uploads).values(**values))


def upload_row(conn: Connection, upload_id: str) -> Any:
    return conn.execute(
        select(tt.multipart_uploads).where(tt.multipart_uploads.c.id == upload_id)
    ).first()


def put_part(conn: Connection, upload_id: str, number: int, digest: str, size: int) -> None:
    p = tt.multipart_parts.c
    conn.execute(
        delete(tt.multipart_parts).where(p.upload_id == upload_id, p.part_number == number)
    )
    conn.execute(
        insert(tt.multipart_parts).values(
            upload_id=upload_id, part_number=number, digest=digest, size=size
        )
    )


def parts(conn: Connection, upload_id: str) -> dict[int, ArtifactEntry]:
    p = tt.multipart_parts.c
    rows = conn.execute(select(tt.multipart_parts).where(p.upload_id == upload_id))
    return {r.part_number: ArtifactEntry(str(r.part_number), r.digest, r.size) for r in rows}


def delete_upload(conn: Connection, upload_id: str) -> None:
    conn.execute(delete(tt.multipart_parts).where(tt.multipart_parts.c.upload_id == upload_id))
    conn.execute(delete(tt.multipart_uploads).where(tt.multipart_uploads.c.id == upload_id))
