"""The tracked side of an imported version: its run's artifacts and its MLflow 3 logged model.

Planned with the versions (reads only): which of the run's artifacts, and of the logged
model's files, Registre does not hold yet under the copies an import made (same path and
size), and which of those this import reads anyway as some version's files (the same
location: MLflow 2 keeps a model inside its run's artifacts, MLflow 3 registers a logged
model's own files). Applied once a version is in Registre: those are taken from the blob
store, the others downloaded. A run or logged model shared by several versions is handled
once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from registre.domain.entities import FileEntry
from registre.domain.errors import InvalidInput, RegistreError
from registre.domain.tracking import ArtifactEntry, ArtifactRoot, check_artifact_key
from registre.migrate.mlflow_source import MlflowSource, SourceError, one_line
from registre.migrate.records import SourceFile, SourceLoggedModel, SourceRun, SourceVersion
from registre.migrate.report import ImportProgress, ImportReport, Problem
from registre.migrate.runs_import import RunImporter

CHUNK = 1024 * 1024


@dataclass(slots=True)
class FileSet:
    """Files under one MLflow location that Registre does not hold yet."""

    location: str
    files: list[SourceFile] = field(default_factory=list)
    local: set[str] = field(default_factory=set)  # paths this import reads as version files
    refused: list[str] = field(default_factory=list)  # paths Registre cannot hold

    @property
    def size(self) -> int:
        return sum(f.size or 0 for f in self.files)

    @property
    def download_size(self) -> int:
        return sum(f.size or 0 for f in self.files if f.path not in self.local)


@dataclass(slots=True)
class RunPlan:
    source: SourceRun
    held_id: str | None  # the Registre run an earlier import made
    artifacts: FileSet
    done: bool = False


@dataclass(slots=True)
class LoggedModelPlan:
    source: SourceLoggedModel
    held_id: str | None
    artifacts: FileSet
    done: bool = False


@dataclass(slots=True)
class TrackedPlan:
    """What one version brings along besides its own files."""

    run: RunPlan | None = None
    model: LoggedModelPlan | None = None
    problem: str = ""  # why its run or logged model could not be read

    @property
    def pending(self) -> bool:
        """Whether applying it would write anything (for a version already imported)."""
        run, model = self.run, self.model
        return bool(
            (run is not None and not run.done and run.artifacts.files)
            or (model is not None and not model.done
                and (model.held_id is None or model.artifacts.files))
        )  # fmt: skip


class TrackedFiles:
    def __init__(
        self,
        source: MlflowSource,
        runs: RunImporter,
        report: ImportReport,
        progress: ImportProgress,
        problem: Callable[[Problem, bool], None],
    ) -> None:
        self.source = source
        self.runs = runs
        self.report = report
        self.progress = progress
        self._problem = problem  # (problem, is_error)
        self._run_plans: dict[str, RunPlan | None] = {}
        self._model_plans: dict[str, LoggedModelPlan] = {}
        self._planned: dict[str, int | None] = {}  # version file URI → size, planned
        self._stored: dict[str, FileEntry] = {}  # version file URI → entry, stored

    # ---- plan ---------------------------------------------------------------------------
    def plan(self, version: SourceVersion, location: str, files: list[SourceFile]) -> TrackedPlan:
        """The run and logged model ``version`` comes from, and their files still to copy."""
        for file in files:
            self._planned[_join(location, file.path)] = file.size
        tracked = TrackedPlan()
        try:
            if version.run_id:
                tracked.run = self._plan_run(version.run_id)
            if version.model_id and (tracked.run is not None or not version.run_id):
                tracked.model = self._plan_model(version.model_id, location, files)
        except (SourceError, InvalidInput) as err:
            tracked.problem = err.message
        except Exception as err:  # an artifact repository's own error (I/O, cloud SDK)
            tracked.problem = f"cannot list the artifacts of its run: {one_line(err)}"
        return tracked

    def _plan_run(self, run_id: str) -> RunPlan | None:
        """None when MLflow cannot show the run (the version goes without it, as warned)."""
        if run_id not in self._run_plans:
            try:
                run = self.source.run(run_id)
            except SourceError:
                self._run_plans[run_id] = None
                return None
            held_id = self.runs.existing(run)
            held = self.runs.held(self.runs.run_root(held_id)) if held_id else {}
            listed = self.source.files_at(run.artifact_uri) if run.artifact_uri else []
            files = self._missing(run.artifact_uri, listed, held)
            self._run_plans[run_id] = RunPlan(run, held_id, files)
        return self._run_plans[run_id]

    def _plan_model(
        self, model_id: str, location: str, version_files: list[SourceFile]
    ) -> LoggedModelPlan:
        if model_id not in self._model_plans:
            model = self.source.logged_model(model_id)
            held_id = self.runs.existing_model(model)
            held = self.runs.held(self.runs.model_root(held_id)) if held_id else {}
            where = model.artifact_location
            listed = version_files if where == location else self.source.files_at(where)
            files = self._missing(where, listed, held)
            self._model_plans[model_id] = LoggedModelPlan(model, held_id, files)
        return self._model_plans[model_id]

    def _missing(
        self, location: str, listed: list[SourceFile], held: dict[str, ArtifactEntry]
    ) -> FileSet:
        found = FileSet(location)
        for file in listed:
            entry = held.get(file.path)
            if entry is not None and (file.size is None or entry.size == file.size):
                continue
            try:
                check_artifact_key(file.path)
            except InvalidInput as err:
                found.refused.append(f"{file.path!r}: {err.message}")
                continue
            found.files.append(file)
            uri = _join(location, file.path)
            if uri in self._planned and self._planned[uri] == file.size:
                found.local.add(file.path)
        return found

    def planned(self, plans: list[TrackedPlan]) -> tuple[int, int, int]:
        """(files, bytes to store, bytes to download) of ``plans``, each run and model once."""
        sets: dict[int, FileSet] = {}
        for plan in plans:
            for part in (plan.run, plan.model):
                if part is not None:
                    sets[id(part.artifacts)] = part.artifacts
        return (
            sum(len(s.files) for s in sets.values()),
            sum(s.size for s in sets.values()),
            sum(s.download_size for s in sets.values()),
        )

    def new_models(self, plans: list[TrackedPlan]) -> int:
        return len({p.model.source.id for p in plans if p.model and p.model.held_id is None})

    # ---- apply --------------------------------------------------------------------------
    def stored(self, location: str, entries: list[FileEntry]) -> None:
        """Version files now in Registre: run or model artifacts with the same URI reuse them."""
        for entry in entries:
            self._stored[_join(location, entry.path)] = entry

    def apply(self, version: SourceVersion, plan: TrackedPlan) -> None:
        """Bring the version's run artifacts and logged model into Registre's tracking."""
        where = (version.name, version.version)
        if plan.problem:
            self._problem(Problem(*where, plan.problem), True)
            return
        run, model = plan.run, plan.model
        source_run = run.source if run is not None else None
        if source_run is not None:
            run_id = self.runs.existing(source_run)
            if run_id is None:
                return  # the run is not in Registre (not copied): neither is what hangs off it
            if run is not None and not run.done:
                run.done = True
                root = self.runs.run_root(run_id)
                self._copy(where, run.artifacts, root, f"run {source_run.id}")
        if model is not None and not model.done:
            model.done = True
            try:
                model_id, created = self.runs.import_logged_model(model.source, source_run)
            except RegistreError as err:
                message = f"logged model {model.source.id} not copied: {err.message}"
                self._problem(Problem(*where, message), True)
                return
            self.report.logged_models_imported += int(created)
            root = self.runs.model_root(model_id)
            self._copy(where, model.artifacts, root, f"logged model {model.source.id}")
        for dropped in self.runs.dropped:
            self._problem(Problem(*where, dropped), False)
        self.runs.dropped.clear()

    def _copy(self, where: tuple[str, int], files: FileSet, root: ArtifactRoot, owner: str) -> None:
        for refused in files.refused:
            self._problem(Problem(*where, f"{owner}: artifact {refused}: not copied"), False)
        for file in files.files:
            try:
                entry = self._put(files.location, file, root)
            except RegistreError as err:
                message = f"{owner}: artifact {file.path!r} not copied: {err.message}"
                self._problem(Problem(*where, message), True)
                continue
            except Exception as err:  # the artifact repository's own errors
                message = f"{owner}: cannot download artifact {file.path!r}: {one_line(err)}"
                self._problem(Problem(*where, message), True)
                continue
            if file.size is not None and entry.size != file.size:
                message = (f"{owner}: artifact {file.path!r}: MLflow lists {file.size} bytes "
                           f"but {entry.size} were downloaded")  # fmt: skip
                self._problem(Problem(*where, message), True)
            self.report.run_files += 1
            self.report.run_bytes += entry.size

    def _put(self, location: str, file: SourceFile, root: ArtifactRoot) -> ArtifactEntry:
        known = self._stored.get(_join(location, file.path))
        if known is not None and (file.size is None or known.size == file.size):
            # Already in the blob store as a version's file: no second download.
            blobs = self.runs.tracking.registry.blobs
            return self.runs.put(root, file.path, blobs.open(known.digest))
        with self.source.download_from(location, file) as handle:
            return self.runs.put(root, file.path, _chunks(handle, self.progress.advance))


def _chunks(handle: BinaryIO, advance: Callable[[int], None]) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        advance(len(chunk))
        yield chunk


def _join(location: str, path: str) -> str:
    return f"{location.rstrip('/')}/{path}"
