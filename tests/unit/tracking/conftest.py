from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from registre.service.registry import Registry
from registre.service.tracking import Tracking
from registre.store.blobs.local import LocalBlobStore
from registre.store.sql.store import SqlStore


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registre.db'}"
    return str(request.getfixturevalue("postgres_db_url"))


@pytest.fixture
def registry(database_url: str, tmp_path: Path) -> Iterator[Registry]:
    reg = Registry(SqlStore(database_url), LocalBlobStore(tmp_path / "blobs"))
    yield reg
    reg.close()


@pytest.fixture
def tracking(registry: Registry) -> Tracking:
    return Tracking(registry)
