"""The CLI in-process (Typer's CliRunner) against an embedded registry under ``tmp_path``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from registre.cli.main import app

Cli = Callable[..., Result]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("URL", "HOME", "DATABASE_URL", "ARTIFACT_ROOT", "USER"):
        monkeypatch.delenv(f"REGISTRE_{var}", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # wide tables: no folded names in assertions


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "registre-data"


@pytest.fixture
def cli(home: Path) -> Cli:
    """``cli("models", "list")`` runs ``registre --home <tmp> models list``; exit code 0 is
    asserted unless ``code=`` says otherwise."""
    runner = CliRunner()

    def run(
        *args: str, code: int | None = 0, user: str | None = None, input: str | None = None
    ) -> Result:
        root = ["--home", str(home), *(["--user", user] if user else [])]
        result = runner.invoke(app, [*root, *args], input=input)
        if code is not None:
            assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return result

    return run


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    """A small model directory with a nested file."""
    root = tmp_path / "model"
    (root / "data").mkdir(parents=True)
    (root / "MLmodel").write_text("flavors: {}\n")
    (root / "weights.bin").write_bytes(bytes(range(256)) * 40)
    (root / "data" / "vocab.txt").write_text("a\nb\nc\n")
    return root


def clean_env() -> dict[str, str]:
    """The environment for a subprocess, without the developer's REGISTRE_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("REGISTRE_")}


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """``registre --home <tmp>/served server`` on a free port, as a subprocess."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "registre.cli", "--home", str(tmp_path / "served")]
    server = subprocess.Popen(
        [*command, "server", "--port", str(port)],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[1].decode()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)
