"""``registre import-mlflow``: copy an MLflow model registry into Registre."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from registre.cli._common import JsonOption, client, err_console, print_json, say

if TYPE_CHECKING:
    from registre.migrate import ImportReport, Problem


def import_mlflow(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Option(
            "--from",
            help="An MLflow server (http://host:5000) or its database (sqlite:///mlflow.db, "
            "postgresql://...).",
        ),
    ],
    artifact_root: Annotated[
        str | None,
        typer.Option(
            "--artifact-root",
            help="Where the MLflow server keeps mlflow-artifacts:/ files (its "
            "--artifacts-destination): needed with a database --from.",
        ),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Import only this model (repeatable)."),
    ] = None,
    runs: Annotated[
        bool,
        typer.Option(
            "--runs/--no-runs",
            help="Also copy the versions' source runs and experiments (embedded only).",
        ),
    ] = True,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Re-download already imported versions and compare their sha256."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would be imported.")
    ] = False,
    json_: JsonOption = False,
) -> None:
    """Copy models, versions (same numbers), stages, aliases, tags, descriptions, run params
    and metrics, and every file from MLflow. Running it again imports only what is new.

    Exits 0 when everything was imported, 1 when some version could not be (each is
    reported); nothing is registered until all its files are stored.
    """
    # Imported here: `registre --help` should not pay for the service and MLflow layers.
    from registre.migrate import MlflowSource
    from registre.migrate import import_mlflow as run_import
    from registre.service.registry import Registry
    from registre.service.tracking import Tracking

    mlflow = MlflowSource.open(source, artifact_root)  # first: a wrong --from creates nothing
    backend = client(ctx).backend  # embedded (Registry) or remote; the actor is the CLI user
    tracking = Tracking(backend) if runs and isinstance(backend, Registry) else None
    if runs and not isinstance(backend, Registry):
        err_console().print("note: runs are copied in embedded mode only", markup=False)
    with _Bar() as bar:
        report = run_import(
            mlflow,
            backend,
            tracking=tracking,
            models=model or (),
            verify=verify,
            dry_run=dry_run,
            progress=bar,
        )
    if json_:
        print_json(report.to_dict())
    else:
        _summary(report)
    if not report.ok:
        raise typer.Exit(1)


class _Bar:
    """Bytes copied, on stderr when it is a terminal; problems as one line each."""

    def __init__(self) -> None:
        self.console = err_console()
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not self.console.is_terminal,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def planned(self, versions: int, total_bytes: int) -> None:
        self.task = self.progress.add_task(f"{versions} versions", total=total_bytes or None)

    def copying(self, model: str, version: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=f"{model} v{version}")

    def advance(self, nbytes: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, nbytes)

    def problem(self, problem: Problem, *, error: bool) -> None:
        label = "error" if error else "warning"
        self.console.print(f"{label}: {problem}", markup=False, highlight=False, soft_wrap=True)


def _summary(report: ImportReport) -> None:
    verb = "Would import" if report.dry_run else "Imported"
    size = _size(report.bytes)
    say(f"{verb} from {report.source}")
    say(f"  models    {report.models} ({report.models_created} new)")
    say(
        f"  versions  {report.versions_imported} new, {report.versions_present} already "
        f"imported, {report.versions_skipped} skipped, {len(report.errors)} failed"
    )
    say(f"  files     {report.files} ({size})")
    say(f"  run files {report.run_files} ({_size(report.run_bytes)})")
    if not report.dry_run:
        say(f"  runs      {report.runs_imported} new, {report.logged_models_imported} logged "
            "models new")  # fmt: skip
        say(f"  updates   {report.updates} (stages, aliases, tags, descriptions)")


def _size(nbytes: int) -> str:
    value = float(nbytes)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{nbytes} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{nbytes} bytes"
