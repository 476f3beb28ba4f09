"""An embedded registry with an Iris model in Production, and the CLI run in-process on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from registre import Client
from registre.cli.main import app
from tests.serving.support import logistic, rows

Cli = Callable[..., Result]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("URL", "HOME", "DATABASE_URL", "ARTIFACT_ROOT", "USER"):
        monkeypatch.delenv(f"REGISTRE_{var}", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """``Iris`` v1 (LogisticRegression) in Production."""
    home = tmp_path / "home"
    with Client(home) as client:
        version = client.log_model(logistic(), "Iris", input_example=rows().head(2))
        client.transition_stage("Iris", version.version, "Production")
    return home


@pytest.fixture
def cli(home: Path) -> Cli:
    """``cli("deploy", "list")`` runs ``registre --home <home> deploy list``; asserts exit 0
    unless ``code=`` says otherwise."""
    runner = CliRunner()

    def run(*args: str, code: int | None = 0) -> Result:
        result = runner.invoke(app, ["--home", str(home), *args])
        if code is not None:
            assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run
