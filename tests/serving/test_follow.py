"""Following the registry: promotions are swapped in under load; broken versions are refused."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from registre import Client
from registre.domain.entities import FileEntry, ModelVersion
from registre.packaging import save_model
from tests.fixtures.server import RunningServer
from tests.serving.support import ScoringServer, clean_env, constant, logistic, rows, split_body

LOADGEN = Path(__file__).with_name("loadgen.py")


@dataclass
class Registry:
    client: Client
    location: dict[str, Any]  # how `serve` reaches it: {"home": ...} or {"url": ...}
    server: RunningServer | None  # the registry server process, in remote mode

    def blob_path(self, digest: str) -> Path:
        root = self.server.artifact_root if self.server else self.location["home"] / "artifacts"
        return Path(root) / "sha256" / digest[:2] / digest


@pytest.fixture(params=["embedded", "remote"])
def registry(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    start_registre_server: Callable[..., RunningServer],
) -> Iterator[Registry]:
    if request.param == "remote":
        server = start_registre_server()
        with Client(server.url) as client:
            yield Registry(client, {"url": server.url}, server)
    else:
        with Client(tmp_path / "home") as client:
            yield Registry(client, {"home": tmp_path / "home"}, None)


def _production(registry: Registry) -> ModelVersion:
    version = registry.client.log_model(logistic(), "Iris", input_example=rows().head(2))
    registry.client.transition_stage("Iris", version.version, "Production")
    return version


def _same_files_again(registry: Registry, first: ModelVersion, count: int) -> list[int]:
    files = [FileEntry(f.path, f.digest, f.size) for f in first.files]
    return [registry.client.register_version("Iris", files).version for _ in range(count)]


@pytest.fixture
def load(tmp_path: Path) -> Iterator[Callable[[str], Callable[[], list[dict[str, Any]]]]]:
    """``finish = load(url)`` starts 8 client threads in another process; ``finish()`` stops
    them and returns every request they made."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(url: str) -> Callable[[], list[dict[str, Any]]]:
        stop, out = tmp_path / "stop", tmp_path / "load.json"
        process = subprocess.Popen([sys.executable, str(LOADGEN), url, "8", str(stop), str(out)],
                                   env=clean_env())  # fmt: skip
        processes.append(process)
        deadline = time.monotonic() + 30
        while not Path(f"{out}.started").exists():
            assert process.poll() is None and time.monotonic() < deadline, "loadgen did not start"
            time.sleep(0.05)

        def finish() -> list[dict[str, Any]]:
            stop.touch()
            process.wait(60)
            results: list[dict[str, Any]] = json.loads(out.read_text())
            return results

        return finish

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_promotions_and_a_rollback_swap_under_load_without_a_failed_request(
    registry: Registry,
    serve: Callable[..., ScoringServer],
    load: Callable[[str], Callable[[], list[dict[str, Any]]]],
) -> None:
    first = _production(registry)
    numbers = _same_files_again(registry, first, 10)
    server = serve(["models:/Iris/Production", "--poll-interval", "0.05"], **registry.location)
    finish = load(server.url)
    time.sleep(0.2)
    steps = []  # (version, asked at, reported swapped at)
    for number in numbers:
        asked = time.time()
        registry.client.transition_stage("Iris", number, "Production", archive_existing=True)
        steps.append((number, asked, server.wait_for(number)))
        time.sleep(0.05)
    asked = time.time()
    back = registry.client.rollback("Iris").version
    assert back == numbers[-2]
    steps.append((back, asked, server.wait_for(back)))
    time.sleep(0.2)
    results = finish()

    failed = [r for r in results if r["status"] != 200]
    assert not failed, failed[:5]
    assert len(results) > 200
    for index, (number, _, swapped) in enumerate(steps):
        next_asked = steps[index + 1][1] if index + 1 < len(steps) else float("inf")
        window = [r for r in results if r["start"] > swapped and r["end"] < next_asked]
        assert window, f"no request between the swap to v{number} and the next promotion"
        assert {r["version"] for r in window} == {str(number)}, number
    served = server.served()
    assert served["swaps"] == 11
    assert served["rejected"] == {}
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'registre_serving_swaps_total{model="Iris"} 11.0' in metrics


def _broken_example(registry: Registry, tmp_path: Path) -> int:
    """A good model whose stored input example has a column the model does not know."""
    directory = tmp_path / "broken-example"
    save_model(logistic(), directory, input_example=rows().head(2))
    example = json.loads((directory / "input_example.json").read_text())
    example["columns"] = ["a", "b", "c", "d"]
    (directory / "input_example.json").write_text(json.dumps(example))
    return registry.client.register_directory("Iris", directory, prefix="model").version


def _corrupt_model_file(registry: Registry, tmp_path: Path) -> int:
    directory = tmp_path / "corrupt"
    save_model(logistic(), directory, input_example=rows().head(2))
    (directory / "model.skops").write_bytes(b"these are not the bytes of a skops file")
    return registry.client.register_directory("Iris", directory, prefix="model").version


def _tampered_blob(registry: Registry) -> int:
    """Registered fine, then its model file's bytes change in the blob store behind its back."""
    version = registry.client.log_model(constant(1), "Iris", input_example=rows().head(2))
    entry = next(f for f in version.files if f.path == "model/model.skops")
    registry.blob_path(entry.digest).write_bytes(b"tampered")
    return version.version


def test_a_broken_new_version_is_refused_recorded_and_the_old_one_keeps_serving(
    registry: Registry, serve: Callable[..., ScoringServer], tmp_path: Path
) -> None:
    _production(registry)
    server = serve(["models:/Iris/Production", "--poll-interval", "0.05"], **registry.location)
    broken = {
        _broken_example(registry, tmp_path): "its input example failed",
        _corrupt_model_file(registry, tmp_path): "not a readable skops file",
        _tampered_blob(registry): "IntegrityError",
    }
    for number, reason in broken.items():
        registry.client.transition_stage("Iris", number, "Production", archive_existing=True)
        deadline = time.monotonic() + 30
        while str(number) not in server.served()["rejected"]:
            assert time.monotonic() < deadline, server.state()
            time.sleep(0.05)
        assert reason in server.served()["rejected"][str(number)]
        events = registry.client.history("Iris", number).items
        refusals = [e.after for e in events if e.action == "serving_check_failed"]
        assert len(refusals) == 1 and refusals[0] is not None
        assert reason.split()[0] in refusals[0]["reason"]
        assert refusals[0]["uri"] == "models:/Iris/Production"
        response = httpx.post(f"{server.url}/invocations", json=split_body(rows()))
        assert response.status_code == 200
        assert response.headers["X-Model-Version"] == "1"
    # A refusal is final for that version, and following goes on for the next one.
    good = registry.client.log_model(constant(2), "Iris", input_example=rows().head(2)).version
    registry.client.transition_stage("Iris", good, "Production", archive_existing=True)
    server.wait_for(good)
    response = httpx.post(f"{server.url}/invocations", json=split_body(rows()))
    assert response.json() == {"predictions": [2, 2, 2]}
    assert response.headers["X-Model-Version"] == str(good)
