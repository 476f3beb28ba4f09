"""``registre.Client``: one typed API, run in-process (embedded) or against a server (remote)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from registre.client.backend import Backend
from registre.domain.entities import Event, FileEntry, ModelVersion, Page, RegisteredModel, Stage
from registre.domain.errors import IntegrityError, InvalidInput
from registre.domain.names import check_artifact_path
from registre.store.blobs.base import StoredBlob


def _open_backend(target: str | os.PathLike[str] | None) -> Backend:
    if target is None:
        target = os.environ.get("REGISTRE_URL") or None
    text = None if target is None else str(target)
    if text and text.startswith(("http://", "https://")):
        from registre.client.remote import RemoteBackend

        return RemoteBackend(text)
    from registre.config import load_settings
    from registre.service.registry import Registry

    if text is None:
        settings = load_settings()
    elif "://" in text:  # a database URL; blobs beside a SQLite file, else the default root
        settings = load_settings(database_url=text)
        if text.startswith("sqlite:///") and "REGISTRE_ARTIFACT_ROOT" not in os.environ:
            db_file = Path(text[len("sqlite:///") :])
            settings.artifact_root = str(db_file.resolve().parent / "artifacts")
    else:  # a directory: the embedded defaults under it
        settings = load_settings(home=Path(text), database_url="", artifact_root="")
    return Registry.open(settings.database_url, settings.artifact_root)


class Client:
    """The Registre SDK.

    ``Client("http://localhost:5000")`` talks to a server; ``Client("./registre-data")`` or
    ``Client("sqlite:///reg.db")`` runs embedded; ``Client()`` uses ``REGISTRE_URL`` if set.

    >>> client = Client("./registre-data")
    >>> version = client.log_model(model, "Iris", metrics={"accuracy": 0.97})
    >>> client.load_model("models:/Iris/latest").predict(rows)
    """

    def __init__(self, target: str | os.PathLike[str] | None = None) -> None:
        self.backend: Backend = _open_backend(target)

    @classmethod
    def from_backend(cls, backend: Backend) -> Client:
        """Wrap an already opened backend (a ``Registry`` or a ``RemoteBackend``)."""
        client = cls.__new__(cls)
        client.backend = backend
        return client

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- registered models --------------------------------------------------------------
    def create_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        return self.backend.create_model(name, description, tags)

    def get_model(self, name: str) -> RegisteredModel:
        return self.backend.get_model(name)

    def search_models(
        self,
        filter: str | None = None,
        order_by: list[str] | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        return self.backend.search_models(filter, order_by, max_results, page_token)

    def update_model(self, name: str, description: str) -> RegisteredModel:
        return self.backend.update_model(name, description)

    def rename_model(self, name: str, new_name: str) -> RegisteredModel:
        return self.backend.rename_model(name, new_name)

    def delete_model(self, name: str) -> None:
        self.backend.delete_model(name)

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self.backend.set_model_tag(name, key, value)

    def delete_model_tag(self, name: str, key: str) -> None:
        self.backend.delete_model_tag(name, key)

    # ---- versions -----------------------------------------------------------------------
    def register_version(
        self,
        name: str,
        files: Iterable[FileEntry] = (),
        *,
        source: str = "",
        run_id: str | None = None,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        create_model: bool = True,
        number: int | None = None,
    ) -> ModelVersion:
        return self.backend.register_version(
            name,
            files,
            source=source,
            run_id=run_id,
            metrics=metrics,
            params=params,
            tags=tags,
            description=description,
            create_model=create_model,
            number=number,
        )

    def get_version(self, name: str, version: int | str) -> ModelVersion:
        return self.backend.get_version(name, version)

    def list_versions(self, name: str) -> list[ModelVersion]:
        return self.backend.list_versions(name)

    def search_versions(
        self,
        filter: str | None = None,
        order_by: list[str] | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        return self.backend.search_versions(filter, order_by, max_results, page_token)

    def update_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        return self.backend.update_version(name, version, description)

    def delete_version(self, name: str, version: int | str) -> None:
        self.backend.delete_version(name, version)

    def set_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        self.backend.set_version_tag(name, version, key, value)

    def delete_version_tag(self, name: str, version: int | str, key: str) -> None:
        self.backend.delete_version_tag(name, version, key)

    def log_metrics(self, name: str, version: int | str, metrics: Mapping[str, float]) -> None:
        self.backend.log_metrics(name, version, metrics)

    def transition_stage(
        self, name: str, version: int | str, stage: str | Stage, archive_existing: bool = False
    ) -> ModelVersion:
        return self.backend.transition_stage(name, version, stage, archive_existing)

    def rollback(self, name: str, stage: str | Stage = Stage.PRODUCTION) -> ModelVersion:
        return self.backend.rollback(name, stage)

    def set_alias(self, name: str, alias: str, version: int | str) -> ModelVersion:
        return self.backend.set_alias(name, alias, version)

    def delete_alias(self, name: str, alias: str) -> None:
        self.backend.delete_alias(name, alias)

    def resolve(self, name: str, ref: str | int) -> ModelVersion:
        return self.backend.resolve(name, ref)

    def resolve_uri(self, uri: str) -> ModelVersion:
        return self.backend.resolve_uri(uri)

    def record_event(
        self,
        name: str,
        version: int | str | None,
        action: str,
        details: Mapping[str, Any] | None = None,
    ) -> Event:
        """Write an observation (e.g. ``serving_check_failed``) into the model's history."""
        return self.backend.record_event(name, version, action, details)

    def history(
        self,
        name: str,
        version: int | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Event]:
        return self.backend.history(name, version, max_results, page_token)

    # ---- files --------------------------------------------------------------------------
    def upload_blob(
        self, source: BinaryIO | Iterable[bytes], expected_digest: str | None = None
    ) -> StoredBlob:
        return self.backend.upload_blob(source, expected_digest)

    def open_file(
        self, name: str, version: int | str, path: str
    ) -> tuple[FileEntry, Iterator[bytes]]:
        return self.backend.open_file(name, version, path)

    def list_files(self, name: str, version: int | str) -> list[FileEntry]:
        return self.backend.list_files(name, version)

    def register_files(
        self,
        name: str,
        files: Mapping[str, str | os.PathLike[str]],
        **kwargs: Any,
    ) -> ModelVersion:
        """Upload local files (``{"model/MLmodel": "/tmp/x/MLmodel", ...}``) and register them."""
        entries = []
        for rel, local in files.items():
            rel = check_artifact_path(rel)
            with open(local, "rb") as handle:
                blob = self.upload_blob(handle)
            entries.append(FileEntry(rel, blob.digest, blob.size))
        return self.register_version(name, entries, **kwargs)

    def register_directory(
        self, name: str, directory: str | os.PathLike[str], *, prefix: str = "", **kwargs: Any
    ) -> ModelVersion:
        """Upload every file under ``directory`` (optionally under ``prefix/``) and register."""
        root = Path(directory)
        if not root.is_dir():
            raise InvalidInput(f"{str(root)!r} is not a directory")
        files = {
            (f"{prefix.strip('/')}/" if prefix else "") + p.relative_to(root).as_posix(): p
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
        return self.register_files(name, files, **kwargs)

    def download(
        self,
        name: str,
        version: int | str,
        dest: str | os.PathLike[str],
        path: str | None = None,
    ) -> list[Path]:
        """Download one file (``path``) or every file of a version under ``dest``; each file's
        sha256 is checked against the registry's record."""
        files = self.list_files(name, version)
        if not files:
            self.get_version(name, version).require_files()
        if path is not None:
            path = check_artifact_path(path)
            files = [f for f in files if f.path == path or f.path.startswith(path + "/")]
            if not files:
                from registre.domain.errors import NotFound

                raise NotFound(f"model {name!r} version {version} has no file {path!r}")
        root = Path(dest)
        written = []
        for entry in files:
            target = root / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            _, stream = self.open_file(name, version, entry.path)
            _write_verified(stream, target, entry)
            written.append(target)
        return written

    # ---- models as objects --------------------------------------------------------------
    def log_model(
        self,
        model: Any,
        name: str,
        *,
        artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
        input_example: Any = None,
        signature: Any = None,
        serialization: str = "skops",
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        **save_kwargs: Any,
    ) -> ModelVersion:
        """Package ``model`` in the MLmodel layout under ``model/``, add extra ``artifacts``
        (``{"plots/confusion.png": "cm.png"}``) and register it as the next version."""
        from registre.packaging import save_model

        with tempfile.TemporaryDirectory(prefix="registre-") as tmp:
            model_dir = Path(tmp) / "model"
            save_model(
                model,
                model_dir,
                input_example=input_example,
                signature=signature,
                serialization=serialization,
                **save_kwargs,
            )
            files: dict[str, str | os.PathLike[str]] = {
                "model/" + p.relative_to(model_dir).as_posix(): p
                for p in sorted(model_dir.rglob("*"))
                if p.is_file()
            }
            for rel, local in (artifacts or {}).items():
                rel = check_artifact_path(rel)
                if rel == "model" or rel.startswith("model/"):
                    raise InvalidInput(f"artifact path {rel!r} collides with the model directory")
                files[rel] = local
            return self.register_files(
                name,
                files,
                metrics=metrics,
                params=params,
                tags=tags,
                description=description,
                source="registre:log_model",
            )

    def load_model(
        self,
        uri: str,
        *,
        trust_pickle: bool = False,
        trust_code: bool = False,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> Any:
        """Resolve ``models:/Name/<version|stage|latest>`` or ``models:/Name@alias``, download
        its ``model/`` files (digests checked) and return a predictor."""
        from registre.packaging import load_model

        version = self.resolve_uri(uri)
        has_subdir = any(f.path.startswith("model/") for f in version.files)
        base = Path(cache_dir) if cache_dir else _cache_root()
        target = base / _safe_dir(version.name) / str(version.version)
        self.download(version.name, version.version, target, "model" if has_subdir else None)
        model_dir = target / "model" if has_subdir else target
        return load_model(model_dir, trust_pickle=trust_pickle, trust_code=trust_code)


def _cache_root() -> Path:
    root = os.environ.get("REGISTRE_CACHE_DIR")
    return Path(root) if root else Path(tempfile.gettempdir()) / "registre-cache"


def _safe_dir(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def _write_verified(stream: Iterator[bytes], target: Path, entry: FileEntry) -> None:
    hasher = hashlib.sha256()
    # A unique temp name, then an atomic rename: processes sharing a cache never collide.
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in stream:
                hasher.update(chunk)
                out.write(chunk)
        if hasher.hexdigest() != entry.digest:
            raise IntegrityError(
                f"{entry.path}: downloaded bytes hash to {hasher.hexdigest()}, "
                f"not the registered {entry.digest}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
