"""The use case: copy an MLflow model registry into Registre, idempotently.

>>> source = MlflowSource.open("http://mlflow:5000")
>>> report = import_mlflow(source, Registry.open(db_url, artifact_root))

First a plan (read-only): every MLflow model and version, what Registre already holds, the
files each new version needs, and (with a tracking store) the artifacts of the versions'
runs and logged models that Registre lacks. Then, model by model: create or update the
model, copy each new version's files into the blob store and register the version only
once all of them are stored (with MLflow's number, tags, description and its run's params
and latest metrics), copy its run and logged model with their artifacts, then bring stages
and aliases in line with MLflow. A version that fails is reported and left out; the others
go on.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from registre.client.backend import Backend
from registre.domain import names
from registre.domain.entities import FileEntry, ModelVersion, RegisteredModel, Stage
from registre.domain.errors import InvalidInput, NotFound, RegistreError
from registre.migrate.mlflow_artifacts import MissingArtifactRoot
from registre.migrate.mlflow_source import MlflowSource, SourceError
from registre.migrate.provenance import IMPORTED_FROM, is_origin_of, model_tags, version_tags
from registre.migrate.records import SourceFile, SourceModel, SourceRun, SourceVersion
from registre.migrate.report import ImportProgress, ImportReport, NoProgress, Problem
from registre.migrate.runs_import import RunImporter
from registre.migrate.tracked_files import TrackedFiles, TrackedPlan
from registre.service.tracking import Tracking
from registre.store.blobs.base import CountingReader

READY = "READY"


@dataclass(slots=True)
class VersionPlan:
    source: SourceVersion
    action: str  # "import" | "present" | "skip" | "error"
    files: list[SourceFile] = field(default_factory=list)
    existing: ModelVersion | None = None
    reason: str = ""
    location: str = ""  # where MLflow keeps its files
    tracked: TrackedPlan = field(default_factory=TrackedPlan)

    @property
    def size(self) -> int:
        return sum(f.size or 0 for f in self.files)


@dataclass(slots=True)
class ModelPlan:
    source: SourceModel
    existing: RegisteredModel | None
    versions: list[VersionPlan]


@dataclass(slots=True)
class ImportPlan:
    models: list[ModelPlan]
    errors: list[Problem]

    def versions(self, action: str) -> list[VersionPlan]:
        return [v for m in self.models for v in m.versions if v.action == action]


class MlflowImport:
    def __init__(
        self,
        source: MlflowSource,
        target: Backend,
        *,
        tracking: Tracking | None = None,
        verify: bool = False,
        progress: ImportProgress | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.runs = RunImporter(tracking, source) if tracking is not None else None
        self.verify = verify
        self.progress = progress or NoProgress()
        self.report = ImportReport(source.uri)
        self.tracked = (
            TrackedFiles(source, self.runs, self.report, self.progress, self._problem)
            if self.runs is not None
            else None
        )

    # ---- plan ---------------------------------------------------------------------------
    def plan(self, models: Sequence[str] = ()) -> ImportPlan:
        """What is in MLflow and what Registre already holds; reads only."""
        plans: list[ModelPlan] = []
        errors: list[Problem] = []
        for model in self.source.models(models):
            try:
                plans.append(self._plan_model(model))
            except MissingArtifactRoot:
                raise
            except (SourceError, InvalidInput) as err:
                errors.append(Problem(model.name, None, err.message))
        return ImportPlan(plans, errors)

    def _plan_model(self, model: SourceModel) -> ModelPlan:
        names.check_model_name(model.name)
        try:
            existing: RegisteredModel | None = self.target.get_model(model.name)
        except NotFound:
            existing = None
        held = {v.version: v for v in self.target.list_versions(model.name)} if existing else {}
        versions = [
            self._plan_version(version, held.get(version.version))
            for version in self.source.versions(model.name)
        ]
        return ModelPlan(model, existing, versions)

    def _plan_version(self, version: SourceVersion, held: ModelVersion | None) -> VersionPlan:
        if version.status != READY:
            return VersionPlan(version, "skip", reason=f"status is {version.status} in MLflow")
        origin = held.tags.get(IMPORTED_FROM) if held else None
        if held is not None and not is_origin_of(origin, version.name, version.version):
            reason = "Registre already has this version number, not imported from MLflow"
            return VersionPlan(version, "error", existing=held, reason=reason)
        try:
            files = self.source.files(version)
        except MissingArtifactRoot:
            raise  # the same for every version: stop before anything is written
        except (SourceError, InvalidInput) as err:
            return VersionPlan(version, "error", existing=held, reason=err.message)
        except Exception as err:  # an artifact repository's own error (I/O, cloud SDK)
            reason = f"cannot list its files: {_short(err)}"
            return VersionPlan(version, "error", existing=held, reason=reason)
        if held is not None and not _same_files(files, held.files):
            reason = "its files in Registre differ from MLflow's (paths or sizes)"
            return VersionPlan(version, "error", files, held, reason)
        plan = VersionPlan(version, "import" if held is None else "present", files, held)
        plan.location = self.source.location(version)
        if self.tracked is not None:
            tracked = self.tracked.plan(version, plan.location, files)
            if held is not None and tracked.run is not None and tracked.run.held_id is None:
                tracked = TrackedPlan()  # imported earlier without its run: left so
            plan.tracked = tracked
        return plan

    # ---- apply --------------------------------------------------------------------------
    def dry_run(self, plan: ImportPlan) -> ImportReport:
        report = self.report
        report.dry_run = True
        report.models = len(plan.models)
        report.models_created = sum(1 for m in plan.models if m.existing is None)
        new = plan.versions("import")
        report.versions_imported = len(new)
        report.versions_present = len(plan.versions("present"))
        report.versions_skipped = len(plan.versions("skip"))
        report.files = sum(len(v.files) for v in new)
        report.bytes = sum(v.size for v in new)
        if self.tracked is not None:
            tracked = self._tracked_work(plan)
            report.run_files, report.run_bytes, _ = self.tracked.planned(tracked)
            report.logged_models_imported = self.tracked.new_models(tracked)
        for problem in plan.errors:
            self._error(problem)
        for model in plan.models:
            for v in model.versions:
                if v.action == "error":
                    self._error(Problem(v.source.name, v.source.version, v.reason))
                elif v.tracked.problem:
                    self._error(Problem(v.source.name, v.source.version, v.tracked.problem))
        return report

    def _tracked_work(self, plan: ImportPlan) -> list[TrackedPlan]:
        present = [v.tracked for v in plan.versions("present") if v.tracked.pending]
        return [v.tracked for v in plan.versions("import")] + present

    def apply(self, plan: ImportPlan) -> ImportReport:
        present = plan.versions("present")
        work = plan.versions("import") + (present if self.verify else [])
        total = sum(v.size for v in work)
        if self.tracked is not None:
            total += self.tracked.planned(self._tracked_work(plan))[2]  # bytes to download
            work += [v for v in present if v.tracked.pending and not self.verify]
        self.progress.planned(len(work), total)
        for problem in plan.errors:
            self._error(problem)
        for model in plan.models:
            self.report.models += 1
            try:
                self._apply_model(model)
            except RegistreError as err:  # the model itself could not be created or updated
                self._error(Problem(model.source.name, None, err.message))
        return self.report

    def _apply_model(self, plan: ModelPlan) -> None:
        source = plan.source
        self._ensure_model(plan)
        missing: set[int] = set()
        for version in plan.versions:
            if not self._apply_version(version):
                missing.add(version.source.version)
        self._sync_aliases(source, missing)

    def _apply_version(self, plan: VersionPlan) -> bool:
        """Import, verify or update one version; False when Registre does not hold it as
        MLflow has it (then no alias is pointed at it)."""
        v = plan.source
        if plan.action == "skip":
            self.report.versions_skipped += 1
            self._warn(Problem(v.name, v.version, f"skipped: {plan.reason}"))
            return False
        if plan.action == "error":
            self._error(Problem(v.name, v.version, plan.reason))
            return False
        try:
            if plan.existing is None:
                self._import_version(plan)
            else:
                if self.verify:
                    self._verify(plan.source, plan.files, plan.existing)
                self.report.updates += self._sync_version(plan.existing, v)
                self.report.versions_present += 1
                if self.tracked is not None:
                    self.tracked.stored(plan.location, plan.existing.files)
        except RegistreError as err:
            self._error(Problem(v.name, v.version, err.message))
            return False
        except OSError as err:
            self._error(Problem(v.name, v.version, f"cannot read a file: {err}"))
            return False
        self._apply_tracked(plan)
        return True

    def _apply_tracked(self, plan: VersionPlan) -> None:
        """The version's run artifacts and logged model (their failures leave it in place)."""
        v = plan.source
        if self.tracked is None:
            return
        if plan.existing is not None and plan.tracked.pending and not self.verify:
            self.progress.copying(v.name, v.version)
        try:
            self.tracked.apply(v, plan.tracked)
        except RegistreError as err:
            self._error(Problem(v.name, v.version, err.message))
        except OSError as err:
            self._error(Problem(v.name, v.version, f"cannot read an artifact: {err}"))

    # ---- models -------------------------------------------------------------------------
    def _ensure_model(self, plan: ModelPlan) -> None:
        source = plan.source
        tags = self._valid_tags(source.tags, source.name, None)
        if plan.existing is None:
            self.target.create_model(
                source.name, source.description, {**tags, **model_tags(self.source.uri, source)}
            )
            self.report.models_created += 1
            return
        if plan.existing.description != source.description:
            self.target.update_model(source.name, source.description)
            self.report.updates += 1
        for key, value in tags.items():
            if plan.existing.tags.get(key) != value:
                self.target.set_model_tag(source.name, key, value)
                self.report.updates += 1

    def _sync_aliases(self, source: SourceModel, missing: set[int]) -> None:
        if not source.aliases:
            return
        held = self.target.get_model(source.name).aliases
        for alias, number in sorted(source.aliases.items()):
            if held.get(alias) == number:
                continue
            if number in missing:  # that version's own problem is already reported
                self._warn(Problem(source.name, number, f"alias {alias!r} not set"))
                continue
            try:
                self.target.set_alias(source.name, alias, number)
                self.report.updates += 1
            except RegistreError as err:
                self._error(Problem(source.name, number, f"alias {alias!r}: {err.message}"))

    # ---- versions -----------------------------------------------------------------------
    def _import_version(self, plan: VersionPlan) -> None:
        v = plan.source
        self.progress.copying(v.name, v.version)
        entries = [self._copy(v, file) for file in plan.files]  # all stored before registering
        if self.tracked is not None:
            self.tracked.stored(plan.location, entries)
        run = plan.tracked.run
        params, metrics, run_id = self._run_fields(v, run.source if run is not None else None)
        provenance = version_tags(self.source.uri, v)
        # MLflow's number is kept (gaps from deletions included); the service refuses it with
        # Conflict if this model already allocated that number in Registre.
        registered = self.target.register_version(
            v.name,
            entries,
            number=v.version,
            source=provenance[IMPORTED_FROM],
            run_id=run_id,
            metrics=metrics,
            params=params,
            tags={**self._valid_tags(v.tags, v.name, v.version), **provenance},
            description=v.description,
            create_model=False,
        )
        self.report.versions_imported += 1
        self.report.files += len(entries)
        self.report.bytes += sum(e.size or 0 for e in entries)
        self._sync_version(registered, v)

    def _copy(self, version: SourceVersion, file: SourceFile) -> FileEntry:
        try:
            with self.source.download(version, file) as handle:
                counted = cast(BinaryIO, CountingReader(handle, self.progress.advance))
                blob = self.target.upload_blob(counted)
        except RegistreError:
            raise
        except Exception as err:  # the artifact repository's own errors (HTTP, cloud SDKs)
            raise SourceError(f"cannot download {file.path!r}: {_short(err)}") from None
        if file.size is not None and blob.size != file.size:
            raise SourceError(
                f"{file.path!r}: MLflow lists {file.size} bytes but {blob.size} were downloaded"
            )
        return FileEntry(file.path, blob.digest, blob.size)

    def _verify(self, v: SourceVersion, files: list[SourceFile], held: ModelVersion) -> None:
        """Download the files again and compare their sha256 with what Registre holds."""
        digests = {f.path: f.digest for f in held.files}
        self.progress.copying(v.name, v.version)
        for file in files:
            hasher = hashlib.sha256()
            try:
                with self.source.download(v, file) as handle:
                    while chunk := handle.read(1024 * 1024):
                        hasher.update(chunk)
                        self.progress.advance(len(chunk))
            except RegistreError:
                raise
            except Exception as err:
                raise SourceError(f"cannot download {file.path!r}: {_short(err)}") from None
            if hasher.hexdigest() != digests.get(file.path):
                raise InvalidInput(f"{file.path!r} differs from MLflow's bytes (sha256)")

    def _run_fields(
        self, v: SourceVersion, run: SourceRun | None
    ) -> tuple[dict[str, str], dict[str, float], str | None]:
        """The source run's params and latest metrics, and its Registre id when copied."""
        if not v.run_id:
            return {}, {}, None
        try:
            run = run or self.source.run(v.run_id)
        except SourceError as err:
            self._warn(Problem(v.name, v.version, f"no params/metrics: {err.message}"))
            return {}, {}, None
        metrics = {k: x for k, x in run.metrics.items() if math.isfinite(x)}
        for key in sorted(set(run.metrics) - set(metrics)):
            self._warn(Problem(v.name, v.version, f"metric {key!r} is not finite: not copied"))
        run_id = None
        if self.runs is not None:
            try:
                run_id, created = self.runs.import_run(run)
                self.report.runs_imported += int(created)
            except RegistreError as err:
                self._warn(Problem(v.name, v.version, f"run {run.id} not copied: {err.message}"))
            for dropped in self.runs.dropped:
                self._warn(Problem(v.name, v.version, dropped))
            self.runs.dropped.clear()
        return run.params, metrics, run_id

    def _sync_version(self, held: ModelVersion, v: SourceVersion) -> int:
        """Make description, tags and stage match MLflow; returns the number of changes."""
        changes = 0
        if held.description != v.description:
            self.target.update_version(v.name, v.version, v.description)
            changes += 1
        for key, value in self._valid_tags(v.tags, v.name, v.version, warn=False).items():
            if held.tags.get(key) != value:
                self.target.set_version_tag(v.name, v.version, key, value)
                changes += 1
        stage = Stage.parse(v.stage)
        if held.stage != stage:
            self.target.transition_stage(v.name, v.version, stage)
            changes += 1
        return changes

    # ---- helpers ------------------------------------------------------------------------
    def _valid_tags(
        self, tags: dict[str, str], model: str, version: int | None, *, warn: bool = True
    ) -> dict[str, str]:
        kept: dict[str, str] = {}
        for key, value in tags.items():
            if key == IMPORTED_FROM:  # ours to set: never copied from MLflow's own tags
                continue
            try:
                names.check_tag(key, value)
            except InvalidInput as err:
                if warn:
                    self._warn(Problem(model, version, f"tag {key!r} not copied: {err.message}"))
                continue
            kept[key] = value
        return kept

    def _error(self, problem: Problem) -> None:
        self.report.errors.append(problem)
        self.progress.problem(problem, error=True)

    def _warn(self, problem: Problem) -> None:
        self.report.warnings.append(problem)
        self.progress.problem(problem, error=False)

    def _problem(self, problem: Problem, error: bool) -> None:
        (self._error if error else self._warn)(problem)


def import_mlflow(
    source: MlflowSource,
    target: Backend,
    *,
    tracking: Tracking | None = None,
    models: Sequence[str] = (),
    verify: bool = False,
    dry_run: bool = False,
    progress: ImportProgress | None = None,
) -> ImportReport:
    """Plan, then import (or with ``dry_run`` only report what would be imported)."""
    importer = MlflowImport(source, target, tracking=tracking, verify=verify, progress=progress)
    plan = importer.plan(models)
    return importer.dry_run(plan) if dry_run else importer.apply(plan)


def _same_files(files: Sequence[SourceFile], held: Sequence[FileEntry]) -> bool:
    """Same paths, and the same sizes where MLflow reports one (not every store does)."""
    sizes = {f.path: f.size for f in held}
    return sizes.keys() == {f.path for f in files} and all(
        f.size is None or f.size == sizes[f.path] for f in files
    )


def _short(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]
