"""The official ``mlflow`` client against real Registre servers (``python -m registre.server``).

Uses the session's shared servers from ``tests.fixtures.server`` (one on SQLite, one on
PostgreSQL); tests use distinct experiment and model names.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.server import RunningServer

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# A wrong answer from the server must fail fast, not after minutes of retries.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")

mlflow = pytest.importorskip("mlflow")
SENTINEL = b"SENTINEL-SECRET"


@dataclass(frozen=True)
class Server:
    url: str
    home: Path
    artifact_root: Path
    database_url: str
    outside: Path  # next to the server's home: nothing may ever be read or written there
    pid: int

    def peak_rss(self) -> int:
        """The server process's peak resident memory, in bytes (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0


@pytest.fixture(scope="session")
def mlflow_server(registre_server: RunningServer) -> Server:
    outside = registre_server.home.parent / f"{registre_server.home.name}-outside"
    outside.mkdir(exist_ok=True)
    (outside / "sentinel.txt").write_bytes(SENTINEL)
    return Server(
        registre_server.url, registre_server.home, registre_server.artifact_root,
        registre_server.database_url, outside, registre_server.process.pid,
    )  # fmt: skip


@pytest.fixture
def server(mlflow_server: Server) -> Iterator[Server]:
    """The session's server, with the mlflow client pointed at it for this test."""
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = mlflow_server.url
    mlflow.set_tracking_uri(mlflow_server.url)
    mlflow.set_registry_uri(mlflow_server.url)
    try:
        yield mlflow_server
    finally:
        if mlflow.active_run() is not None:
            mlflow.end_run("FAILED")
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous


@pytest.fixture
def unique() -> str:
    """A suffix that keeps model and experiment names distinct across tests and databases."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def client(server: Server) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(tracking_uri=server.url, registry_uri=server.url)
