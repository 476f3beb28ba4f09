"""Tracking entities (experiments, runs, metrics, logged models, artifacts): plain data, no I/O.

Artifacts are addressed as MLflow's artifact proxy lays them out, relative to the proxy root::

    <experiment_id>/<run_id>/artifacts/<path>           a run's artifacts
    <experiment_id>/models/<model_id>/artifacts/<path>  a logged model's artifacts
    _registry/<base64url(model name)>/<version>/<path>  a model version's files (read-only)
    <any other relative path>                           the proxy's own namespace

They are rows (root, path) → digest in the metadata store; these strings never become
filesystem paths.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from registre.domain import names
from registre.domain.errors import InvalidInput

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"
ARTIFACT_SCHEME = "mlflow-artifacts:"
MAX_PARAM_VALUE_LENGTH = 6000
_EXPERIMENT_ID = re.compile(r"^\d{1,18}$")
_RUN_ID = re.compile(r"^[0-9a-zA-Z][0-9a-zA-Z_\-]{0,63}$")
_MODEL_ID = re.compile(r"^m-[0-9a-f]{32}$")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @classmethod
    def parse(cls, value: object) -> RunStatus:
        for status in cls:
            if str(value).upper() == status.value:
                return status
        raise InvalidInput(
            f"invalid run status {value!r}: expected one of {[s.value for s in cls]}"
        )


class Lifecycle(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    ACTIVE_ONLY = "ACTIVE_ONLY"
    DELETED_ONLY = "DELETED_ONLY"
    ALL = "ALL"

    @classmethod
    def parse(cls, value: object) -> ViewType:
        if value is None or value == "":
            return cls.ACTIVE_ONLY
        for view in cls:
            if str(value).upper() == view.value:
                return view
        raise InvalidInput(f"invalid view type {value!r}: expected one of {[v.value for v in cls]}")

    def stages(self) -> tuple[str, ...]:
        if self is ViewType.ALL:
            return (Lifecycle.ACTIVE.value, Lifecycle.DELETED.value)
        if self is ViewType.DELETED_ONLY:
            return (Lifecycle.DELETED.value,)
        return (Lifecycle.ACTIVE.value,)


class LoggedModelStatus(enum.StrEnum):
    PENDING = "LOGGED_MODEL_PENDING"
    READY = "LOGGED_MODEL_READY"
    UPLOAD_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"

    @classmethod
    def parse(cls, value: object) -> LoggedModelStatus:
        for status in cls:
            if str(value).upper() in (status.value, status.name):
                return status
        raise InvalidInput(f"invalid logged model status {value!r}")


@dataclass(slots=True)
class Experiment:
    id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = Lifecycle.ACTIVE.value
    created_at: int = 0
    updated_at: int = 0
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    run_id: str | None = None
    dataset_name: str | None = None  # the dataset the value was computed on, if any
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True)
class DatasetFilter:
    """Metrics computed on a dataset: by name, and by digest too when it is given."""

    name: str
    digest: str | None = None

    def matches(self, metric: Metric) -> bool:
        return metric.dataset_name == self.name and (
            self.digest is None or metric.dataset_digest == self.digest
        )


@dataclass(slots=True)
class Run:
    id: str
    experiment_id: str
    name: str
    user_id: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)  # the latest value of each key
    outputs: list[tuple[str, int]] = field(default_factory=list)  # (model_id, step)
    inputs: list[str] = field(default_factory=list)  # model ids
    datasets: list[dict[str, Any]] = field(default_factory=list)  # DatasetInput messages

    def latest_metrics(self) -> dict[str, float]:
        return {m.key: m.value for m in self.metrics}


@dataclass(slots=True)
class LoggedModel:
    id: str
    experiment_id: str
    name: str
    artifact_uri: str
    status: LoggedModelStatus = LoggedModelStatus.PENDING
    source_run_id: str | None = None
    model_type: str = ""
    status_message: str = ""
    created_at: int = 0
    updated_at: int = 0
    lifecycle_stage: str = Lifecycle.ACTIVE.value
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    # The latest point of each (key, dataset), by key, then oldest to newest.
    metrics: list[Metric] = field(default_factory=list)

    def latest_metric(self, key: str, datasets: list[DatasetFilter] | None = None) -> float | None:
        """The newest value of ``key`` (among those computed on ``datasets`` if given)."""
        found = None
        for m in self.metrics:
            if m.key == key and (not datasets or any(d.matches(m) for d in datasets)):
                found = m.value
        return found


RootKind = Literal["run", "model", "proxy"]


@dataclass(frozen=True, slots=True)
class ArtifactRoot:
    """Whose artifacts: a run's (``kind="run"``), a logged model's (``kind="model"``), or the
    proxy's own namespace (``kind="proxy"``: paths outside any run or model, as clients may
    upload anywhere below ``mlflow-artifacts:/``)."""

    kind: RootKind
    id: str
    experiment_id: str

    @property
    def uri(self) -> str:
        return f"{ARTIFACT_SCHEME}/{self.prefix}"

    @property
    def prefix(self) -> str:
        if self.kind == "run":
            return f"{self.experiment_id}/{self.id}/artifacts"
        if self.kind == "model":
            return f"{self.experiment_id}/models/{self.id}/artifacts"
        return ""


PROXY_ROOT = ArtifactRoot("proxy", "", "")


@dataclass(frozen=True, slots=True)
class ArtifactEntry:
    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ListedFile:
    """One entry of a directory listing: ``path`` is relative to the listed directory."""

    path: str
    is_dir: bool
    size: int | None = None


@dataclass(frozen=True, slots=True)
class ArtifactLocation:
    """An artifact proxy path split into its root and the path below it ("" = the root)."""

    root: ArtifactRoot
    path: str


def new_run_id() -> str:
    return uuid.uuid4().hex


def new_model_id() -> str:
    return f"m-{uuid.uuid4().hex}"


def run_artifact_root(experiment_id: str, run_id: str) -> ArtifactRoot:
    return ArtifactRoot("run", run_id, experiment_id)


def model_artifact_root(experiment_id: str, model_id: str) -> ArtifactRoot:
    return ArtifactRoot("model", model_id, experiment_id)


def check_experiment_id(value: object) -> str:
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not _EXPERIMENT_ID.match(text):
        raise InvalidInput(f"invalid experiment id {value!r}")
    return str(int(text))


def check_run_id(value: object) -> str:
    if not isinstance(value, str) or not _RUN_ID.match(value):
        raise InvalidInput(f"invalid run id {value!r}")
    return value


def check_model_id(value: object) -> str:
    if not isinstance(value, str) or not _MODEL_ID.match(value):
        raise InvalidInput(f"invalid logged model id {value!r}")
    return value


def check_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("experiment name must be a non-empty string")
    if len(name) > names.MAX_NAME_LENGTH:
        raise InvalidInput(f"experiment name is longer than {names.MAX_NAME_LENGTH} characters")
    return name


MAX_DATASET_NAME_LENGTH = 500
MAX_DATASET_DIGEST_LENGTH = 64


def check_metric_dataset(name: object, digest: object) -> tuple[str | None, str | None]:
    """The optional dataset of a metric point: a name (and a digest, only with a name)."""
    clean: list[str | None] = []
    for what, value, limit in (("dataset_name", name, MAX_DATASET_NAME_LENGTH),
                               ("dataset_digest", digest, MAX_DATASET_DIGEST_LENGTH)):  # fmt: skip
        if value is None or value == "":
            clean.append(None)
        elif not isinstance(value, str) or len(value) > limit:
            raise InvalidInput(f"{what} must be a string of at most {limit} characters")
        else:
            clean.append(value)
    if clean[1] is not None and clean[0] is None:
        raise InvalidInput("a metric's dataset_digest needs its dataset_name")
    return clean[0], clean[1]


def check_param(key: object, value: object) -> tuple[str, str]:
    names.check_tag(key)
    text = value if isinstance(value, str) else "" if value is None else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidInput(f"param {key!r} is longer than {MAX_PARAM_VALUE_LENGTH} characters")
    return str(key), text


MAX_DATASET_INPUT_BYTES = 1024 * 1024
_DATASET_FIELDS = [  # (field, longest, required)
    ("name", 500, True), ("digest", 64, True), ("source_type", 100, True),
    ("source", 65536, True), ("schema", 1 << 20, False), ("profile", 1 << 20, False),
]  # fmt: skip


def check_dataset_input(body: object) -> dict[str, Any]:
    """A DatasetInput message (``{"dataset": {name, digest, source_type, source, schema?,
    profile?}, "tags": [{key, value}]}``), with unknown fields dropped."""
    import json

    if not isinstance(body, dict) or not isinstance(body.get("dataset"), dict):
        raise InvalidInput("a dataset input needs a 'dataset' object")
    dataset = body["dataset"]
    clean: dict[str, Any] = {}
    for key, limit, required in _DATASET_FIELDS:
        value = dataset.get(key)
        if value in (None, "") and not required:
            continue
        if not isinstance(value, str) or not value or len(value) > limit:
            raise InvalidInput(f"dataset {key!r} must be a string of 1 to {limit} characters")
        clean[key] = value
    tags = body.get("tags") or []
    if not isinstance(tags, list) or not all(
        isinstance(t, dict)
        and isinstance(t.get("key"), str)
        and isinstance(t.get("value", ""), str)
        for t in tags
    ):
        raise InvalidInput("dataset input tags must be a list of {key, value} strings")
    result = {"tags": [{"key": t["key"], "value": t.get("value", "")} for t in tags],
              "dataset": clean}  # fmt: skip
    if len(json.dumps(result)) > MAX_DATASET_INPUT_BYTES:
        raise InvalidInput(f"a dataset input is larger than {MAX_DATASET_INPUT_BYTES} bytes")
    return result


def check_artifact_key(path: object, *, allow_root: bool = False) -> str:
    """A relative artifact path as received (already URL-decoded once by the HTTP layer).

    Stricter than :func:`names.check_artifact_path`: any remaining percent-escape
    (``%2e%2e``, double-encoded ``%252e``), ``#``, ``?``, and non-canonical spellings
    (``a//b``, ``./a``) are refused, so no later decoding or normalising step can ever turn an
    accepted path into a different one. ``""`` is the root when allowed.
    """
    if not isinstance(path, str):
        raise InvalidInput("artifact path must be a string")
    if "#" in path or "?" in path:
        raise InvalidInput(f"artifact path {path!r} must not contain '#' or '?'")
    if _ESCAPE.search(path) or unquote(path) != path:
        raise InvalidInput(f"artifact path {path!r} must not contain percent-escapes")
    if path == "" and allow_root:
        return ""
    clean = names.check_artifact_path(path)
    if clean != path.removesuffix("/"):  # "a//b", "a/./b": one spelling per file, no aliases
        raise InvalidInput(f"artifact path {path!r} is not in canonical form ({clean!r})")
    return clean


def parse_artifact_location(path: str) -> ArtifactLocation:
    """``"1/<run>/artifacts/model/MLmodel"`` → root (run, <run>, exp 1) + ``"model/MLmodel"``."""
    clean = check_artifact_key(path, allow_root=True)
    parts = clean.split("/") if clean else []
    if len(parts) >= 3 and parts[2] == "artifacts" and parts[1] != "models":
        root = run_artifact_root(check_experiment_id(parts[0]), check_run_id(parts[1]))
        return ArtifactLocation(root, "/".join(parts[3:]))
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        root = model_artifact_root(check_experiment_id(parts[0]), check_model_id(parts[2]))
        return ArtifactLocation(root, "/".join(parts[4:]))
    raise InvalidInput(
        f"artifact path {path!r} is not inside a run or logged model: expected "
        "<experiment_id>/<run_id>/artifacts/... or <experiment_id>/models/<model_id>/artifacts/..."
    )


_SCHEME_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def parse_proxy_location(path: str) -> ArtifactLocation:
    """Any path below the proxy root: inside a run or logged model when it has their layout
    (which must then exist), otherwise in the proxy's own namespace (:data:`PROXY_ROOT`).

    Model version files (``_registry/...``) are read-only and refused here, as is a first
    segment that reads as a URI scheme (``file:...``), so no key looks like a location.
    """
    clean = check_artifact_key(path, allow_root=True)
    parts = clean.split("/") if clean else []
    if len(parts) >= 3 and _EXPERIMENT_ID.match(parts[0]):
        if parts[2] == "artifacts" and parts[1] != "models" and _RUN_ID.match(parts[1]):
            root = run_artifact_root(check_experiment_id(parts[0]), parts[1])
            return ArtifactLocation(root, "/".join(parts[3:]))
        model = len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts"
        if model and _MODEL_ID.match(parts[2]):
            root = model_artifact_root(check_experiment_id(parts[0]), parts[2])
            return ArtifactLocation(root, "/".join(parts[4:]))
    if parts and parts[0] == REGISTRY_PREFIX:
        raise InvalidInput(f"artifact path {path!r} is inside a model version: read-only")
    if parts and _SCHEME_LIKE.match(parts[0]):
        raise InvalidInput(f"artifact path {path!r} must be relative, not a URI")
    return ArtifactLocation(PROXY_ROOT, clean)


REGISTRY_PREFIX = "_registry"


@dataclass(frozen=True, slots=True)
class VersionLocation:
    """A path inside a registered model version's (immutable) files."""

    name: str
    version: int
    path: str


def version_artifact_uri(name: str, version: int) -> str:
    token = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
    return f"{ARTIFACT_SCHEME}/{REGISTRY_PREFIX}/{token}/{version}"


def parse_version_location(path: str) -> VersionLocation | None:
    """``"_registry/SXJpcw/3/MLmodel"`` → (Iris, 3, "MLmodel"); None for other paths."""
    clean = check_artifact_key(path, allow_root=True)
    parts = clean.split("/")
    if parts[0] != REGISTRY_PREFIX:
        return None
    if len(parts) < 3 or not re.fullmatch(r"[A-Za-z0-9_-]{1,400}", parts[1]):
        raise InvalidInput(f"invalid model version artifact path {path!r}")
    try:
        name = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput(f"invalid model version artifact path {path!r}") from None
    return VersionLocation(names.check_model_name(name), names.check_version(parts[2]),
                           "/".join(parts[3:]))  # fmt: skip


def list_directory(entries: list[ArtifactEntry], directory: str) -> list[ListedFile]:
    """The immediate children of ``directory`` ("" = root) among ``entries``' paths."""
    prefix = f"{directory}/" if directory else ""
    files: dict[str, ListedFile] = {}
    for entry in entries:
        if not entry.path.startswith(prefix):
            continue
        head, sep, _ = entry.path[len(prefix) :].partition("/")
        if sep:
            files.setdefault(head, ListedFile(head, True))
        else:
            files[head] = ListedFile(head, False, entry.size)
    return sorted(files.values(), key=lambda f: f.path)
