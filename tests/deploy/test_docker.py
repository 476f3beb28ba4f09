"""``registre build-docker``: the build context, and its entrypoint run as each platform runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registre.serving.versions import file_digest
from tests.deploy.conftest import Cli
from tests.fixtures import free_port
from tests.serving.support import clean_env, rows, split_body


@pytest.fixture
def context(cli: Cli, tmp_path: Path) -> Path:
    out = tmp_path / "ctx"
    result = cli("build-docker", "models:/Iris/Production", "-t", "iris:1", "--output", str(out))
    assert "no Docker engine answers" in result.stdout or "built iris:1" in result.stdout
    assert f"docker build -t iris:1 {out}" in result.stdout
    return out


def _dockerfile(context: Path) -> list[tuple[str, str]]:
    """(instruction, arguments), continuation lines joined, comments dropped."""
    text = (context / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [x.strip() for x in text.splitlines() if x.strip() and not x.startswith("#")]
    return [(x.split(None, 1)[0], x.split(None, 1)[1]) for x in lines]


def test_the_build_context_bakes_the_model_with_its_digests(context: Path) -> None:
    instructions = _dockerfile(context)
    first = {}
    for keyword, args in instructions:
        first.setdefault(keyword, args)
    assert first["FROM"] == "python:3.11-slim"
    user = next(args for keyword, args in instructions if keyword == "USER")
    assert user.split(":")[0] not in ("root", "0")
    assert json.loads(first["ENTRYPOINT"]) == ["python", "-m", "registre.serving.container"]
    healthcheck = first["HEALTHCHECK"]
    assert json.loads(healthcheck.split("CMD", 1)[1]) == [
        "python", "-m", "registre.serving.container", "healthcheck"
    ]  # fmt: skip
    assert "8080" in first["EXPOSE"]
    copies = [args for keyword, args in instructions if keyword == "COPY"]
    assert "model /opt/registre/model" in copies
    assert "manifest.json /opt/registre/manifest.json" in copies
    # The user switch comes after every COPY and RUN: nothing it runs can rewrite the model.
    order = [keyword for keyword, _ in instructions]
    assert order.index("USER") > max(i for i, k in enumerate(order) if k in ("COPY", "RUN"))

    manifest = json.loads((context / "manifest.json").read_text())
    assert (manifest["name"], manifest["version"]) == ("Iris", "1")
    on_disk = {p.relative_to(context / "model").as_posix() for p in (context / "model").rglob("*")
               if p.is_file()}  # fmt: skip
    assert set(manifest["files"]) == on_disk
    for rel, digest in manifest["files"].items():
        assert file_digest(context / "model" / rel) == digest

    requirements = [x for x in (context / "requirements.txt").read_text().splitlines()
                    if x and not x.startswith("#")]  # fmt: skip
    assert all("==" in x for x in requirements), requirements
    names = {x.split("==")[0] for x in requirements}
    assert {"scikit-learn", "skops", "uvicorn", "starlette", "prometheus-client"} <= names
    assert (context / "lib" / "registre" / "serving" / "container.py").is_file()


def _start(context: Path, env: dict[str, str], args: list[str] = ()) -> subprocess.Popen[bytes]:
    # PYTHONPATH=lib: the copy of Registre baked into the context, as in the image.
    child_env = clean_env(
        PYTHONPATH=str(context / "lib"),
        REGISTRE_MODEL_DIR=str(context / "model"),
        REGISTRE_MANIFEST=str(context / "manifest.json"),
        REGISTRE_HOST="127.0.0.1",
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "registre.serving.container", *args],
        env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0].decode()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} never answered")


@pytest.fixture
def platforms(context: Path) -> Iterator[dict[str, tuple[int, subprocess.Popen[bytes]]]]:
    """The entrypoint started three times, as SageMaker, Vertex AI and Azure ML start it."""
    ports = {name: free_port() for name in ("sagemaker", "vertexai", "azureml")}
    started = {
        "sagemaker": _start(context, {"SAGEMAKER_BIND_TO_PORT": str(ports["sagemaker"])},
                            ["serve"]),
        "vertexai": _start(context, {
            "AIP_HTTP_PORT": str(ports["vertexai"]), "AIP_HEALTH_ROUTE": "/health/check",
            "AIP_PREDICT_ROUTE": "/v1/endpoints/7/deployedModels/3:predict",
        }),
        "azureml": _start(context, {
            "AZUREML_MODEL_DIR": "/var/azureml-app/azureml-models",
            "REGISTRE_PORT": str(ports["azureml"]),
        }),
    }  # fmt: skip
    yield {name: (ports[name], process) for name, process in started.items()}
    for process in started.values():
        process.terminate()
        process.wait(15)


def test_the_entrypoint_honours_each_platforms_contract(
    platforms: dict[str, tuple[int, subprocess.Popen[bytes]]],
) -> None:
    frame = rows()
    expected = {"predictions": [0, 1, 2]}

    port, process = platforms["sagemaker"]
    base = f"http://127.0.0.1:{port}"
    _wait(f"{base}/ping", process)
    response = httpx.post(f"{base}/invocations", json=split_body(frame))
    assert response.json() == expected
    assert response.headers["X-Model-Version"] == "1"
    csv = httpx.post(f"{base}/invocations", content=frame.to_csv(index=False),
                     headers={"Content-Type": "text/csv"})  # fmt: skip
    assert csv.json() == expected

    port, process = platforms["vertexai"]
    base = f"http://127.0.0.1:{port}"
    _wait(f"{base}/health/check", process)
    vertex = {"instances": frame.to_numpy().tolist(), "parameters": {}}
    response = httpx.post(f"{base}/v1/endpoints/7/deployedModels/3:predict", json=vertex)
    assert response.status_code == 200, response.text
    assert response.json() == expected
    records = {"instances": frame.to_dict(orient="records")}
    response = httpx.post(f"{base}/v1/endpoints/7/deployedModels/3:predict", json=records)
    assert response.json() == expected

    port, process = platforms["azureml"]
    base = f"http://127.0.0.1:{port}"
    _wait(f"{base}/ready", process)
    assert httpx.get(f"{base}/").status_code == 200  # liveness
    response = httpx.post(f"{base}/score", json=split_body(frame))
    assert response.json() == expected

    healthcheck = subprocess.run(
        [sys.executable, "-m", "registre.serving.container", "healthcheck"],
        env=clean_env(SAGEMAKER_BIND_TO_PORT=str(platforms["sagemaker"][0])),
    )
    assert healthcheck.returncode == 0


def test_the_entrypoint_refuses_a_model_file_that_changed(context: Path) -> None:
    (context / "model" / "model.skops").write_bytes(b"swapped after the build")
    process = _start(context, {"REGISTRE_PORT": str(free_port())})
    output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 3
    assert "model.skops hashes to" in output
    assert "IntegrityError" in output
