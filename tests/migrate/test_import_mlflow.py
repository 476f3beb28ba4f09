"""``registre import-mlflow`` against a real ``mlflow server`` populated by the official client.

One server per module (it takes seconds to start); each test imports into its own Registre
home and compares it with what MLflow says and serves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from registre.client.client import Client
from registre.config import load_settings
from registre.domain.errors import NotFound
from registre.domain.tracking import run_artifact_root
from registre.migrate import MlflowSource, Problem, import_mlflow
from registre.service.registry import Registry
from registre.service.tracking import Tracking
from tests.fixtures import free_port
from tests.fixtures.server import RunningServer, start_server, stop_server
from tests.migrate.conftest import Cli
from tests.migrate.mlflow_server import MlflowServer, Populated

mlflow = pytest.importorskip("mlflow")


@contextmanager
def opened(home: Path) -> Iterator[Registry]:
    settings = load_settings(home=home, database_url="", artifact_root="")
    registry = Registry.open(settings.database_url, settings.artifact_root)
    try:
        yield registry
    finally:
        registry.close()


def event_count(registry: Registry) -> int:
    with registry.store.read() as conn:
        return len(registry.store.events(conn, None, None, 10**9, 0))


def report_of(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def storage_location(client: Any, name: str, version: str) -> str:
    """The version's ``mlflow-artifacts:/`` location (``runs:/`` sources followed)."""
    uri: str = client.get_model_version_download_uri(name, version)
    if uri.startswith("runs:/"):
        run_id, _, path = uri.removeprefix("runs:/").partition("/")
        uri = f"{client.get_run(run_id).info.artifact_uri}/{path}"
    return uri


def mlflow_files(server: MlflowServer, location: str) -> set[str]:
    """The files under an ``mlflow-artifacts:/`` location, from the server's own directory."""
    root = server.artifacts / urlsplit(location).path.strip("/")
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def served_bytes(server: MlflowServer, location: str, path: str) -> bytes:
    """A file as the MLflow server serves it through its artifact proxy."""
    prefix = urlsplit(location).path.strip("/")
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/{prefix}/{path}"
    response = httpx.get(url, timeout=30)
    response.raise_for_status()
    return response.content


def assert_matches_mlflow(home: Path, server: MlflowServer, client: Any, read: Any) -> int:
    """Every MLflow model and version is in Registre, the same; returns the version count."""
    checked = 0
    with opened(home) as registry:
        for rm in client.search_registered_models():
            model = registry.get_model(rm.name)
            assert model.description == (rm.description or "")
            assert rm.tags.items() <= model.tags.items()
            assert model.aliases == {a: int(v) for a, v in rm.aliases.items()}
            versions = client.search_model_versions(f"name = '{rm.name}'")
            held = registry.list_versions(rm.name)
            assert [v.version for v in held] == sorted(int(v.version) for v in versions)
            for mv in versions:
                version = registry.get_version(rm.name, mv.version)
                assert version.stage.value == mv.current_stage
                assert version.description == (mv.description or "")
                assert mv.tags.items() <= version.tags.items()
                origin = version.tags["registre.imported_from"]
                assert origin.endswith(f"#{rm.name}/{mv.version}")
                assert version.tags["registre.imported.creation_timestamp"] == str(
                    mv.creation_timestamp
                )
                assert version.created_by == "importer"
                run = client.get_run(mv.run_id)
                assert version.params == run.data.params
                assert version.metrics == run.data.metrics
                location = storage_location(client, rm.name, mv.version)
                assert {f.path for f in version.files} == mlflow_files(server, location)
                for file in version.files:
                    data = read(location, file.path)
                    assert hashlib.sha256(data).hexdigest() == file.digest, file.path
                    assert file.size == len(data)
                checked += 1
    return checked


def tree(list_artifacts: Callable[[str | None], list[Any]]) -> dict[str, int]:
    """Every file a run or logged model lists, with its size, walking its directories."""
    found: dict[str, int] = {}
    pending: list[str | None] = [None]
    while pending:
        for info in list_artifacts(pending.pop()):
            if info.is_dir:
                pending.append(info.path)
            else:
                found[info.path] = info.file_size
    return found


def downloaded(client: Any, run_id: str, paths: list[str], dest: Path) -> dict[str, bytes]:
    """Each file's bytes as the client downloads them from the run."""
    dest.mkdir(parents=True, exist_ok=True)
    return {p: Path(client.download_artifacts(run_id, p, str(dest))).read_bytes() for p in paths}


def points(history: list[Any]) -> list[tuple[float, int, int]]:
    return [(m.value, m.step, m.timestamp) for m in history]


class Recorder:
    """A progress bar's view of an import: the bytes it expects, and those it is shown."""

    def __init__(self) -> None:
        self.total = 0
        self.advanced = 0

    def planned(self, versions: int, total_bytes: int) -> None:
        self.total = total_bytes

    def copying(self, model: str, version: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        self.advanced += nbytes

    def problem(self, problem: Problem, *, error: bool) -> None:
        raise AssertionError(f"unexpected problem: {problem}")


def test_import_copies_models_versions_runs_and_every_byte(
    cli: Cli, live: MlflowServer, populated: Populated, tmp_path: Path
) -> None:
    home = tmp_path / "registre"
    result = cli(home, "import-mlflow", "--from", live.url)
    assert f"Imported from {live.url}" in result.stdout
    assert "models    2 (2 new)" in result.stdout

    client = mlflow.MlflowClient(live.url, live.url)
    checked = assert_matches_mlflow(
        home, live, client, lambda loc, path: served_bytes(live, loc, path)
    )
    assert checked >= 4
    with opened(home) as registry:
        # MLflow deleted Iris v2: Registre keeps the gap, and its next number is MLflow's.
        with pytest.raises(NotFound):
            registry.get_version("Iris", 2)
        assert registry.get_version("Iris", 3).stage.value == "Production"
        assert registry.get_model("Iris").aliases == {"champion": 3, "first": 1}
        files = {f.path for f in registry.get_version("Iris", 3).files}
        assert {"MLmodel", "README.md", "notes/eval.json"} <= files
        assert {e.actor for e in registry.history("Iris").items} == {"importer"}

        tracking = Tracking(registry)
        experiment = tracking.get_experiment_by_name("import-iris")
        runs = tracking.search_runs([experiment.id]).items
        assert len(runs) == 2  # the runs of v1 and v3 (v2's was not needed)
        source_run = client.get_run(client.get_model_version("Iris", "3").run_id)
        copied = registry.get_version("Iris", 3).run_id
        assert copied is not None
        run = tracking.get_run(copied)
        assert run.params == source_run.data.params
        assert run.tags["registre.imported.run_id"] == source_run.info.run_id
        assert run.status.value == "FINISHED"
        history = client.get_metric_history(source_run.info.run_id, "accuracy")
        assert len(history) == 3
        assert [(m.value, m.step, m.timestamp) for m in tracking.metric_history(
            copied, "accuracy")] == [(m.value, m.step, m.timestamp) for m in history]  # fmt: skip

    predictor = Client(home).load_model("models:/Iris/Production", cache_dir=tmp_path / "cache")
    assert [int(p) for p in predictor.predict(populated.rows)] == populated.production_predictions

    with opened(home) as registry:  # after the import, Registre numbers on from MLflow's
        assert registry.register_version("Iris").version == 4


def test_import_into_a_registre_server(
    cli: Cli,
    live: MlflowServer,
    populated: Populated,
    start_registre_server: Callable[..., RunningServer],
    tmp_path: Path,
) -> None:
    server = start_registre_server()
    args = ("--url", server.url, "import-mlflow", "--from", live.url, "--model", "Iris", "--json")
    first = report_of(cli(tmp_path, *args))
    assert first["versions_imported"] == 2
    client = Client(server.url)
    assert [v.version for v in client.list_versions("Iris")] == [1, 3]
    assert {e.actor for e in client.history("Iris").items} == {"importer"}
    predictor = client.load_model("models:/Iris@champion", cache_dir=tmp_path / "cache")
    assert [int(p) for p in predictor.predict(populated.rows)] == populated.production_predictions
    second = report_of(cli(tmp_path, *args))
    assert (second["versions_imported"], second["updates"]) == (0, 0)


def test_a_second_import_changes_nothing(cli: Cli, live: MlflowServer, tmp_path: Path) -> None:
    home = tmp_path / "registre"
    first = report_of(cli(home, "import-mlflow", "--from", live.url, "--json"))
    assert first["ok"] and first["versions_imported"] >= 4
    with opened(home) as registry:
        events = event_count(registry)
        blobs = sorted(registry.blobs.iter_digests())

    assert first["run_files"] > 0 and first["logged_models_imported"] == 2

    second = report_of(cli(home, "import-mlflow", "--from", live.url, "--json", "--verify"))
    assert second["versions_imported"] == 0
    assert second["versions_present"] == first["versions_imported"]
    assert (second["runs_imported"], second["updates"], second["models_created"]) == (0, 0, 0)
    assert (second["run_files"], second["logged_models_imported"]) == (0, 0)
    with opened(home) as registry:
        assert event_count(registry) == events
        assert sorted(registry.blobs.iter_digests()) == blobs


@pytest.mark.filterwarnings("ignore::FutureWarning")  # MLflow's stages: deprecated, still served
def test_a_new_import_follows_what_changed_in_mlflow(
    cli: Cli, live: MlflowServer, tmp_path: Path
) -> None:
    home = tmp_path / "registre"
    cli(home, "import-mlflow", "--from", live.url, "--model", "Plain")
    client = mlflow.MlflowClient(live.url, live.url)
    source = client.get_model_version("Plain", "1").source
    added = client.create_model_version("Plain", source, run_id=client.get_model_version(
        "Plain", "1").run_id)  # fmt: skip
    client.transition_model_version_stage("Plain", "2", "Production")
    client.set_registered_model_alias("Plain", "live", "2")
    client.set_model_version_tag("Plain", "1", "reviewed", "yes")

    report = report_of(cli(home, "import-mlflow", "--from", live.url, "--model", "Plain", "--json"))
    assert report["versions_imported"] == 1
    assert report["updates"] == 3  # stage, alias, tag
    with opened(home) as registry:
        assert registry.get_version("Plain", int(added.version)).stage.value == "None"
        assert registry.get_version("Plain", 2).stage.value == "Production"
        assert registry.get_model("Plain").aliases["live"] == 2
        assert registry.get_version("Plain", 1).tags["reviewed"] == "yes"


def test_a_version_that_cannot_be_read_is_reported_and_the_others_imported(
    cli: Cli, live: MlflowServer, tmp_path: Path
) -> None:
    client = mlflow.MlflowClient(live.url, live.url)
    files = tmp_path / "files"
    files.mkdir()
    (files / "weights.bin").write_bytes(b"w" * 1000)
    mlflow.set_tracking_uri(live.url)
    mlflow.set_experiment("import-broken")
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(files), artifact_path="good")
        mlflow.log_artifacts(str(files), artifact_path="bad")
    client.create_registered_model("Broken")
    client.create_model_version("Broken", f"runs:/{run.info.run_id}/good", run.info.run_id)
    bad = client.create_model_version("Broken", f"runs:/{run.info.run_id}/bad", run.info.run_id)
    location = storage_location(client, "Broken", bad.version)
    broken = live.artifacts / urlsplit(location).path.strip("/") / "weights.bin"
    broken.unlink()
    broken.symlink_to(tmp_path / "nowhere")  # listed by MLflow, but unreadable

    home = tmp_path / "registre"
    result = cli(home, "import-mlflow", "--from", live.url, "--model", "Broken", code=1)
    assert "error: Broken version 2:" in result.stderr
    # The run came with version 1, but MLflow cannot list its artifacts: reported.
    assert "error: Broken version 1: cannot list the artifacts of its run" in result.stderr
    with opened(home) as registry:
        assert [v.version for v in registry.list_versions("Broken")] == [1]
        run_id = registry.get_version("Broken", 1).run_id
        assert run_id is not None
        tracking = Tracking(registry)
        root = run_artifact_root(tracking.get_run(run_id).experiment_id, run_id)
        assert tracking.artifacts.entries(root) == []

    broken.unlink()
    broken.write_bytes(b"w" * 1000)
    result = cli(home, "import-mlflow", "--from", live.url, "--model", "Broken")
    assert "versions  1 new, 1 already imported" in result.stdout
    with opened(home) as registry:
        assert [v.version for v in registry.list_versions("Broken")] == [1, 2]
        held = Tracking(registry).artifacts.entries(root)
        assert [(e.path, e.size) for e in held] == [("bad/weights.bin", 1000),
                                                    ("good/weights.bin", 1000)]  # fmt: skip


def test_a_failed_download_registers_nothing_of_that_version(
    live: MlflowServer, tmp_path: Path
) -> None:
    """Files vanish between planning and copying: that version is left out entirely."""

    class Saboteur:
        def __init__(self) -> None:
            self.victim: Path | None = None
            self.saved = b""

        def planned(self, versions: int, total_bytes: int) -> None:
            pass

        def copying(self, model: str, version: int) -> None:
            if (model, version) == ("Iris", 3):  # remove one file the plan listed
                client = mlflow.MlflowClient(live.url, live.url)
                location = client.get_model_version_download_uri("Iris", "3")
                victim = live.artifacts / urlsplit(location).path.strip("/") / "README.md"
                self.saved = victim.read_bytes()
                self.victim = victim
                victim.unlink()

        def advance(self, nbytes: int) -> None:
            pass

        def problem(self, problem: Problem, *, error: bool) -> None:
            pass

    saboteur = Saboteur()
    source = MlflowSource.open(live.url)
    try:
        with opened(tmp_path / "registre") as registry:
            report = import_mlflow(source, registry, models=["Iris"], progress=saboteur)
            assert [(p.model, p.version) for p in report.errors] == [("Iris", 3)]
            assert "README.md" in report.errors[0].message
            assert [v.version for v in registry.list_versions("Iris")] == [1]
            assert "champion" not in registry.get_model("Iris").aliases
    finally:
        if saboteur.victim is not None:
            saboteur.victim.write_bytes(saboteur.saved)


def test_a_number_taken_in_registre_is_refused_and_later_versions_keep_theirs(
    cli: Cli, live: MlflowServer, tmp_path: Path
) -> None:
    home = tmp_path / "registre"
    with opened(home) as registry:
        registry.register_version("Plain", description="made in Registre")
    result = cli(home, "import-mlflow", "--from", live.url, "--model", "Plain", code=1)
    assert "error: Plain version 1: Registre already has this version number" in result.stderr
    with opened(home) as registry:
        assert registry.get_version("Plain", 1).description == "made in Registre"
        assert registry.get_version("Plain", 2).tags["registre.imported_from"].endswith("#Plain/2")


def test_dry_run_reports_and_writes_nothing(cli: Cli, live: MlflowServer, tmp_path: Path) -> None:
    home = tmp_path / "registre"
    result = cli(home, "import-mlflow", "--from", live.url, "--dry-run", "--model", "Iris")
    assert "Would import from" in result.stdout
    assert "versions  2 new" in result.stdout
    planned = report_of(cli(home, "import-mlflow", "--from", live.url, "--dry-run", "--json"))
    real = report_of(cli(tmp_path / "real", "import-mlflow", "--from", live.url, "--json"))
    counts = ("files", "bytes", "run_files", "run_bytes", "logged_models_imported")
    assert [planned[c] for c in counts] == [real[c] for c in counts]
    with opened(home) as registry:
        assert registry.search_models().items == []
        assert {e.name for e in Tracking(registry).search_experiments().items} <= {"Default"}


@pytest.mark.parametrize(
    ("source", "code", "message"),
    [
        ("http://127.0.0.1:{port}", 3, "error: cannot read MLflow at http://127.0.0.1:"),
        ("sqlite:///{tmp}/missing.db", 4, "error: no MLflow database at"),
        ("ftp://example.com/mlflow", 2, "error: --from 'ftp://example.com/mlflow'"),
    ],
)
def test_an_unusable_source_is_a_one_line_error(
    cli: Cli, tmp_path: Path, source: str, code: int, message: str
) -> None:
    home = tmp_path / "registre"
    uri = source.format(port=free_port(), tmp=tmp_path)
    result = cli(home, "import-mlflow", "--from", uri, code=code)
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert not home.exists()  # nothing was created for a source that cannot be read


def test_runs_and_logged_models_are_served_as_mlflow_serves_them(
    cli: Cli, live: MlflowServer, populated: Populated, tmp_path: Path
) -> None:
    """Through a Registre server on the imported home, the mlflow client lists and downloads
    the same run artifacts, and finds the same logged models, as through MLflow."""
    home = tmp_path / "registre"
    report = report_of(cli(home, "import-mlflow", "--from", live.url, "--json"))
    assert report["ok"] and report["logged_models_imported"] == 2  # Iris v1 and v3
    source = mlflow.MlflowClient(live.url, live.url)
    server = start_server(home)
    previous = mlflow.get_tracking_uri()
    try:
        target = mlflow.MlflowClient(server.url, server.url)
        runs: dict[str, str] = {}  # MLflow run id → Registre run id
        logged_models = set()
        for mv in source.search_model_versions():
            held = target.get_model_version(mv.name, mv.version)
            assert held.run_id and held.run_id != mv.run_id
            runs[mv.run_id] = held.run_id
            if mv.source.startswith("models:/m-"):  # registered from a logged model
                model_id = mv.source.removeprefix("models:/")
                compare_logged_models(live.url, server.url, model_id, held.run_id, tmp_path)
                logged_models.add(model_id)
        assert len(logged_models) == report["logged_models_imported"]
        total = 0
        for mlflow_id, registre_id in runs.items():
            files = tree(partial(source.list_artifacts, mlflow_id))
            assert tree(partial(target.list_artifacts, registre_id)) == files
            assert downloaded(target, registre_id, sorted(files), tmp_path / registre_id) == (
                downloaded(source, mlflow_id, sorted(files), tmp_path / mlflow_id)
            )
            total += len(files)
            for key in source.get_run(mlflow_id).data.metrics:  # logged models add no points
                assert points(target.get_metric_history(registre_id, key)) == points(
                    source.get_metric_history(mlflow_id, key)
                )
        assert total == report["run_files"] - sum(
            len(tree(partial(source.list_logged_model_artifacts, m))) for m in logged_models
        )
        iris = source.get_run(source.get_model_version("Iris", "3").run_id)
        assert {"config/train.json", "notes.txt", "plots/eval/confusion.png"} <= set(
            tree(partial(target.list_artifacts, runs[iris.info.run_id]))
        )

        mlflow.set_tracking_uri(server.url)
        model_id = target.get_run(runs[iris.info.run_id]).outputs.model_outputs[0].model_id
        predictor = mlflow.pyfunc.load_model(f"models:/{model_id}")
        assert [int(p) for p in predictor.predict(populated.rows)] == (
            populated.production_predictions
        )
    finally:
        mlflow.set_tracking_uri(previous)
        stop_server(server)


def compare_logged_models(
    source_url: str, target_url: str, model_id: str, run_id: str, tmp_path: Path
) -> None:
    """MLflow's logged model and the one Registre made from it (the output of ``run_id``)."""
    source = mlflow.MlflowClient(source_url, source_url)
    target = mlflow.MlflowClient(target_url, target_url)
    outputs = target.get_run(run_id).outputs.model_outputs
    expected = source.get_logged_model(model_id)
    found = [
        target.get_logged_model(o.model_id)
        for o in outputs
        if target.get_logged_model(o.model_id).tags.get("registre.imported.model_id") == model_id
    ]
    assert len(found) == 1, outputs
    copied = found[0]
    assert (copied.name, copied.model_type, copied.status) == (
        expected.name, expected.model_type, expected.status,
    )  # fmt: skip
    assert copied.source_run_id == run_id
    assert copied.params == expected.params
    assert expected.tags.items() <= copied.tags.items()
    assert {(m.key, m.value, m.step) for m in copied.metrics} == {
        (m.key, m.value, m.step) for m in expected.metrics
    }
    files = tree(partial(source.list_logged_model_artifacts, model_id))
    assert files and tree(partial(target.list_logged_model_artifacts, copied.model_id)) == files
    fetched = {}
    for url, model in ((source_url, expected), (target_url, copied)):
        local = Path(mlflow.artifacts.download_artifacts(
            artifact_uri=model.artifact_location, dst_path=str(tmp_path / model.model_id),
            tracking_uri=url,
        ))  # fmt: skip
        fetched[model.model_id] = {
            p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()
        }
    assert fetched[copied.model_id] == fetched[expected.model_id]


def test_the_progress_bar_is_told_every_byte_it_will_see(
    live: MlflowServer, tmp_path: Path
) -> None:
    """What the bar expects is what it is shown; files that are a version's and a run's
    (or a logged model's) are downloaded once; a second import downloads nothing."""
    with opened(tmp_path / "registre") as registry:
        bar = Recorder()
        report = import_mlflow(
            MlflowSource.open(live.url), registry, tracking=Tracking(registry), progress=bar
        )
        assert report.ok and report.run_files > 0
        assert bar.total > 0 and bar.advanced == bar.total
        assert bar.total < report.bytes + report.run_bytes

        again = Recorder()
        second = import_mlflow(
            MlflowSource.open(live.url), registry, tracking=Tracking(registry), progress=again
        )
        assert (again.total, again.advanced) == (0, 0)
        assert (second.run_files, second.runs_imported, second.logged_models_imported) == (0, 0, 0)


def test_a_new_import_restores_run_artifacts_missing_in_registre(
    cli: Cli, live: MlflowServer, tmp_path: Path
) -> None:
    home = tmp_path / "registre"
    cli(home, "import-mlflow", "--from", live.url, "--model", "Iris")
    with opened(home) as registry:
        tracking = Tracking(registry)
        run_id = registry.get_version("Iris", 3).run_id
        assert run_id is not None
        root = run_artifact_root(tracking.get_run(run_id).experiment_id, run_id)
        assert tracking.artifacts.delete(f"{root.prefix}/plots") == 1
        events = event_count(registry)

    report = report_of(cli(home, "import-mlflow", "--from", live.url, "--model", "Iris", "--json"))
    assert (report["run_files"], report["run_bytes"]) == (1, 200_000)
    assert (report["versions_imported"], report["updates"], report["runs_imported"]) == (0, 0, 0)
    with opened(home) as registry:
        assert event_count(registry) == events + 1  # the one file put back
        client = mlflow.MlflowClient(live.url, live.url)
        mlflow_run = client.get_model_version("Iris", "3").run_id
        expected = Path(client.download_artifacts(
            mlflow_run, "plots/eval/confusion.png", str(tmp_path / "mlflow")
        )).read_bytes()  # fmt: skip
        entry, chunks = Tracking(registry).artifacts.open(f"{root.prefix}/plots/eval/confusion.png")
        assert b"".join(chunks) == expected
        assert entry.digest == hashlib.sha256(expected).hexdigest()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inside MLflow's SQL store
def test_import_from_the_database_and_artifact_directory(
    cli: Cli, live: MlflowServer, tmp_path: Path
) -> None:
    """The server stopped, its SQLite file and artifact directory are enough."""
    live.stop()
    home = tmp_path / "registre"
    without_root = cli(home, "import-mlflow", "--from", live.database_uri, code=2)
    assert "pass --artifact-root" in without_root.stderr
    with opened(home) as registry:
        assert registry.search_models().items == []  # refused before writing anything

    home = tmp_path / "registre-db"
    args = ("--from", live.database_uri, "--artifact-root", str(live.artifacts))
    first = report_of(cli(home, "import-mlflow", *args, "--json"))
    assert first["ok"] and first["source"] == f"sqlite:///{(live.root / 'mlflow.db').resolve()}"
    client = mlflow.MlflowClient(live.database_uri, live.database_uri)

    def read(location: str, path: str) -> bytes:
        return (live.artifacts / urlsplit(location).path.strip("/") / path).read_bytes()

    assert assert_matches_mlflow(home, live, client, read) == first["versions_imported"]
    assert first["run_files"] > 0 and first["logged_models_imported"] >= 2
    with opened(home) as registry:
        events = event_count(registry)
    second = report_of(cli(home, "import-mlflow", *args, "--json"))
    assert second["versions_imported"] == 0 and second["updates"] == 0
    assert (second["run_files"], second["logged_models_imported"]) == (0, 0)
    with opened(home) as registry:
        assert event_count(registry) == events
