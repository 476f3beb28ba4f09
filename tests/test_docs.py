"""The generated references (docs/cli.md, docs/rest.md) match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_docs_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_rest_reference_curl_example_runs_against_a_real_server(
    server_url: str, tmp_path: Path
) -> None:
    text = (ROOT / "docs" / "rest.md").read_text()
    script = text.split("```bash\n", 1)[1].split("```", 1)[0]
    script = script.replace("http://127.0.0.1:5000", server_url).replace("Iris", "CurlDocIris")
    (tmp_path / "model.skops").write_bytes(b"model bytes")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert '"stage":"Production"' in done.stdout
    assert '"name":"CurlDocIris","version":1' in done.stdout
