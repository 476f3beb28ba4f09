"""The tracking use cases: experiments, runs (params, metrics, tags), logged models.

Artifacts (``self.artifacts``) and registering model versions from tracked sources
(``self.sources``) are in ``tracking_artifacts`` and ``tracking_sources``. Every mutation
writes an event in its transaction; events are keyed ``experiments/<id>``, ``runs/<id>`` or
``logged-models/<id>`` (model names cannot contain ``/``, so these never collide with them).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from registre.domain import names
from registre.domain import tracking_filters as tf
from registre.domain.entities import Page, now_ms
from registre.domain.errors import AlreadyExists, InvalidInput, NotFound
from registre.domain.tracking import (
    DEFAULT_EXPERIMENT_ID,
    DatasetFilter,
    Experiment,
    Lifecycle,
    LoggedModel,
    LoggedModelStatus,
    Metric,
    Run,
    RunStatus,
    ViewType,
    check_dataset_input,
    check_experiment_id,
    check_experiment_name,
    check_metric_dataset,
    check_model_id,
    check_param,
    check_run_id,
    new_model_id,
    new_run_id,
)
from registre.service.context import current_actor
from registre.service.paging import check_max_results, decode_token, encode_token
from registre.service.registry import Registry
from registre.service.tracking_artifacts import TrackingArtifacts
from registre.service.tracking_sources import TrackingSources
from registre.store.sql import tracking_store as q
from registre.store.sql import tracking_tables as tt
from registre.store.sql.search_narrowing import model_narrowing, narrowing
from registre.store.sql.store import WriteTx, upsert_values

RUN_NAME_TAG = "mlflow.runName"
MODEL_VERSIONS_TAG = "mlflow.modelVersions"
USER_TAG = "mlflow.user"
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # timestamps and steps are stored as BIGINT


class Tracking:
    """Experiments, runs and logged models beside a :class:`Registry`, in the same database.

    >>> tracking = Tracking(registry)
    >>> run = tracking.create_run(tracking.create_experiment("iris"))
    >>> tracking.log_batch(run.id, metrics=[Metric("acc", 0.97, now_ms())])
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.store = registry.store
        self.artifacts = TrackingArtifacts(self)
        self.sources = TrackingSources(self)

    def _event(self, tx: WriteTx, subject: str, action: str, now: int, **after: Any) -> None:
        tx.add_event(at=now, actor=current_actor(), action=action, model=subject, after=after)

    # ---- experiments --------------------------------------------------------------------
    def create_experiment(
        self, name: str, tags: Mapping[str, str] | None = None, artifact_location: str = ""
    ) -> str:
        check_experiment_name(name)
        clean_tags = _tags(tags)
        if artifact_location:
            raise InvalidInput(
                "artifact_location is not supported: Registre stores artifacts itself "
                "(in its content-addressed store, served at mlflow-artifacts:/<experiment_id>)"
            )
        now = now_ms()
        with self.store.write() as tx:
            if q.experiment_id_by_name(tx.conn, name) is not None:
                raise AlreadyExists(f"experiment {name!r} already exists")
            experiment_id = q.insert_experiment(tx.conn, name, now)
            if experiment_id is None:
                raise AlreadyExists(f"experiment {name!r} already exists")
            upsert_values(tx.conn, tt.experiment_tags, "experiment_id", int(experiment_id),
                            clean_tags)  # fmt: skip
            self._event(tx, f"experiments/{experiment_id}", "create_experiment", now, name=name)
        return experiment_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        experiment_id = check_experiment_id(experiment_id)
        with self.store.read() as conn:
            row = q.experiment_row(conn, experiment_id)
            if row is None:
                raise NotFound(f"experiment {experiment_id} does not exist")
            return q.experiments(conn, [row])[0]

    def get_experiment_by_name(self, name: str) -> Experiment:
        check_experiment_name(name)
        with self.store.read() as conn:
            found = q.experiment_id_by_name(conn, name)
        if found is None:
            raise NotFound(f"experiment {name!r} does not exist")
        return self.get_experiment(found)

    def search_experiments(
        self,
        filter: str | None = None,
        view: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        conditions = tf.parse(filter)
        for cond in conditions:
            if cond.kind not in ("attr", "tag"):
                raise InvalidInput("experiment filters compare attributes and tags only")
        columns = {"name": tt.experiments.c.name, "experiment_id": tt.experiments.c.id,
                   "creation_time": tt.experiments.c.created_at,
                   "last_update_time": tt.experiments.c.updated_at}  # fmt: skip
        order, keys = [], []
        for clause in order_by or []:
            field, _, direction = clause.strip().partition(" ")
            name = field.removeprefix("attributes.").removeprefix("attribute.")
            column = columns.get(name)
            if column is None:
                raise InvalidInput(f"cannot order experiments by {field!r}")
            descending = direction.strip().upper() == "DESC"
            order.append(column.desc() if descending else column.asc())
            keys.append((name, descending))
        limit = check_max_results(max_results, default=1000)
        offset = decode_token(page_token)
        order = order or [tt.experiments.c.created_at.desc()]
        stages = ViewType.parse(view).stages()
        by_name = any(name == "name" for name, _ in keys)
        with self.store.read() as conn:
            if not conditions and not by_name:
                items = q.search_experiments(conn, stages, None, order, limit + 1, offset)
                return _page(items, limit, offset)
            everything = q.search_experiments(conn, stages, None, order, None, 0)
        found = [
            e for e in everything
            if tf.matches(conditions, partial(tf.experiment_value, e), missing=False)
        ]  # fmt: skip
        if by_name:  # by code point, as MLflow does, whatever the database's collation
            found.sort(key=lambda e: int(e.id))
            for name, descending in reversed(keys):
                found.sort(key=partial(_experiment_sort_key, name), reverse=descending)
        return _page(found[offset : offset + limit + 1], limit, offset)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        check_experiment_name(new_name)
        with self.store.write() as tx:
            row = self._experiment_row(tx, experiment_id)
            other = q.experiment_id_by_name(tx.conn, new_name)
            if other is not None and other != str(row.id):
                raise AlreadyExists(f"experiment {new_name!r} already exists")
            now = now_ms()
            q.update_experiment(tx.conn, str(row.id), name=new_name, updated_at=now)
            self._event(tx, f"experiments/{row.id}", "rename_experiment", now, name=new_name)

    def set_experiment_lifecycle(self, experiment_id: str, stage: Lifecycle) -> None:
        """Delete (soft, with its runs) or restore an experiment."""
        with self.store.write() as tx:
            row = self._experiment_row(tx, experiment_id)
            if str(row.id) == DEFAULT_EXPERIMENT_ID and stage is Lifecycle.DELETED:
                raise InvalidInput("the Default experiment (id 0) cannot be deleted")
            now = now_ms()
            q.update_experiment(tx.conn, str(row.id), lifecycle_stage=stage.value, updated_at=now)
            tx.conn.execute(
                tt.runs.update()
                .where(tt.runs.c.experiment_id == row.id)
                .values(lifecycle_stage=stage.value)
            )
            self._event(tx, f"experiments/{row.id}", f"set_experiment_{stage.value}", now)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        key, value = names.check_tag(key, value)
        with self.store.write() as tx:
            row = self._experiment_row(tx, experiment_id)
            upsert_values(tx.conn, tt.experiment_tags, "experiment_id", row.id, {key: value})
            self._event(tx, f"experiments/{row.id}", "set_experiment_tag", now_ms(), key=key)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self.store.write() as tx:
            row = self._experiment_row(tx, experiment_id)
            q.delete_value(tx.conn, tt.experiment_tags, "experiment_id", row.id, key)
            self._event(tx, f"experiments/{row.id}", "delete_experiment_tag", now_ms(), key=key)

    def _experiment_row(self, tx: WriteTx, experiment_id: str) -> Any:
        row = q.experiment_row(tx.conn, check_experiment_id(experiment_id))
        if row is None:
            raise NotFound(f"experiment {experiment_id} does not exist")
        return row

    # ---- runs ---------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str = DEFAULT_EXPERIMENT_ID,
        *,
        run_name: str = "",
        user_id: str = "",
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Run:
        clean_tags = _tags(tags)
        run_name = run_name or clean_tags.get(RUN_NAME_TAG) or f"run-{uuid.uuid4().hex[:8]}"
        names.check_tag(RUN_NAME_TAG, run_name)
        clean_tags[RUN_NAME_TAG] = run_name
        user_id = user_id or clean_tags.get(USER_TAG) or current_actor()
        run_id = new_run_id()
        now = now_ms()
        with self.store.write() as tx:
            row = self._experiment_row(tx, experiment_id)
            if row.lifecycle_stage != Lifecycle.ACTIVE.value:
                raise InvalidInput(f"experiment {experiment_id} is deleted: restore it first")
            q.insert_run(
                tx.conn, id=run_id, experiment_id=row.id, name=run_name, user_id=user_id[:256],
                status=RunStatus.RUNNING.value, start_time=_int(start_time, "start_time", now),
                end_time=None, lifecycle_stage=Lifecycle.ACTIVE.value,
            )  # fmt: skip
            upsert_values(tx.conn, tt.run_tags, "run_id", run_id, clean_tags)
            self._event(tx, f"runs/{run_id}", "create_run", now, experiment_id=str(row.id))
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> Run:
        check_run_id(run_id)
        with self.store.read() as conn:
            found = q.runs(conn, [run_id])
        if not found:
            raise NotFound(f"run {run_id!r} does not exist")
        return found[0]

    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> Run:
        values: dict[str, Any] = {}
        if status:
            values["status"] = RunStatus.parse(status).value
        if end_time is not None:
            values["end_time"] = _int(end_time, "end_time")
        with self.store.write() as tx:
            self._active_run(tx, run_id)
            if run_name:
                names.check_tag(RUN_NAME_TAG, run_name)
                values["name"] = run_name
                upsert_values(tx.conn, tt.run_tags, "run_id", run_id, {RUN_NAME_TAG: run_name})
            if values:
                q.update_run(tx.conn, run_id, **values)
            self._event(tx, f"runs/{run_id}", "update_run", now_ms(), **values)
        return self.get_run(run_id)

    def set_run_lifecycle(self, run_id: str, stage: Lifecycle) -> None:
        with self.store.write() as tx:
            if q.run_row(tx.conn, check_run_id(run_id)) is None:
                raise NotFound(f"run {run_id!r} does not exist")
            q.update_run(tx.conn, run_id, lifecycle_stage=stage.value)
            self._event(tx, f"runs/{run_id}", f"set_run_{stage.value}", now_ms())

    def search_runs(
        self,
        experiment_ids: list[str],
        filter: str | None = None,
        view: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        limit = check_max_results(max_results, default=1000)
        offset = decode_token(page_token)
        ids = [check_experiment_id(e) for e in experiment_ids]
        order = [tf.parse_order(clause) for clause in order_by or []]
        conditions = tf.parse(filter)
        with self.store.read() as conn:
            # SQL narrows to the runs that can match; the exact filter below decides.
            run_ids = q.run_ids(conn, ids, ViewType.parse(view).stages(), narrowing(conditions))
            if not conditions and not order:
                # Newest first, as listed: load only the page (the UI's and clients' usual call).
                return _page(q.runs(conn, run_ids[offset : offset + limit + 1]), limit, offset)
            runs = q.runs(conn, run_ids)
        found = tf.select(runs, filter, order, tf.run_value)
        return _page(found[offset : offset + limit + 1], limit, offset)

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[Metric] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Log metrics, params and tags at once. A param keeps its first value: logging a
        different one is refused (the run's inputs must not change after the fact)."""
        points = [_metric(m) for m in metrics]
        clean_params = dict(check_param(k, v) for k, v in (params or {}).items())
        clean_tags = _tags(tags)
        if (
            len(points) > MAX_BATCH_METRICS
            or len(clean_params) > MAX_BATCH_PARAMS
            or len(clean_tags) > MAX_BATCH_TAGS
        ):
            raise InvalidInput(
                f"a batch holds at most {MAX_BATCH_METRICS} metrics, {MAX_BATCH_PARAMS} params "
                f"and {MAX_BATCH_TAGS} tags"
            )
        now = now_ms()
        with self.store.write() as tx:
            self._active_run(tx, run_id)
            if clean_params:
                known = q.keyed_values(tx.conn, tt.run_params, "run_id", [run_id]).get(run_id, {})
                for key, value in clean_params.items():
                    if key in known and known[key] != value:
                        raise InvalidInput(
                            f"param {key!r} of run {run_id} was already logged as "
                            f"{known[key]!r}; it cannot be changed to {value!r}"
                        )
                fresh = {k: v for k, v in clean_params.items() if k not in known}
                upsert_values(tx.conn, tt.run_params, "run_id", run_id, fresh)
            upsert_values(tx.conn, tt.run_tags, "run_id", run_id, clean_tags)
            if RUN_NAME_TAG in clean_tags:
                q.update_run(tx.conn, run_id, name=clean_tags[RUN_NAME_TAG])
            if points:
                q.insert_metrics(tx.conn, run_id, points)
                latest = q.latest_metrics(tx.conn, run_id, {p.key for p in points})
                changed = {}
                for p in points:
                    if p.key not in latest or _newer(p, latest[p.key]):
                        latest[p.key] = changed[p.key] = p
                q.set_latest_metrics(tx.conn, run_id, changed)
            self._event(
                tx, f"runs/{run_id}", "log_batch", now, metrics=sorted({p.key for p in points}),
                params=sorted(clean_params), tags=sorted(clean_tags),
            )  # fmt: skip

    def delete_run_tag(self, run_id: str, key: str) -> None:
        with self.store.write() as tx:
            self._active_run(tx, run_id)
            if not q.delete_value(tx.conn, tt.run_tags, "run_id", run_id, key):
                raise NotFound(f"run {run_id} has no tag {key!r}")
            self._event(tx, f"runs/{run_id}", "delete_run_tag", now_ms(), key=key)

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        self.get_run(run_id)
        with self.store.read() as conn:
            return q.metric_history(conn, run_id, key)

    def link_models(self, run_id: str, outputs: Iterable[tuple[str, int]] = (),
                    inputs: Iterable[str] = ()) -> None:  # fmt: skip
        """Record logged models as outputs (with the step) or inputs of a run."""
        outs = [(check_model_id(m), _int(step, "step", 0)) for m, step in outputs]
        ins = [check_model_id(m) for m in inputs]
        with self.store.write() as tx:
            self._active_run(tx, run_id)
            for model_id in [m for m, _ in outs] + ins:
                if q.logged_model_row(tx.conn, model_id) is None:
                    raise NotFound(f"logged model {model_id!r} does not exist")
            for model_id, step in outs:
                q.upsert_output(tx.conn, tt.run_outputs, run_id, {"model_id": model_id,
                                                                  "step": step})  # fmt: skip
            for model_id in ins:
                q.upsert_output(tx.conn, tt.run_inputs, run_id, {"model_id": model_id})
            self._event(tx, f"runs/{run_id}", "link_models", now_ms(),
                        outputs=[m for m, _ in outs], inputs=ins)  # fmt: skip

    def log_datasets(self, run_id: str, inputs: Iterable[object]) -> None:
        """Record dataset inputs of a run (``mlflow.log_input``)."""
        clean = [check_dataset_input(body) for body in inputs]
        now = now_ms()
        with self.store.write() as tx:
            self._active_run(tx, run_id)
            q.put_datasets(tx.conn, run_id, clean, now)
            names_ = [d["dataset"]["name"] for d in clean]
            self._event(tx, f"runs/{run_id}", "log_datasets", now, datasets=names_)

    def _active_run(self, tx: WriteTx, run_id: str) -> Any:
        row = q.run_row(tx.conn, check_run_id(run_id), lock=True)
        if row is None:
            raise NotFound(f"run {run_id!r} does not exist")
        if row.lifecycle_stage != Lifecycle.ACTIVE.value:
            raise InvalidInput(f"run {run_id} is deleted: restore it first")
        return row

    # ---- logged models ------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str = "",
        *,
        source_run_id: str | None = None,
        model_type: str = "",
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        name = name or f"model-{uuid.uuid4().hex[:8]}"
        names.check_tag("name", name)
        clean_params = dict(check_param(k, v) for k, v in (params or {}).items())
        clean_tags = _tags(tags)
        model_id = new_model_id()
        now = now_ms()
        # As MLflow's server does, the source run is recorded as given: it may live elsewhere
        # (another tracking server, a run not imported); only its form is checked.
        if source_run_id:
            check_run_id(source_run_id)
        with self.store.write() as tx:
            row = self._experiment_row(tx, experiment_id)
            q.insert_logged_model(
                tx.conn, id=model_id, experiment_id=row.id, name=name,
                source_run_id=source_run_id or None, model_type=str(model_type or "")[:256],
                status=LoggedModelStatus.PENDING.value, status_message="",
                lifecycle_stage=Lifecycle.ACTIVE.value, created_at=now, updated_at=now,
            )  # fmt: skip
            upsert_values(tx.conn, tt.logged_model_tags, "model_id", model_id, clean_tags)
            upsert_values(tx.conn, tt.logged_model_params, "model_id", model_id, clean_params)
            self._event(tx, f"logged-models/{model_id}", "create_logged_model", now, name=name,
                        experiment_id=str(row.id), source_run_id=source_run_id)  # fmt: skip
        return self.get_logged_model(model_id)

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        check_model_id(model_id)
        with self.store.read() as conn:
            row = q.logged_model_row(conn, model_id)
            if row is None or (row.lifecycle_stage != "active" and not allow_deleted):
                raise NotFound(f"logged model {model_id!r} does not exist")
            return q.logged_models(conn, [row])[0]

    def update_logged_model(
        self,
        model_id: str,
        *,
        status: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        delete_tag: str | None = None,
        deleted: bool = False,
    ) -> LoggedModel:
        """Finalize (status), tag, add params to, untag or delete a logged model."""
        values: dict[str, Any] = {}
        if status:
            values["status"] = LoggedModelStatus.parse(status).value
        if deleted:
            values["lifecycle_stage"] = Lifecycle.DELETED.value
        clean_tags = _tags(tags)
        clean_params = dict(check_param(k, v) for k, v in (params or {}).items())
        now = now_ms()
        with self.store.write() as tx:
            row = q.logged_model_row(tx.conn, check_model_id(model_id))
            if row is None or row.lifecycle_stage != "active":
                raise NotFound(f"logged model {model_id!r} does not exist")
            q.update_logged_model(tx.conn, model_id, updated_at=now, **values)
            upsert_values(tx.conn, tt.logged_model_tags, "model_id", model_id, clean_tags)
            upsert_values(tx.conn, tt.logged_model_params, "model_id", model_id, clean_params)
            if delete_tag is not None:
                q.delete_value(tx.conn, tt.logged_model_tags, "model_id", model_id, delete_tag)
            self._event(
                tx, f"logged-models/{model_id}", "update_logged_model", now, **values,
                tags=sorted(clean_tags), params=sorted(clean_params), deleted_tag=delete_tag,
            )  # fmt: skip
        return self.get_logged_model(model_id, allow_deleted=deleted)

    def record_model_version(self, model_id: str, name: str, version: int) -> None:
        """Note on a logged model that ``version`` of ``name`` was registered from it: MLflow's
        ``mlflow.modelVersions`` tag, a JSON list of ``{"name", "version"}``, in registration
        order (call it when registering a version with a ``model_id``)."""
        entry = {"name": name, "version": int(version)}
        now = now_ms()
        with self.store.write() as tx:
            row = q.logged_model_row(tx.conn, check_model_id(model_id), lock=True)
            if row is None:
                raise NotFound(f"logged model {model_id!r} does not exist")
            tags = q.keyed_values(tx.conn, tt.logged_model_tags, "model_id", [model_id])
            listed = _json_list(tags.get(model_id, {}).get(MODEL_VERSIONS_TAG))
            if entry not in listed:
                listed.append(entry)
            upsert_values(tx.conn, tt.logged_model_tags, "model_id", model_id,
                          {MODEL_VERSIONS_TAG: json.dumps(listed)})  # fmt: skip
            self._event(tx, f"logged-models/{model_id}", "record_model_version", now, **entry)

    def search_logged_models(
        self,
        experiment_ids: list[str],
        filter: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[ModelOrder] | None = None,
        page_token: str | None = None,
        datasets: Sequence[DatasetFilter] | None = None,
    ) -> Page[LoggedModel]:
        """``order_by`` is a list of (field, ascending) or (field, ascending, dataset): a metric
        field then ranks by the values computed on that dataset. With ``datasets``, metric
        filters only see values computed on them, and without any metric filter only models
        with such a value match. Newest first by default."""
        limit = check_max_results(max_results, default=100)
        offset = decode_token(page_token)
        ids = [check_experiment_id(e) for e in experiment_ids]
        wanted = list(datasets or [])
        conditions = tf.parse(filter)
        with self.store.read() as conn:
            # SQL narrows to the models that can match; the exact filter below decides.
            rows = q.logged_model_rows(conn, ids, ("active",), model_narrowing(conditions))
            if not conditions and not wanted and not order_by:
                # Newest first, as listed: load only the page.
                page = q.logged_models(conn, rows[offset : offset + limit + 1])
                return _page(page, limit, offset)
            models = q.logged_models(conn, rows)
        if wanted and not any(c.kind == "metric" for c in conditions):
            models = [m for m in models if any(d.matches(x) for x in m.metrics for d in wanted)]
        found = tf.select(models, filter, [], _model_value(wanted))
        for field, ascending, *dataset in reversed(order_by or []):
            on = [d for d in dataset[:1] if d is not None]
            found = tf.select(found, None, [(field, ascending)], _model_value(on))
        return _page(found[offset : offset + limit + 1], limit, offset)


ModelOrder = tuple[str, bool] | tuple[str, bool, DatasetFilter | None]


def _model_value(datasets: list[DatasetFilter]) -> Any:
    """Field values of logged models for filters and sorting, metrics restricted to
    ``datasets`` (the newest matching value of each key)."""

    def value(model: LoggedModel, cond: tf.Condition) -> Any:
        if cond.kind == "metric":
            return model.latest_metric(cond.key, datasets)
        return tf.model_value(model, cond)

    return value


# ---- helpers ------------------------------------------------------------------------------
def _page(items: list[Any], limit: int, offset: int) -> Page[Any]:
    if len(items) > limit:
        return Page(items[:limit], encode_token(offset + limit))
    return Page(items, None)


def _json_list(text: str | None) -> list[Any]:
    """A tag's JSON list; anything else (absent, edited by hand) counts as empty."""
    try:
        found = json.loads(text) if text else []
    except ValueError:
        return []
    return found if isinstance(found, list) else []


def _tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    return dict(names.check_tag(k, v) for k, v in (tags or {}).items())


def _int(value: object, what: str, default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise InvalidInput(f"{what} is required")
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidInput(f"{what} must be an integer, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # (int(inf) overflows)
        raise InvalidInput(f"{what} must be an integer, got {value!r}") from None
    if not INT64_MIN <= number <= INT64_MAX:
        raise InvalidInput(f"{what} must fit in 64 bits, got {value!r}")
    return number


def _metric(m: Metric) -> Metric:
    names.check_tag(m.key)
    if isinstance(m.value, bool):
        raise InvalidInput(f"metric {m.key!r} must be a number")
    try:
        value = float(m.value)
    except (TypeError, ValueError, OverflowError):  # (an int past the largest float overflows)
        raise InvalidInput(f"metric {m.key!r} must be a number, got {m.value!r}") from None
    model_id = check_model_id(m.model_id) if m.model_id else None
    dataset_name, dataset_digest = check_metric_dataset(m.dataset_name, m.dataset_digest)
    return Metric(
        m.key, value, _int(m.timestamp, "timestamp", now_ms()), _int(m.step, "step", 0),
        model_id, None, dataset_name, dataset_digest,
    )  # fmt: skip


def _newer(point: Metric, latest: Metric) -> bool:
    """MLflow's rule for a run's latest metric: highest step, then timestamp, then value."""

    def rank(m: Metric) -> tuple[int, int, bool, float]:
        nan = math.isnan(m.value)
        return (m.step, m.timestamp, not nan, -math.inf if nan else m.value)

    return rank(point) >= rank(latest)


def _experiment_sort_key(field: str, experiment: Experiment) -> str | int:
    return tf.experiment_sort_key(experiment, field)


__all__ = ["Tracking"]
