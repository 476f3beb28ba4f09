"""The real command in a subprocess: console script, exit codes and stderr as a shell sees them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import clean_env

SCRIPT = Path(sys.executable).with_name("registre")


def run(
    *args: str, home: Path, command: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    env["REGISTRE_HOME"] = str(home)  # the environment variable, not --home
    return subprocess.run(
        [*(command or [sys.executable, "-m", "registre.cli"]), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_lifecycle_through_the_module_entry_point(tmp_path: Path, model_dir: Path) -> None:
    home = tmp_path / "data"
    created = run(
        "versions", "register", "Iris", str(model_dir), "-m", "accuracy=0.9", "--json", home=home
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["version"] == 1
    assert (home / "registre.db").is_file()

    promoted = run("--user", "ci", "versions", "transition", "Iris", "1", "Production", home=home)
    assert promoted.returncode == 0, promoted.stderr
    listed = run("versions", "list", "Iris", "--json", home=home)
    assert [(v["version"], v["stage"]) for v in json.loads(listed.stdout)] == [(1, "Production")]
    events = json.loads(run("versions", "history", "Iris", "--json", home=home).stdout)["events"]
    assert events[-1]["actor"] == "ci"


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed in this venv")
def test_console_script_maps_errors_to_exit_codes_and_one_stderr_line(tmp_path: Path) -> None:
    home = tmp_path / "data"
    missing = run("models", "show", "Nope", home=home, command=[str(SCRIPT)])
    assert missing.returncode == 4
    assert missing.stderr == "error: registered model 'Nope' does not exist\n"
    assert missing.stdout == ""

    assert run("models", "create", "Iris", home=home, command=[str(SCRIPT)]).returncode == 0
    duplicate = run("models", "create", "Iris", home=home, command=[str(SCRIPT)])
    assert duplicate.returncode == 5
    assert duplicate.stderr.splitlines() == ["error: registered model 'Iris' already exists"]


def test_usage_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    result = run("versions", "transition", "Iris", home=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    stage = run("versions", "transition", "Iris", "1", "Live", home=tmp_path)
    assert stage.returncode == 2
    assert stage.stderr == (
        "error: invalid stage 'Live': expected one of None, Staging, Production, Archived\n"
    )


def test_version_and_db_upgrade(tmp_path: Path) -> None:
    version = run("--version", home=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("registre ")
    upgraded = run("db", "upgrade", home=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("database at revision ")
    assert (tmp_path / "registre.db").is_file()


def test_server_command_serves_the_registry_on_its_home(tmp_path: Path, server_url: str) -> None:
    assert run("models", "create", "Iris", home=tmp_path / "served").returncode == 0
    found = httpx.get(f"{server_url}/api/v1/models/Iris", timeout=5)
    assert found.status_code == 200
    assert found.json()["name"] == "Iris"
