"""What an import did (counts, problems) and how it reports progress while running."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Problem:
    """A model or version that was not (fully) imported, or a detail that was dropped."""

    model: str
    version: int | None
    message: str

    def __str__(self) -> str:
        where = self.model if self.version is None else f"{self.model} version {self.version}"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    source: str
    dry_run: bool = False
    models: int = 0  # seen in MLflow (and importable)
    models_created: int = 0
    versions_imported: int = 0
    versions_present: int = 0  # imported by an earlier run: left as they are
    versions_skipped: int = 0  # not READY in MLflow
    files: int = 0  # the versions' own files
    bytes: int = 0
    runs_imported: int = 0
    logged_models_imported: int = 0
    run_files: int = 0  # artifacts stored in runs and logged models (downloaded or reused)
    run_bytes: int = 0
    updates: int = 0  # stages, aliases, tags, descriptions brought in line with MLflow
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = [asdict(p) for p in self.errors]
        data["warnings"] = [asdict(p) for p in self.warnings]
        data["ok"] = self.ok
        return data


class ImportProgress(Protocol):
    """Told what the import does; the CLI draws a progress bar from it."""

    def planned(self, versions: int, total_bytes: int) -> None: ...
    def copying(self, model: str, version: int) -> None: ...
    def advance(self, nbytes: int) -> None: ...
    def problem(self, problem: Problem, *, error: bool) -> None: ...


class NoProgress:
    def planned(self, versions: int, total_bytes: int) -> None:
        pass

    def copying(self, model: str, version: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def problem(self, problem: Problem, *, error: bool) -> None:
        pass
