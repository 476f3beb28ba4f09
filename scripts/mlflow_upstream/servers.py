"""Server fixtures for MLflow's upstream tracking tests: a genuine ``mlflow server`` or Registre.

``run.py`` copies this module into its working directory as ``tests/upstream_servers.py`` and
appends an import of these fixtures to each upstream test module, so they replace the module's
own (in-process) servers. ``UPSTREAM_TARGET`` (``mlflow`` or ``registre``) picks the server;
every test that asks for one gets a fresh server process with empty storage.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests

TARGET = os.environ.get("UPSTREAM_TARGET", "mlflow")
PYTHON = os.environ.get("UPSTREAM_SERVER_PYTHON") or sys.executable
# Another Registre source tree (its src/ directory) to serve from, e.g. a baseline's.
REGISTRE_PATH = os.environ.get("UPSTREAM_REGISTRE_PATH", "")
START_TIMEOUT = 90.0
HOST = "127.0.0.1"


class ArtifactsServer(NamedTuple):
    """The shape ``test_mlflow_artifacts.py`` expects from its ``artifacts_server`` fixture."""

    backend_store_uri: str
    default_artifact_root: str
    artifacts_destination: str
    url: str
    process: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REGISTRE_", "MLFLOW_TRACKING_", "MLFLOW_REGISTRY_"))
    }
    env.update(PYTHONUNBUFFERED="1", MLFLOW_DISABLE_TELEMETRY="true", **extra)
    return env


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    _stop(process)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
    pytest.fail(f"the {TARGET} server at {url} did not start:\n{tail}", pytrace=False)


@pytest.fixture(scope="session")
def mlflow_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, fully migrated MLflow database, copied for each genuine server (migrating a
    fresh SQLite file takes seconds)."""
    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    if TARGET == "mlflow":
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        SqlAlchemyStore(f"sqlite:///{path}", "mlflow-artifacts:/").engine.dispose()
    return path


@contextlib.contextmanager
def running_server(
    base: Path, template_db: Path, *, http_artifact_root: bool = False
) -> Iterator[ArtifactsServer]:
    """Start a server with empty storage under ``base``.

    ``http_artifact_root``: experiments get the proxy's http URL as their artifact root (as
    ``test_mlflow_artifacts.py``'s own server does); otherwise ``mlflow-artifacts:/``, as
    ``mlflow server`` does by default. Registre always answers ``mlflow-artifacts:/<id>``.
    """
    base.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://{HOST}:{port}"
    proxy_root = f"{url}/api/2.0/mlflow-artifacts/artifacts"
    log = base / f"{TARGET}-server.log"
    if TARGET == "registre":
        home = base / "registre"
        destination = home / "artifacts"
        database_url = f"sqlite:///{home / 'registre.db'}"
        command = [PYTHON, "-m", "registre.server", "--host", HOST, "--port", str(port),
                   "--workers", "1", "--home", str(home)]  # fmt: skip
        env = _server_env({"REGISTRE_HOME": str(home), "REGISTRE_DATABASE_URL": database_url,
                           "REGISTRE_ARTIFACT_ROOT": str(destination)})  # fmt: skip
        if REGISTRE_PATH:
            env["PYTHONPATH"] = REGISTRE_PATH
        # A Registre server's metadata is reachable only through its API: hand the server's
        # URL to tests that open "the backend store" with an MlflowClient.
        backend_store_uri = url
    else:
        database = base / "mlflow.db"
        shutil.copyfile(template_db, database)
        destination = base / "mlartifacts"
        backend_store_uri = f"sqlite:///{database}"
        mlflow_cli = Path(PYTHON).with_name("mlflow")
        launcher = [str(mlflow_cli)] if mlflow_cli.exists() else [PYTHON, "-m", "mlflow"]
        command = [
            *launcher, "server", "--host", HOST, "--port", str(port), "--workers", "1",
            "--backend-store-uri", backend_store_uri,
            "--default-artifact-root", proxy_root if http_artifact_root else "mlflow-artifacts:/",
            "--artifacts-destination", str(destination),
        ]  # fmt: skip
        # Jobs (scorers, judges) are out of scope; their runner adds seconds to every start.
        env = _server_env({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})
    destination.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        # The tests' working directory, as upstream's in-process servers share it (relative
        # artifact locations resolve against it).
        process = subprocess.Popen(
            command, env=env, cwd=os.getcwd(), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait_healthy(url, process, log)
        yield ArtifactsServer(backend_store_uri, proxy_root, str(destination), url, process)
    finally:
        _stop(process)


def _client(url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client of the server at ``url``. Upstream, the fluent API and the CLI write to the
    very database the in-process server reads; here they reach the server by its URL."""
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    return MlflowClient(url)


@pytest.fixture
def mlflow_client(
    store_type: str, tmp_path: Path, mlflow_template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """``test_rest_tracking.py``'s client, against a fresh server process."""
    with running_server(tmp_path / "server", mlflow_template_db) as server:
        yield _client(server.url, monkeypatch)


@pytest.fixture
def mlflow_client_with_secrets(
    tmp_path: Path, mlflow_template_db: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    with running_server(tmp_path / "server", mlflow_template_db) as server:
        yield _client(server.url, monkeypatch)


@pytest.fixture(params=["file", "sqlalchemy"])
def client(
    request: pytest.FixtureRequest, tmp_path: Path, mlflow_template_db: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:  # fmt: skip
    """``test_model_registry.py``'s client (the ``file`` store is skipped, as upstream does)."""
    if request.param == "file":
        pytest.skip("FileStore is no longer supported.")
    with running_server(tmp_path / "server", mlflow_template_db) as server:
        yield _client(server.url, monkeypatch)


@pytest.fixture(scope="module")
def artifacts_server(
    tmp_path_factory: pytest.TempPathFactory, mlflow_template_db: Path
) -> Iterator[ArtifactsServer]:
    """``test_mlflow_artifacts.py``'s module-wide server with proxied artifacts."""
    base = tmp_path_factory.mktemp("artifacts-server")
    with running_server(base, mlflow_template_db, http_artifact_root=True) as server:
        yield server


OVERRIDDEN = ("mlflow_client", "mlflow_client_with_secrets", "client", "artifacts_server")
