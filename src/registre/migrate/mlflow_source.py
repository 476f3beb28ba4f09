"""Read an MLflow registry through the official client: its REST API or its database.

``MlflowSource.open("http://mlflow:5000")`` or ``MlflowSource.open("sqlite:///mlflow.db",
artifact_root="./mlartifacts")``. Every MLflow type is turned into a record here; failures
become Registre errors with one-line messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar
from urllib.parse import urlsplit

from registre.domain.errors import InvalidInput, NotFound, RegistreError, Unavailable
from registre.migrate.mlflow_artifacts import ArtifactReader
from registre.migrate.provenance import source_id
from registre.migrate.records import (
    SourceFile,
    SourceLoggedModel,
    SourceMetric,
    SourceModel,
    SourceRun,
    SourceVersion,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

T = TypeVar("T")
DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")
PROBE_TIMEOUT_SECONDS = "10"
MAX_INDIRECTIONS = 5
_RUNS_URI = re.compile(r"^runs:/([^/]+)/?(.*)$")
_LOGGED_MODEL_URI = re.compile(r"^models:/(m-[0-9a-f]{32})/?(.*)$")
_VERSION_URI = re.compile(r"^models:/([^/@]+)/(\d+)/?(.*)$")


class SourceError(RegistreError):
    """MLflow answered with an error, or could not be read (one line, no traceback)."""

    code = "SOURCE_ERROR"
    status = 502
    exit_code = 3


def one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


class MlflowSource:
    """The models, versions, runs, logged models and files of one MLflow deployment."""

    def __init__(self, client: MlflowClient, uri: str, artifacts: ArtifactReader) -> None:
        self.client = client
        self.uri = uri  # credential-free: what provenance tags and messages show
        self.artifacts = artifacts
        self._locations: dict[tuple[str, int], str] = {}
        self._experiments: dict[str, Any] = {}

    @classmethod
    def open(cls, uri: str, artifact_root: str | None = None) -> MlflowSource:
        """Connect and check that the registry answers; Unavailable/NotFound otherwise."""
        tracking_uri, shown = _check_uri(uri)
        try:
            from mlflow import MlflowClient
        except ImportError:  # pragma: no cover - mlflow is an optional dependency
            raise InvalidInput(
                "reading MLflow needs its client: pip install 'registre[mlflow]'"
            ) from None
        try:
            client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
            with _quick_failure():
                client.search_registered_models(max_results=1)
        except Exception as exc:
            raise Unavailable(f"cannot read MLflow at {shown}: {one_line(exc)}") from None
        artifacts = ArtifactReader(tracking_uri, artifact_root)
        return cls(client, shown, artifacts)

    # ---- registry -----------------------------------------------------------------------
    def models(self, names: Sequence[str] = ()) -> Iterator[SourceModel]:
        """Every registered model (or just ``names``), with its tags and aliases."""
        wanted = list(names) or [m.name for m in self._pages(self.client.search_registered_models)]
        for name in wanted:
            model = self._call(f"model {name!r}", self.client.get_registered_model, name)
            yield SourceModel(
                name=model.name,
                description=model.description or "",
                created_at=int(model.creation_timestamp or 0),
                tags=dict(model.tags or {}),
                aliases={alias: int(v) for alias, v in (model.aliases or {}).items()},
            )

    def versions(self, name: str) -> list[SourceVersion]:
        """Every (not deleted) version of ``name``, oldest first."""
        if "'" not in name:
            found = self._pages(self.client.search_model_versions, f"name = '{name}'")
        elif '"' not in name:
            found = self._pages(self.client.search_model_versions, f'name = "{name}"')
        else:  # no quoting would do: list all versions and pick this model's
            found = [v for v in self._pages(self.client.search_model_versions) if v.name == name]
        versions = [_version(v) for v in found if v.name == name]
        return sorted(versions, key=lambda v: v.version)

    def files(self, version: SourceVersion) -> list[SourceFile]:
        """The files of the version's artifact location (MLflow's download URI)."""
        return self.artifacts.list(self.location(version))

    @contextmanager
    def download(self, version: SourceVersion, file: SourceFile) -> Iterator[BinaryIO]:
        """One file, opened for reading (from a temporary copy unless it is already local)."""
        with self.artifacts.open(self.location(version), file) as handle:
            yield handle

    def files_at(self, location: str) -> list[SourceFile]:
        """Every file under a storage location (a run's or a logged model's artifacts)."""
        return self.artifacts.list(location)

    @contextmanager
    def download_from(self, location: str, file: SourceFile) -> Iterator[BinaryIO]:
        with self.artifacts.open(location, file) as handle:
            yield handle

    def location(self, version: SourceVersion) -> str:
        """Where the version's files are: its download URI, with ``runs:/`` and ``models:/``
        followed to the storage location they stand for (as MLflow's own download does)."""
        key = (version.name, version.version)
        if key not in self._locations:
            uri = self._call(
                f"{version.name!r} version {version.version}",
                self.client.get_model_version_download_uri,
                version.name,
                str(version.version),
            )
            for _ in range(MAX_INDIRECTIONS):
                target = self._dereference(uri)
                if target is None:
                    break
                uri = target
            else:
                raise SourceError(f"MLflow: {version.name!r} version {version.version}: "
                                  f"too many indirections in its source {uri!r}")  # fmt: skip
            self._locations = {key: uri}  # one version at a time
        return self._locations[key]

    def _dereference(self, uri: str) -> str | None:
        """The URI ``runs:/...`` or ``models:/...`` stands for; None for a storage URI."""
        if match := _RUNS_URI.match(uri):
            run_id, path = match.groups()
            run = self._call(f"run {run_id}", self.client.get_run, run_id)
            return _join(run.info.artifact_uri, path)
        if match := _LOGGED_MODEL_URI.match(uri):
            model_id, path = match.groups()
            model = self._call(f"logged model {model_id}", self.client.get_logged_model, model_id)
            return _join(model.artifact_location, path)
        if match := _VERSION_URI.match(uri):
            name, number, path = match.groups()
            found = self._call(
                f"model {name!r} version {number}",
                self.client.get_model_version_download_uri,
                name,
                number,
            )
            return _join(found, path)
        if uri.startswith(("runs:", "models:")):
            raise SourceError(f"MLflow: unsupported model version source {uri!r}")
        return None

    # ---- tracking -----------------------------------------------------------------------
    def run(self, run_id: str) -> SourceRun:
        run = self._call(f"run {run_id}", self.client.get_run, run_id)
        info, data = run.info, run.data
        experiment = self._experiment(str(info.experiment_id))
        outputs = getattr(getattr(run, "outputs", None), "model_outputs", None) or []
        return SourceRun(
            id=info.run_id,
            experiment_id=str(info.experiment_id),
            experiment_name=experiment.name,
            name=info.run_name or "",
            user_id=info.user_id or "",
            status=info.status or "FINISHED",
            start_time=int(info.start_time or 0),
            end_time=int(info.end_time) if info.end_time else None,
            params=dict(data.params or {}),
            metrics={k: float(v) for k, v in (data.metrics or {}).items()},
            tags=dict(data.tags or {}),
            experiment_tags=dict(experiment.tags or {}),
            artifact_uri=info.artifact_uri or "",
            model_outputs={o.model_id: int(o.step or 0) for o in outputs},
        )

    def metric_history(self, run_id: str, key: str) -> list[SourceMetric]:
        points = self._call(
            f"metric {key!r} of run {run_id}", self.client.get_metric_history, run_id, key
        )
        return [_metric(p) for p in points]

    def logged_model(self, model_id: str) -> SourceLoggedModel:
        """An MLflow 3 logged model, with its params, tags and metrics."""
        model = self._call(f"logged model {model_id}", self.client.get_logged_model, model_id)
        experiment = self._experiment(str(model.experiment_id))
        status = getattr(model.status, "value", model.status)
        return SourceLoggedModel(
            id=model.model_id,
            experiment_id=str(model.experiment_id),
            experiment_name=experiment.name,
            name=model.name or "",
            artifact_location=model.artifact_location or "",
            source_run_id=model.source_run_id or None,
            model_type=model.model_type or "",
            status=str(status or "READY"),
            params=dict(model.params or {}),
            tags=dict(model.tags or {}),
            metrics=[_metric(p) for p in model.metrics or []],
            experiment_tags=dict(experiment.tags or {}),
        )

    def _experiment(self, experiment_id: str) -> Any:
        if experiment_id not in self._experiments:
            self._experiments[experiment_id] = self._call(
                f"experiment {experiment_id}", self.client.get_experiment, experiment_id
            )
        return self._experiments[experiment_id]

    # ---- helpers ------------------------------------------------------------------------
    def _pages(self, search: Callable[..., Any], filter_string: str | None = None) -> list[Any]:
        found: list[Any] = []
        token: str | None = None
        while True:
            page = self._call("a search", search, filter_string, page_token=token)
            found.extend(page)
            token = page.token
            if not token:
                return found

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise SourceError(f"MLflow: cannot read {what}: {one_line(exc)}") from None


def _join(base: str, path: str) -> str:
    return f"{base.rstrip('/')}/{path.strip('/')}" if path.strip("/") else base


def _metric(p: Any) -> SourceMetric:
    return SourceMetric(
        p.key, float(p.value), int(p.timestamp or 0), int(p.step or 0),
        run_id=getattr(p, "run_id", None) or None,
        dataset_name=getattr(p, "dataset_name", None) or None,
        dataset_digest=getattr(p, "dataset_digest", None) or None,
    )  # fmt: skip


def _version(v: Any) -> SourceVersion:
    source = v.source or ""
    model_id = getattr(v, "model_id", None)
    if not model_id and (match := _LOGGED_MODEL_URI.match(source)) and not match.group(2):
        model_id = match.group(1)  # a client older than MLflow 3's model_id field
    return SourceVersion(
        name=v.name,
        version=int(v.version),
        stage=v.current_stage or "None",
        status=v.status or "READY",
        description=v.description or "",
        source=source,
        run_id=v.run_id or None,
        user_id=v.user_id or "",
        created_at=int(v.creation_timestamp or 0),
        tags=dict(v.tags or {}),
        model_id=model_id or None,
    )


def _check_uri(uri: str) -> tuple[str, str]:
    """(the URI to hand to MlflowClient, the URI to show and record)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower().partition("+")[0]
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise InvalidInput(f"--from {uri!r} names no host")
        return uri.rstrip("/"), source_id(uri)
    if scheme == "sqlite":
        # MLflow would create an empty database at a mistyped path: refuse instead.
        path = uri.split(":///", 1)[1] if ":///" in uri else ""
        if not path or path == ":memory:" or not Path(path).is_file():
            raise NotFound(f"no MLflow database at {uri!r}")
        absolute = Path(path).resolve()
        return f"{uri.split(':///', 1)[0]}:///{absolute}", f"sqlite:///{absolute}"
    if scheme in DATABASE_SCHEMES:
        return uri, source_id(uri)
    raise InvalidInput(
        f"--from {uri!r}: expected an MLflow server (http://host:5000) or its database "
        f"({', '.join(s + '://...' for s in DATABASE_SCHEMES)})"
    )


@contextmanager
def _quick_failure() -> Iterator[None]:
    """While probing, an unreachable server fails in seconds, not after minutes of retries
    (the import itself keeps MLflow's retry policy, or the one set in the environment)."""
    saved = {k: os.environ.get(k) for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES",
                                             "MLFLOW_HTTP_REQUEST_TIMEOUT")}  # fmt: skip
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = PROBE_TIMEOUT_SECONDS
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
