"""Copy the MLflow runs that produced imported versions into Registre's tracking service.

Experiments are matched by name (created when missing). A run gets a new Registre id; its
MLflow id stays in the ``registre.imported.run_id`` tag, which is how a second import finds
it instead of copying it again. Params, every metric point, tags, status and times are
copied; run artifacts are not (the version's own files are).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

from registre.domain import names
from registre.domain.errors import InvalidInput, NotFound
from registre.domain.tracking import Metric, RunStatus
from registre.migrate.mlflow_source import MlflowSource
from registre.migrate.provenance import ORIGINAL_RUN_ID, run_tags
from registre.migrate.records import SourceMetric, SourceRun
from registre.service.tracking import MAX_BATCH_METRICS, MAX_BATCH_PARAMS, Tracking

T = TypeVar("T")


class RunImporter:
    def __init__(self, tracking: Tracking, source: MlflowSource) -> None:
        self.tracking = tracking
        self.source = source
        self.dropped_tags: list[str] = []  # "run <id>: tag <key>" the service refused
        self._experiments: dict[str, str] = {}  # name → Registre id
        self._runs: dict[str, str] = {}  # MLflow run id → Registre run id

    def existing(self, run: SourceRun) -> str | None:
        """The Registre run an earlier import made from ``run``, if any."""
        if run.id in self._runs:
            return self._runs[run.id]
        try:
            experiment = self.tracking.get_experiment_by_name(run.experiment_name)
        except NotFound:
            return None
        escaped = run.id.replace("'", "''")
        page = self.tracking.search_runs(
            [experiment.id], f"tags.`{ORIGINAL_RUN_ID}` = '{escaped}'", view="ALL", max_results=1
        )
        if page.items:
            self._runs[run.id] = page.items[0].id
            return page.items[0].id
        return None

    def import_run(self, run: SourceRun) -> tuple[str, bool]:
        """(the Registre run id, whether it was created now)."""
        found = self.existing(run)
        if found is not None:
            return found, False
        history = [Metric(p.key, p.value, p.timestamp, p.step) for p in self._history(run)]
        experiment_id = self._experiment(run)
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

    def _experiment(self, run: SourceRun) -> str:
        name = run.experiment_name
        if name not in self._experiments:
            try:
                self._experiments[name] = self.tracking.get_experiment_by_name(name).id
            except NotFound:
                tags = self._valid(run.experiment_tags, f"experiment {name!r}")
                self._experiments[name] = self.tracking.create_experiment(name, tags)
        return self._experiments[name]

    def _valid(self, tags: dict[str, str], owner: str) -> dict[str, str]:
        kept: dict[str, str] = {}
        for key, value in tags.items():
            try:
                names.check_tag(key, value)
            except InvalidInput as err:
                self.dropped_tags.append(f"{owner}: tag {key!r} dropped ({err.message})")
                continue
            kept[key] = value
        return kept


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
