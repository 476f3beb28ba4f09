"""A model's whole life through the CLI, in-process, on an embedded registry."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, as_json


@pytest.fixture
def iris(cli: Cli, model_dir: Path, tmp_path: Path) -> str:
    """Model "Iris": version 1 from a directory, version 2 from two files."""
    cli("models", "create", "Iris", "--description", "flowers", "--tag", "team=ml")
    cli(
        "versions",
        "register",
        "Iris",
        str(model_dir),
        "--metric",
        "accuracy=0.91",
        "--param",
        "C=1.0",
        "--tag",
        "data=v1",
        "--description",
        "first",
    )
    single = tmp_path / "single"
    single.mkdir()
    (single / "model.skops").write_bytes(b"weights-2")
    (single / "notes.md").write_text("# v2\n")
    cli(
        "versions",
        "register",
        "Iris",
        str(single / "model.skops"),
        str(single / "notes.md"),
        "-m",
        "accuracy=0.97",
        "-m",
        "f1=0.95",
        "--source",
        "train.py",
        "--run-id",
        "r2",
    )
    return "Iris"


def test_registered_versions_list_and_show_as_json(cli: Cli, iris: str) -> None:
    versions = as_json(cli("versions", "list", iris, "--json"))
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["metrics"] == {"accuracy": 0.91}
    assert versions[0]["params"] == {"C": "1.0"}
    assert versions[0]["tags"] == {"data": "v1"}
    first = as_json(cli("versions", "show", iris, "1", "--json"))
    assert [f["path"] for f in first["files"]] == ["MLmodel", "data/vocab.txt", "weights.bin"]
    second = as_json(cli("versions", "show", iris, "2", "--json"))
    assert second["metrics"] == {"accuracy": 0.97, "f1": 0.95}
    assert (second["source"], second["run_id"]) == ("train.py", "r2")
    assert sorted(f["path"] for f in second["files"]) == ["model.skops", "notes.md"]

    model = as_json(cli("models", "show", iris, "--json"))
    assert model["latest_version"] == 2
    assert model["tags"] == {"team": "ml"}
    listed = as_json(cli("models", "list", "--json"))
    assert [m["name"] for m in listed["models"]] == ["Iris"]
    assert listed["next_page_token"] is None


def test_human_tables_show_versions_stages_and_metrics(cli: Cli, iris: str) -> None:
    cli("versions", "transition", iris, "2", "Production")
    table = cli("versions", "list", iris).stdout
    assert "Production" in table
    assert "accuracy=0.97" in table
    assert "READY" in table
    assert "flowers" in cli("models", "list").stdout
    assert "accuracy=0.91" in cli("versions", "show", iris, "1").stdout


def test_transition_with_archive_existing_archives_the_current_holder(cli: Cli, iris: str) -> None:
    moved = as_json(cli("versions", "transition", iris, "1", "production", "--json"))
    assert moved["stage"] == "Production"
    out = cli("versions", "transition", iris, "2", "Production", "--archive-existing").stdout
    assert "version 2 is now in Production" in out
    assert as_json(cli("versions", "show", iris, "1", "--json"))["stage"] == "Archived"


def test_alias_resolves_and_can_be_deleted(cli: Cli, iris: str) -> None:
    cli("versions", "alias", iris, "champion", "1")
    cli("versions", "transition", iris, "2", "Staging")
    assert as_json(cli("versions", "resolve", "models:/Iris@champion", "--json"))["version"] == 1
    assert as_json(cli("versions", "resolve", "models:/Iris/Staging", "--json"))["version"] == 2
    assert "models:/Iris/2" in cli("versions", "resolve", "models:/Iris/latest").stdout
    assert as_json(cli("versions", "show", iris, "1", "--json"))["aliases"] == ["champion"]

    cli("versions", "alias", iris, "champion", "--delete")
    gone = cli("versions", "resolve", "models:/Iris@champion", code=4)
    assert gone.stderr == "error: model 'Iris' has no alias 'champion'\n"


def test_rollback_puts_back_the_previous_production_version(cli: Cli, iris: str) -> None:
    cli("versions", "transition", iris, "1", "Production")
    cli("versions", "transition", iris, "2", "Production", "--archive-existing")
    restored = as_json(cli("versions", "rollback", iris, "--json"))
    assert (restored["version"], restored["stage"]) == (1, "Production")
    assert as_json(cli("versions", "show", iris, "2", "--json"))["stage"] == "Archived"


def test_history_shows_who_and_stage_from_to(cli: Cli, iris: str) -> None:
    cli("versions", "transition", iris, "1", "Staging", user="alice")
    cli("versions", "transition", iris, "1", "Production", user="bob")

    table = cli("versions", "history", iris, "--version", "1").stdout
    assert "alice" in table and "bob" in table
    assert "stage: None → Staging" in table
    assert "stage: Staging → Production" in table

    events = as_json(cli("versions", "history", iris, "--json"))["events"]
    last = events[-1]
    assert (last["actor"], last["action"], last["version"]) == ("bob", "transition_stage", 1)
    assert (last["before"], last["after"]) == ({"stage": "Staging"}, {"stage": "Production"})
    assert {e["action"] for e in events} >= {"create_model", "register_version"}


def test_search_filters_versions_on_metrics_and_stage(cli: Cli, iris: str) -> None:
    found = as_json(cli("versions", "search", "--filter", "metrics.accuracy > 0.95", "--json"))
    assert [(v["name"], v["version"]) for v in found["versions"]] == [("Iris", 2)]

    cli("versions", "transition", iris, "1", "Production")
    query = "metrics.accuracy > 0.9 and stage = 'Production'"
    found = as_json(cli("versions", "search", "--filter", query, "--json"))
    assert [v["version"] for v in found["versions"]] == [1]

    ordered = cli(
        "versions", "search", "--order-by", "metrics.accuracy DESC", "--max-results", "1", "--json"
    )
    page = as_json(ordered)
    assert [v["version"] for v in page["versions"]] == [2]
    rest = cli(
        "versions",
        "search",
        "--order-by",
        "metrics.accuracy DESC",
        "--page-token",
        page["next_page_token"],
        "--json",
    )
    assert [v["version"] for v in as_json(rest)["versions"]] == [1]


def test_artifacts_ls_and_get_match_the_local_digests(
    cli: Cli, iris: str, model_dir: Path, tmp_path: Path
) -> None:
    listed = {f["path"]: f for f in as_json(cli("artifacts", "ls", iris, "1", "--json"))}
    local = model_dir / "weights.bin"
    assert listed["weights.bin"]["digest"] == hashlib.sha256(local.read_bytes()).hexdigest()
    assert listed["weights.bin"]["size"] == local.stat().st_size
    assert listed["weights.bin"]["digest"] in cli("artifacts", "ls", iris, "1").stdout

    dest = tmp_path / "all"
    written = cli("artifacts", "get", iris, "1", "--dest", str(dest)).stdout.split()
    assert len(written) == 3
    for rel in listed:
        assert (dest / rel).read_bytes() == (model_dir / rel).read_bytes()

    one = tmp_path / "one"
    cli("artifacts", "get", iris, "1", "data", "--dest", str(one))
    assert [p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file()] == [
        "data/vocab.txt"
    ]


def test_artifacts_put_prints_digest_size_and_path(cli: Cli, model_dir: Path) -> None:
    local = model_dir / "MLmodel"
    line = cli("artifacts", "put", str(local)).stdout.strip()
    digest = hashlib.sha256(local.read_bytes()).hexdigest()
    assert line == f"{digest}  {local.stat().st_size}  {local}"
    many = as_json(cli("artifacts", "put", str(model_dir), "--json"))
    assert len(many) == 3


def test_describe_and_tag_models_and_versions(cli: Cli, iris: str) -> None:
    cli("models", "describe", iris, "Iris classifier")
    cli("models", "tag", iris, "owner", "data-team")
    cli("models", "tag", iris, "team", "--delete")
    model = as_json(cli("models", "show", iris, "--json"))
    assert model["description"] == "Iris classifier"
    assert model["tags"] == {"owner": "data-team"}

    cli("versions", "describe", iris, "2", "retrained on more data")
    cli("versions", "tag", iris, "2", "validated", "yes")
    cli("versions", "tag", iris, "1", "data", "--delete")
    assert as_json(cli("versions", "show", iris, "2", "--json"))["tags"] == {"validated": "yes"}
    assert as_json(cli("versions", "show", iris, "1", "--json"))["tags"] == {}
    assert (
        as_json(cli("versions", "show", iris, "2", "--json"))["description"]
        == "retrained on more data"
    )


def test_rename_then_delete_version_and_model(cli: Cli, iris: str) -> None:
    assert as_json(cli("models", "rename", iris, "Flowers", "--json"))["name"] == "Flowers"
    cli("versions", "delete", "Flowers", "1", "--yes")
    assert [v["version"] for v in as_json(cli("versions", "list", "Flowers", "--json"))] == [2]

    refused = cli("models", "delete", "Flowers", code=1)  # no --yes, and "n" on stdin
    assert "Aborted" in refused.stderr
    cli("models", "delete", "Flowers", "--yes")
    cli("models", "show", "Flowers", code=4)
    assert as_json(cli("models", "list", "--json"))["models"] == []


def test_models_list_pages(cli: Cli) -> None:
    for name in ("a", "b", "c"):
        cli("models", "create", name)
    first = as_json(cli("models", "list", "--max-results", "2", "--order-by", "name", "--json"))
    assert [m["name"] for m in first["models"]] == ["a", "b"]
    rest = cli(
        "models", "list", "--order-by", "name", "--page-token", first["next_page_token"], "--json"
    )
    assert [m["name"] for m in as_json(rest)["models"]] == ["c"]
    assert "--page-token" in cli("models", "list", "--max-results", "2").stderr
