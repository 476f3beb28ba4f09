"""The same commands with ``--url``: the CLI over the SDK's remote backend and a real server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from registre.cli.main import app
from tests.cli.conftest import as_json

pytest.importorskip("registre.client.remote")


def remote(url: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, ["--url", url, *args])
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def test_register_promote_and_download_over_http(
    server_url: str, model_dir: Path, tmp_path: Path
) -> None:
    registered = remote(
        server_url, "versions", "register", "Iris", str(model_dir), "-m", "accuracy=0.93", "--json"
    )
    assert as_json(registered)["version"] == 1
    remote(server_url, "--user", "alice", "versions", "transition", "Iris", "1", "Production")
    resolved = remote(server_url, "versions", "resolve", "models:/Iris/Production", "--json")
    assert as_json(resolved)["metrics"] == {"accuracy": 0.93}

    events = as_json(remote(server_url, "versions", "history", "Iris", "--json"))["events"]
    assert events[-1]["actor"] == "alice"
    assert events[-1]["after"] == {"stage": "Production"}

    dest = tmp_path / "out"
    remote(server_url, "artifacts", "get", "Iris", "1", "--dest", str(dest))
    local = model_dir / "weights.bin"
    assert hashlib.sha256((dest / "weights.bin").read_bytes()).digest() == (
        hashlib.sha256(local.read_bytes()).digest()
    )


def test_remote_errors_keep_their_exit_codes(server_url: str) -> None:
    missing = remote(server_url, "models", "show", "Nope", code=4)
    assert missing.stderr == "error: registered model 'Nope' does not exist\n"
    remote(server_url, "models", "create", "Iris")
    assert remote(server_url, "models", "create", "Iris", code=5).stderr.startswith("error: ")


def test_unreachable_server_is_one_line_not_a_traceback() -> None:
    result = remote("http://127.0.0.1:9", "models", "list", code=3)
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
