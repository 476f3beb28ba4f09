"""A served model version: a loaded predictor, what it was loaded from, and how to batch it."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registre.domain.entities import ModelVersion
from registre.domain.errors import IntegrityError, InvalidInput
from registre.packaging import Predictor, load_model
from registre.packaging.signature import ColSpec, TensorSpec

logger = logging.getLogger("registre.serving")

# Flavors whose predict maps each input row to one output row, independently of the others:
# concatenating callers' rows into one predict call gives each caller what it would get alone.
ROW_WISE_FLAVORS = frozenset({"sklearn", "onnx"})


@dataclass(eq=False)
class ServedVersion:
    """One loaded version. Requests hold a reference to the one they started with, so a swap
    never changes the model under a request in flight."""

    name: str  # the registered model's name
    version: str
    uri: str  # what it was resolved from (models:/Name/Production) or its directory
    predictor: Predictor
    directory: Path | None = None  # a private download, deleted once the version is retired
    columns: tuple[str, ...] | None = field(init=False)
    required: frozenset[str] = field(init=False)
    tensor: TensorSpec | None = field(init=False)  # a single input tensor batched on axis 0
    row_wise: bool = field(init=False)

    def __post_init__(self) -> None:
        schema = self.predictor.input_schema
        self.columns, self.required, self.tensor = None, frozenset(), None
        if schema is not None and len(schema.specs) == 1 and schema.is_tensor:
            spec = schema.specs[0]
            if isinstance(spec, TensorSpec) and spec.shape[:1] == (-1,):
                self.tensor = spec
        if schema is not None and schema.specs and not schema.is_tensor:
            names = schema.names
            if all(name is not None for name in names):
                self.columns = tuple(str(n) for n in names)
                self.required = frozenset(
                    str(s.name) for s in schema.specs if isinstance(s, ColSpec) and s.required
                )
        self.row_wise = self.predictor.flavor in ROW_WISE_FLAVORS

    @property
    def flavor(self) -> str:
        return self.predictor.flavor

    def check(self) -> None:
        """Predict on the stored input example: a version that cannot is not served."""
        example = self.predictor.input_example()
        if example is None:
            return
        try:
            self.predictor.predict(example)
        except Exception as exc:
            raise InvalidInput(
                f"predicting on its input example failed: {type(exc).__name__}: {exc}"
            ) from exc

    def retire(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def load_registered(
    client: Any, version: ModelVersion, uri: str, cache_dir: Path, *, trust_pickle: bool = False
) -> ServedVersion:
    """Download a registered version (each file's digest checked), load it and check it."""
    has_subdir = any(f.path.startswith("model/") for f in version.files)
    target = cache_dir / f"{_slug(version.name)}-v{version.version}-{uuid.uuid4().hex[:8]}"
    try:
        client.download(version.name, version.version, target, "model" if has_subdir else None)
        model_dir = target / "model" if has_subdir else target
        predictor = load_model(model_dir, trust_pickle=trust_pickle)
        served = ServedVersion(version.name, str(version.version), uri, predictor, target)
        served.check()
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return served


def load_directory(
    directory: Path,
    *,
    name: str | None = None,
    version: str | None = None,
    manifest: Path | None = None,
    trust_pickle: bool = False,
) -> ServedVersion:
    """Load a model directory (a baked container model); with ``manifest``, verify its files'
    digests first and take the name and version from it."""
    if manifest is not None:
        recorded = verify_manifest(directory, manifest)
        name = name or recorded.get("name")
        version = version or str(recorded.get("version", ""))
    predictor = load_model(directory, trust_pickle=trust_pickle)
    served = ServedVersion(
        name or directory.name, version or "1", f"file://{directory}", predictor, None
    )
    served.check()
    return served


def verify_manifest(directory: Path, manifest: Path) -> dict[str, Any]:
    """Check every file listed in ``manifest`` (``{"files": {path: sha256}}``) under
    ``directory``; unlisted files are refused too."""
    try:
        recorded: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        files: dict[str, str] = recorded["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"cannot read the model manifest {manifest}: {exc}") from exc
    present = {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
    if unlisted := sorted(present - set(files)):
        raise IntegrityError(f"files not in the manifest: {unlisted}")
    for rel, digest in files.items():
        path = directory / rel
        if not path.is_file():
            raise IntegrityError(f"{rel} is listed in the manifest but missing")
        actual = file_digest(path)
        if actual != digest:
            raise IntegrityError(f"{rel} hashes to {actual}, not the recorded {digest}")
    return recorded


def file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _slug(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40]
    return f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
