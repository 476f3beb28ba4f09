"""Fixtures for ``registre import-mlflow``: one real MLflow server per module, the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from registre.cli import import_mlflow as import_command
from registre.cli import main as cli_main
from registre.cli._common import RegistreGroup
from tests.migrate.mlflow_server import MlflowServer, Populated, populate

pytest.importorskip("mlflow")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

Cli = Callable[..., Result]


def _app() -> typer.Typer:
    """The real ``registre`` app once it registers ``import-mlflow``; until then the same
    root options with just this command (without touching the shared app)."""
    if any(c.name == "import-mlflow" for c in cli_main.app.registered_commands):
        return cli_main.app
    app = typer.Typer(cls=RegistreGroup, no_args_is_help=True)
    app.callback()(cli_main.main)
    app.command("import-mlflow")(import_command.import_mlflow)
    return app


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("URL", "HOME", "DATABASE_URL", "ARTIFACT_ROOT", "USER"):
        monkeypatch.delenv(f"REGISTRE_{var}", raising=False)
    # A broken file makes the server answer 500: fail at once instead of retrying for minutes.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")


@pytest.fixture
def cli() -> Cli:
    """``cli(home, "import-mlflow", "--from", url)`` runs ``registre --home HOME --user
    importer ...`` in-process; exit code 0 is asserted unless ``code=`` says otherwise."""
    runner = CliRunner()
    app = _app()

    def run(home: Path, *args: str, code: int | None = 0) -> Result:
        result = runner.invoke(app, ["--home", str(home), "--user", "importer", *args])
        if code is not None:
            assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def populated(mlflow_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> Populated:
    return populate(mlflow_server.url, tmp_path_factory.mktemp("mlflow-inputs"))


@pytest.fixture
def live(mlflow_server: MlflowServer, populated: Populated) -> MlflowServer:
    """The populated server, running (a test that stopped it gets it back)."""
    if not mlflow_server.running:
        mlflow_server.start()
    return mlflow_server
