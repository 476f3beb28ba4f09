"""Copy the MLflow runs and logged models behind imported versions into Registre's tracking.

Experiments are matched by name (created when missing). A run or logged model gets a new
Registre id; its MLflow id stays in a ``registre.imported.*`` tag, set last, which is how a
second import finds it instead of copying it again. Runs bring params, every metric point,
tags, status and times; logged models their name, type, params, tags, metrics (on the run),
status and the run output that links them. Artifacts are written here but chosen by
:mod:`registre.migrate.tracked_files`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from registre.domain import names
from registre.domain.errors import InvalidInput, NotFound
from registre.domain.tracking import (
    ArtifactEntry,
    ArtifactRoot,
    LoggedModelStatus,
    Metric,
    RunStatus,
    model_artifact_root,
    run_artifact_root,
)
from registre.migrate.mlflow_source import MlflowSource
from registre.migrate.provenance import (
    ORIGINAL_MODEL_ID,
    ORIGINAL_RUN_ID,
    logged_model_tags,
    run_tags,
)
from registre.migrate.records import SourceLoggedModel, SourceMetric, SourceRun
from registre.service.tracking import MAX_BATCH_METRICS, MAX_BATCH_PARAMS, Tracking

T = TypeVar("T")
PAGE = 1000


class RunImporter:
    def __init__(self, tracking: Tracking, source: MlflowSource) -> None:
        self.tracking = tracking
        self.source = source
        self.dropped: list[str] = []  # details the service refused ("run <id>: tag <key> ...")
        self._experiments: dict[str, str] = {}  # name → Registre id
        self._runs: dict[str, str] = {}  # MLflow run id → Registre run id
        self._models: dict[str, str] = {}  # MLflow logged model id → Registre id
        self._indexed: set[tuple[str, str]] = set()  # (kind, experiment) read into those

    # ---- runs ---------------------------------------------------------------------------
    def existing(self, run: SourceRun) -> str | None:
        """The Registre run an earlier import made from ``run``, if any."""
        if run.id not in self._runs:
            self._index("runs", run.experiment_name)
        return self._runs.get(run.id)

    def import_run(self, run: SourceRun) -> tuple[str, bool]:
        """(the Registre run id, whether it was created now)."""
        found = self.existing(run)
        if found is not None:
            return found, False
        history = [_point(p) for p in self._history(run)]
        experiment_id = self._experiment(run.experiment_name, run.experiment_tags)
        provenance = run_tags(self.source.uri, run)
        marker = {ORIGINAL_RUN_ID: provenance.pop(ORIGINAL_RUN_ID)}
        created = self.tracking.create_run(
            experiment_id,
            run_name=run.name,
            user_id=run.user_id,
            start_time=run.start_time or None,
            tags={**self._valid(run.tags, f"run {run.id}"), **provenance},
        )
        for params in _chunks(run.params.items(), MAX_BATCH_PARAMS):
            self.tracking.log_batch(created.id, params=dict(params))
        for metrics in _chunks(history, MAX_BATCH_METRICS):
            self.tracking.log_batch(created.id, metrics=metrics)
        # Tagged last: a run cut short by a failure is not mistaken for a finished copy.
        self.tracking.log_batch(created.id, tags=marker)
        try:
            status = RunStatus.parse(run.status).value
        except InvalidInput:
            status = RunStatus.FINISHED.value
        self.tracking.update_run(created.id, status=status, end_time=run.end_time)
        self._runs[run.id] = created.id
        return created.id, True

    def _history(self, run: SourceRun) -> Iterator[SourceMetric]:
        for key in sorted(run.metrics):
            yield from self.source.metric_history(run.id, key)

    # ---- logged models ------------------------------------------------------------------
    def existing_model(self, model: SourceLoggedModel) -> str | None:
        """The Registre logged model an earlier import made from ``model``, if any."""
        if model.id not in self._models:
            self._index("models", model.experiment_name)
        return self._models.get(model.id)

    def import_logged_model(
        self, model: SourceLoggedModel, run: SourceRun | None
    ) -> tuple[str, bool]:
        """(the Registre logged model id, whether it was created now). ``run`` is its source
        run, already imported: the model's metrics are logged on it, and it is the output."""
        found = self.existing_model(model)
        if found is not None:
            return found, False
        run_id = self._runs.get(run.id) if run is not None else None
        experiment_id = self._experiment(model.experiment_name, model.experiment_tags)
        provenance = logged_model_tags(self.source.uri, model)
        marker = {ORIGINAL_MODEL_ID: provenance.pop(ORIGINAL_MODEL_ID)}
        created = self.tracking.create_logged_model(
            experiment_id,
            model.name,
            source_run_id=run_id,
            model_type=model.model_type,
            params=model.params,
            tags={**self._valid(model.tags, f"logged model {model.id}"), **provenance},
        )
        if run_id is not None:
            # A logged model's metrics are points of its run that name it.
            points = [_point(p, created.id) for p in model.metrics]
            for metrics in _chunks(points, MAX_BATCH_METRICS):
                self.tracking.log_batch(run_id, metrics=metrics)
            step = run.model_outputs.get(model.id, 0) if run is not None else 0
            self.tracking.link_models(run_id, outputs=[(created.id, step)])
        elif model.metrics:
            self.dropped.append(
                f"logged model {model.id}: metrics not copied (it has no source run)"
            )
        try:
            status = LoggedModelStatus.parse(model.status).value
        except InvalidInput:
            status = LoggedModelStatus.UPLOAD_FAILED.value  # MLflow's FAILED
        self.tracking.update_logged_model(created.id, status=status, tags=marker)
        self._models[model.id] = created.id
        return created.id, True

    # ---- artifacts ----------------------------------------------------------------------
    def run_root(self, run_id: str) -> ArtifactRoot:
        return run_artifact_root(self.tracking.get_run(run_id).experiment_id, run_id)

    def model_root(self, model_id: str) -> ArtifactRoot:
        model = self.tracking.get_logged_model(model_id)
        return model_artifact_root(model.experiment_id, model_id)

    def held(self, root: ArtifactRoot) -> dict[str, ArtifactEntry]:
        """The artifacts Registre holds under ``root``, by path."""
        return {e.path: e for e in self.tracking.artifacts.entries(root)}

    def put(self, root: ArtifactRoot, path: str, chunks: Iterable[bytes]) -> ArtifactEntry:
        return self.tracking.artifacts.put(f"{root.prefix}/{path}", chunks)

    # ---- helpers ------------------------------------------------------------------------
    def _index(self, kind: str, experiment_name: str) -> None:
        """Learn, once per experiment, which of its runs (or logged models) an import made:
        one pass over them instead of a search per run."""
        if (kind, experiment_name) in self._indexed:
            return
        self._indexed.add((kind, experiment_name))
        try:
            experiment = self.tracking.get_experiment_by_name(experiment_name)
        except NotFound:
            return
        token: str | None = None
        while True:
            if kind == "runs":
                runs = self.tracking.search_runs(
                    [experiment.id], view="ALL", max_results=PAGE, page_token=token
                )
                for run in runs.items:
                    if ORIGINAL_RUN_ID in run.tags:
                        self._runs.setdefault(run.tags[ORIGINAL_RUN_ID], run.id)
                token = runs.next_page_token
            else:
                models = self.tracking.search_logged_models(
                    [experiment.id], max_results=PAGE, page_token=token
                )
                for model in models.items:
                    if ORIGINAL_MODEL_ID in model.tags:
                        self._models.setdefault(model.tags[ORIGINAL_MODEL_ID], model.id)
                token = models.next_page_token
            if not token:
                return

    def _experiment(self, name: str, tags: dict[str, str]) -> str:
        if name not in self._experiments:
            try:
                self._experiments[name] = self.tracking.get_experiment_by_name(name).id
            except NotFound:
                clean = self._valid(tags, f"experiment {name!r}")
                self._experiments[name] = self.tracking.create_experiment(name, clean)
        return self._experiments[name]

    def _valid(self, tags: dict[str, str], owner: str) -> dict[str, str]:
        kept: dict[str, str] = {}
        for key, value in tags.items():
            try:
                names.check_tag(key, value)
            except InvalidInput as err:
                self.dropped.append(f"{owner}: tag {key!r} dropped ({err.message})")
                continue
            kept[key] = value
        return kept


def _point(p: SourceMetric, model_id: str | None = None) -> Metric:
    return Metric(
        p.key, p.value, p.timestamp, p.step, model_id=model_id,
        dataset_name=p.dataset_name, dataset_digest=p.dataset_digest,
    )  # fmt: skip


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
