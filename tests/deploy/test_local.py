"""The ``local`` target: a background ``registre serve`` managed by ``registre deploy``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx

from registre import Client
from tests.deploy.conftest import Cli
from tests.serving.support import constant, rows, split_body

BODY = split_body(rows())


def _get(cli: Cli, name: str) -> dict[str, object]:
    result: dict[str, object] = json.loads(cli("deploy", "get", name, "--json").stdout)
    return result


def test_local_lifecycle_create_predict_follow_update_delete(cli: Cli, home: Path) -> None:
    created = json.loads(
        cli("deploy", "create", "iris", "models:/Iris/Production", "--target", "local",
            "-C", "poll_interval=0.1", "--json").stdout
    )  # fmt: skip
    assert created["status"] == "running"
    assert created["version"] == "1"
    url = created["endpoint"]
    pid = created["details"]["pid"]
    response = httpx.post(f"{url}/invocations", json=BODY)
    assert response.json() == {"predictions": [0, 1, 2]}
    assert "iris" in cli("deploy", "list").stdout

    # The server follows its stage: a promotion needs no update.
    with Client(home) as client:
        v2 = client.log_model(constant(2), "Iris", input_example=rows().head(1)).version
        client.transition_stage("Iris", v2, "Production", archive_existing=True)
    deadline = time.monotonic() + 20
    while _get(cli, "iris")["version"] != str(v2):
        assert time.monotonic() < deadline, _get(cli, "iris")
        time.sleep(0.1)
    assert httpx.post(f"{url}/invocations", json=BODY).json() == {"predictions": [2, 2, 2]}

    # Another URI: the server restarts on the same port.
    updated = json.loads(cli("deploy", "update", "iris", "models:/Iris/1", "--json").stdout)
    assert updated["uri"] == "models:/Iris/1"
    assert updated["version"] == "1"
    assert updated["endpoint"] == url
    new_pid = updated["details"]["pid"]
    assert new_pid != pid
    assert not _running(pid)
    assert httpx.post(f"{url}/invocations", json=BODY).headers["X-Model-Version"] == "1"

    cli("deploy", "delete", "iris")
    assert not _running(new_pid)
    assert not (home / "deployments" / "local" / "iris").exists()
    assert json.loads(cli("deploy", "list", "--json").stdout) == []
    assert "no local deployment 'iris'" in cli("deploy", "get", "iris", code=4).stderr


def test_a_deployment_that_cannot_start_reports_why_and_leaves_nothing(
    cli: Cli, home: Path
) -> None:
    result = cli("deploy", "create", "nope", "models:/Nope/Production", code=2)
    assert "does not exist" in result.stderr
    assert not (home / "deployments" / "local" / "nope").exists()
    assert "invalid deployment name" in cli("deploy", "create", "Bad_Name", "models:/Iris/1",
                                            code=2).stderr  # fmt: skip


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not running
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
