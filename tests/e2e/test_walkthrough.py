"""The README walkthrough, run as a user runs it: embedded, and against real server processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.fixtures import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "iris_walkthrough.py"


def _run_walkthrough(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def _check_story(out: str) -> None:
    assert "registered IrisClassifierModel v1" in out
    assert "registered IrisClassifierModel v2" in out
    assert "stages: {1: 'Archived', 2: 'Production'}" in out
    for uri in ("/Production", "/2", "@champion", "/latest"):
        assert f"models:/IrisClassifierModel{uri} → [" in out
    assert "rolled back to v1 (Production)" in out
    assert "sha256 digests match" in out
    assert out.rstrip().endswith("walkthrough complete")


def test_walkthrough_embedded(tmp_path: Path) -> None:
    out = _run_walkthrough([], {"REGISTRE_HOME": str(tmp_path / "data")}, tmp_path)
    _check_story(out)
    assert "embedded" in out
    assert (tmp_path / "data" / "registre.db").is_file()


def test_walkthrough_against_registre_server_command(tmp_path: Path) -> None:
    """`registre server` on embedded defaults (./registre-data in its working directory)."""
    port = free_port()
    registre = Path(sys.executable).with_name("registre")
    server = subprocess.Popen(
        [str(registre), "server", "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            time.sleep(0.1)
        out = _run_walkthrough(["--url", url], {}, tmp_path)
        _check_story(out)
        assert (tmp_path / "registre-data" / "registre.db").is_file()
        # The server recorded what the walkthrough did, with who and from → to.
        events = httpx.get(f"{url}/api/v1/models/IrisClassifierModel/history").json()["events"]
        assert [e["action"] for e in events if e["action"] == "rollback"] == ["rollback"]
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.postgres
@pytest.mark.s3
def test_walkthrough_against_server_on_postgres_and_s3(
    start_registre_server: Callable[..., object], s3_url: object, tmp_path: Path
) -> None:
    location = s3_url
    server = start_registre_server(
        database="postgres",
        env={"REGISTRE_ARTIFACT_ROOT": location.url, **location.env},  # type: ignore[attr-defined]
    )
    out = _run_walkthrough([], {"REGISTRE_URL": server.url}, tmp_path)  # type: ignore[attr-defined]
    _check_story(out)
    keys = location.keys()  # type: ignore[attr-defined]
    assert any("/sha256/" in key for key in keys), keys
