"""List and fetch the files of an MLflow artifact location through MLflow's artifact
repositories (``mlflow-artifacts:`` proxy, local paths, s3://, gs://, ...).

``mlflow-artifacts:/<path>`` means "under the server's --artifacts-destination": through a
server it is fetched over HTTP; read from the database, it is mapped onto ``artifact_root``
(the same directory or bucket the server wrote to).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from registre.domain.errors import InvalidInput
from registre.migrate.records import SourceFile

PROXY_SCHEME = "mlflow-artifacts"
KEPT_REPOSITORIES = 4  # a version's files, its run's and its logged model's, and one spare


class MissingArtifactRoot(InvalidInput):
    """The registry's files are behind a server's proxy, but a database was given: nothing
    can be imported without ``--artifact-root``."""


class ArtifactReader:
    def __init__(self, tracking_uri: str, artifact_root: str | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = _normalize_root(artifact_root) if artifact_root else None
        self._repos: dict[str, Any] = {}

    def resolve(self, location: str) -> str:
        """The URI an artifact repository can read ``location`` from."""
        if urlsplit(location).scheme != PROXY_SCHEME:
            return location
        if self.artifact_root is None:
            if urlsplit(self.tracking_uri).scheme in ("http", "https"):
                return location  # the server proxies it
            raise MissingArtifactRoot(
                f"{location} is stored by an MLflow server's artifact proxy: pass "
                "--artifact-root (the server's --artifacts-destination) or import from the "
                "server's URL"
            )
        path = urlsplit(location).path.strip("/")
        if ".." in path.split("/"):
            raise InvalidInput(f"unsafe artifact location {location!r}")
        return f"{self.artifact_root}/{path}" if path else self.artifact_root

    def list(self, location: str) -> list[SourceFile]:
        """Every file under ``location``, with paths relative to it, sorted."""
        repo = self._repo(location)
        found: list[SourceFile] = []
        pending = [""]
        while pending:
            directory = pending.pop()
            for info in repo.list_artifacts(directory or None):
                path = _relative(info.path, directory)
                if info.is_dir:
                    pending.append(path)
                else:
                    size = int(info.file_size) if info.file_size is not None else None
                    found.append(SourceFile(path, size))
        return sorted(found, key=lambda f: f.path)

    @contextmanager
    def open(self, location: str, file: SourceFile) -> Iterator[BinaryIO]:
        repo = self._repo(location)
        local_root = getattr(repo, "artifact_dir", None)
        if isinstance(local_root, str) and type(repo).__name__ == "LocalArtifactRepository":
            # Already on this machine: read it in place instead of copying it first.
            root = Path(local_root).resolve()
            path = (root / file.path).resolve()
            if not path.is_relative_to(root):
                raise InvalidInput(f"unsafe artifact path {file.path!r}")
            with path.open("rb") as handle:
                yield handle
            return
        with tempfile.TemporaryDirectory(prefix="registre-import-") as scratch:
            local = Path(scratch) / "file"
            # The one primitive every artifact repository implements: a single file to a
            # local path (download_artifacts would list it first and draw its own bar).
            repo._download_file(remote_file_path=file.path, local_path=str(local))
            with local.open("rb") as handle:
                yield handle

    def _repo(self, location: str) -> Any:
        uri = self.resolve(location)
        if uri not in self._repos:
            from mlflow.store.artifact.artifact_repository_registry import (
                get_artifact_repository,
            )

            if len(self._repos) >= KEPT_REPOSITORIES:  # the oldest: a version already done
                del self._repos[next(iter(self._repos))]
            self._repos[uri] = get_artifact_repository(uri, tracking_uri=self.tracking_uri)
        return self._repos[uri]


def _relative(path: str, directory: str) -> str:
    """MLflow repositories list paths relative to their root; tolerate basenames too."""
    path = path.strip("/")
    if directory and not path.startswith(f"{directory}/"):
        return f"{directory}/{path}"
    return path


def _normalize_root(root: str) -> str:
    scheme = urlsplit(root).scheme
    if len(scheme) > 1:  # s3://bucket/prefix, file:///dir, ...; one letter is a drive
        return root.rstrip("/")
    path = Path(root).expanduser().resolve()
    if not path.is_dir():
        raise InvalidInput(f"--artifact-root {root!r} is not a directory")
    return str(path)
