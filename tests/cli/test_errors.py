"""Expected failures: one ``error: ...`` line on stderr, nothing on stdout, a stable exit code."""

from __future__ import annotations

from pathlib import Path

import pytest

from registre.client.client import Client
from tests.cli.conftest import Cli


@pytest.fixture
def iris(cli: Cli, model_dir: Path) -> str:
    cli("versions", "register", "Iris", str(model_dir))
    return "Iris"


def test_unknown_model_exits_4_with_one_line(cli: Cli) -> None:
    result = cli("models", "show", "Nope", "--json", code=4)
    assert result.stderr == "error: registered model 'Nope' does not exist\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["versions", "list", "Nope"],
        ["versions", "show", "Nope", "1"],
        ["versions", "history", "Nope"],
        ["artifacts", "ls", "Nope", "1"],
        ["models", "tag", "Nope", "k", "v"],
    ],
)
def test_every_door_on_an_unknown_model_exits_4(cli: Cli, args: list[str]) -> None:
    assert cli(*args, code=4).stderr.startswith("error: ")


def test_unknown_version_exits_4(cli: Cli, iris: str) -> None:
    assert cli("versions", "show", iris, "9", code=4).stderr == (
        "error: model 'Iris' has no version 9\n"
    )


def test_duplicate_model_exits_5(cli: Cli) -> None:
    cli("models", "create", "Iris")
    result = cli("models", "create", "Iris", code=5)
    assert result.stderr.startswith("error: ") and "already exists" in result.stderr
    assert result.stderr.count("\n") == 1


def test_invalid_stage_exits_2_and_names_the_valid_stages(cli: Cli, iris: str) -> None:
    result = cli("versions", "transition", iris, "1", "Prod", code=2)
    assert result.stderr == (
        "error: invalid stage 'Prod': expected one of None, Staging, Production, Archived\n"
    )


def test_rollback_without_history_is_a_conflict(cli: Cli, iris: str) -> None:
    assert "no earlier Production version" in cli("versions", "rollback", iris, code=5).stderr


@pytest.mark.parametrize("path", ["../secrets", "/etc/passwd"])
def test_artifact_path_escaping_the_version_exits_2(
    cli: Cli, iris: str, path: str, tmp_path: Path
) -> None:
    result = cli("artifacts", "get", iris, "1", path, "--dest", str(tmp_path / "out"), code=2)
    assert result.stderr.startswith("error: artifact path")
    assert not (tmp_path / "out").exists()


def test_missing_artifact_exits_4(cli: Cli, iris: str, tmp_path: Path) -> None:
    result = cli("artifacts", "get", iris, "1", "nope.bin", "--dest", str(tmp_path), code=4)
    assert result.stderr == "error: model 'Iris' version 1 has no file 'nope.bin'\n"


def test_missing_local_path_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("versions", "register", "Iris", str(tmp_path / "absent"), code=2)
    assert "does not exist" in result.stderr
    assert result.stdout == ""


def test_two_arguments_claiming_one_artifact_path_are_a_usage_error(
    cli: Cli, tmp_path: Path
) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "model.bin").write_text(sub)
    result = cli(
        "versions",
        "register",
        "Iris",
        str(tmp_path / "a" / "model.bin"),
        str(tmp_path / "b" / "model.bin"),
        code=2,
    )
    assert "model.bin" in result.stderr


@pytest.mark.parametrize(
    ("option", "message"),
    [("accuracy=high", "must be a number"), ("accuracy", "KEY=VALUE")],
)
def test_bad_metric_exits_2(cli: Cli, model_dir: Path, option: str, message: str) -> None:
    result = cli("versions", "register", "Iris", str(model_dir), "--metric", option, code=2)
    assert message in result.stderr
    cli("models", "show", "Iris", code=4)  # nothing was registered


@pytest.mark.parametrize(
    "args",
    [
        ["models", "tag", "Iris", "key"],
        ["models", "tag", "Iris", "key", "value", "--delete"],
        ["versions", "alias", "Iris", "champion"],
    ],
)
def test_value_or_delete_is_required(cli: Cli, iris: str, args: list[str]) -> None:
    assert "--delete" in cli(*args, code=2).stderr


def test_bad_version_number_and_uri_exit_2(cli: Cli, iris: str) -> None:
    assert "invalid version 'one'" in cli("versions", "show", iris, "one", code=2).stderr
    assert "invalid model URI" in cli("versions", "resolve", "models:/Iris", code=2).stderr


def test_bad_filter_and_page_token_exit_2(cli: Cli, iris: str) -> None:
    cli("versions", "search", "--filter", "metrics.accuracy >>> 1", code=2)
    assert "page_token" in cli("models", "list", "--page-token", "garbage!", code=2).stderr


def test_interrupt_exits_130_quietly(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Client, "get_model", interrupted)
    result = cli("models", "show", "Iris", code=130)
    assert result.stderr == ""


def test_os_errors_are_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*_: object) -> None:
        raise PermissionError(13, "Permission denied", "/data/registre.db")

    monkeypatch.setattr(Client, "get_model", denied)
    result = cli("models", "show", "Iris", code=1)
    assert result.stderr == "error: Permission denied: /data/registre.db\n"


def test_unknown_command_is_a_usage_error(cli: Cli) -> None:
    cli("models", "frobnicate", code=2)
