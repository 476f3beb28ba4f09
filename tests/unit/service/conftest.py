from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from registre.domain.entities import FileEntry
from registre.service.registry import Registry
from registre.store.blobs.local import LocalBlobStore
from registre.store.sql.store import SqlStore


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registre.db'}"
    return request.getfixturevalue("postgres_db_url")


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[Registry]:
    reg = Registry(SqlStore(database_url), LocalBlobStore(tmp_path / "blobs"))
    yield reg
    reg.close()


@pytest.fixture
def upload(registry: Registry) -> Callable[..., FileEntry]:
    def _upload(path: str, data: bytes) -> FileEntry:
        blob = registry.upload_blob(io.BytesIO(data))
        return FileEntry(path, blob.digest, blob.size)

    return _upload
