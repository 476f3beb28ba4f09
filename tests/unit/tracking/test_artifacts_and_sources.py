"""The artifact index, multipart uploads, and registering versions from tracked sources."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from registre.domain.errors import Conflict, InvalidInput, NotFound
from registre.domain.tracking import ListedFile, Metric
from registre.service.registry import Registry
from registre.service.tracking import Tracking


@pytest.fixture
def run_root(tracking: Tracking) -> tuple[str, str]:
    run = tracking.create_run("0")
    tracking.log_batch(run.id, metrics=[Metric("acc", 0.9, 1)], params={"C": "1"})
    return run.id, run.artifact_uri.removeprefix("mlflow-artifacts:/")


def test_put_open_list_delete(tracking: Tracking, run_root: tuple[str, str]) -> None:
    _, root = run_root
    entry = tracking.artifacts.put(f"{root}/model/MLmodel", [b"flavors: {}", b"\n"])
    assert entry.digest == hashlib.sha256(b"flavors: {}\n").hexdigest()
    tracking.artifacts.put(f"{root}/model/data/w.bin", [b"x" * 10])
    _, chunks = tracking.artifacts.open(f"{root}/model/MLmodel")
    assert b"".join(chunks) == b"flavors: {}\n"
    assert tracking.artifacts.list(root) == [ListedFile("model", True)]
    assert tracking.artifacts.list(f"{root}/model") == [
        ListedFile("MLmodel", False, 12),
        ListedFile("data", True),
    ]
    assert tracking.artifacts.list(f"{root}/model/MLmodel") == []  # a file
    assert tracking.artifacts.list(f"{root}/missing") == []
    assert tracking.artifacts.delete(f"{root}/model/data") == 1
    with pytest.raises(NotFound):
        tracking.artifacts.open(f"{root}/model/data/w.bin")


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../../x", "%2e%2e/x", "%252e%252e/x", "a\\..\\x", "/etc/passwd", "a#/../x",
     "a?b", "file:///etc/passwd", "C:/x", "a\x00b"],
)  # fmt: skip
def test_unsafe_paths_are_refused_before_any_lookup(
    tracking: Tracking, run_root: tuple[str, str], path: str
) -> None:
    _, root = run_root
    # "C:" is only a drive at the start; inside a run it is an ordinary directory name.
    for target in (path, f"{root}/{path}") if path != "C:/x" else (path,):
        with pytest.raises(InvalidInput):
            tracking.artifacts.put(target, [b"x"])
        with pytest.raises(InvalidInput):
            tracking.artifacts.open(target)


def test_uploads_need_an_existing_root_in_the_right_experiment(
    tracking: Tracking, run_root: tuple[str, str]
) -> None:
    run_id, _ = run_root
    with pytest.raises(NotFound):
        tracking.artifacts.put(f"0/{'a' * 32}/artifacts/x", [b"x"])
    other = tracking.create_experiment("other")
    with pytest.raises(NotFound):
        tracking.artifacts.put(f"{other}/{run_id}/artifacts/x", [b"x"])
    with pytest.raises(InvalidInput):
        tracking.artifacts.put(f"0/{run_id}/artifacts", [b"x"])


def test_multipart_upload_concatenates_parts_in_order(
    tracking: Tracking, run_root: tuple[str, str]
) -> None:
    _, root = run_root
    upload = tracking.artifacts.create_upload(f"{root}/big", "/home/me/data.bin", 3)
    etags = {n: tracking.artifacts.put_part(upload, n, [bytes([n]) * 4]) for n in (3, 1, 2)}
    with pytest.raises(Conflict):
        tracking.artifacts.complete_upload(f"{root}/big", "data.bin", upload, [(1, etags[2])])
    with pytest.raises(InvalidInput):
        tracking.artifacts.complete_upload(f"{root}/other", "data.bin", upload, [(1, "")])
    entry = tracking.artifacts.complete_upload(
        f"{root}/big", "C:\\Users\\me\\data.bin", upload, [(n, etags[n]) for n in (1, 2, 3)]
    )
    expected = b"\x01" * 4 + b"\x02" * 4 + b"\x03" * 4
    assert (entry.path, entry.digest) == ("big/data.bin", hashlib.sha256(expected).hexdigest())
    with pytest.raises(NotFound):
        tracking.artifacts.put_part(upload, 1, [b"late"])
    with pytest.raises(InvalidInput):
        tracking.artifacts.create_upload(f"{root}/big", "..", 1)


def test_register_from_logged_model_reuses_digests_with_run_metrics(
    tracking: Tracking, registry: Registry, run_root: tuple[str, str]
) -> None:
    run_id, _ = run_root
    model = tracking.create_logged_model("0", "model", source_run_id=run_id)
    root = model.artifact_uri.removeprefix("mlflow-artifacts:/")
    entry = tracking.artifacts.put(f"{root}/MLmodel", [b"mlmodel"])
    registry.create_model("Iris")
    version = tracking.sources.register("Iris", f"models:/{model.id}")
    assert (version.version, version.run_id, version.status.value) == (1, run_id, "READY")
    assert [(f.path, f.digest) for f in version.files] == [("MLmodel", entry.digest)]
    assert (version.metrics, version.params) == ({"acc": 0.9}, {"C": "1"})
    assert tracking.sources.download_uri(version) == "mlflow-artifacts:/_registry/SXJpcw/1"


def test_register_from_runs_and_artifact_uris(
    tracking: Tracking, registry: Registry, run_root: tuple[str, str]
) -> None:
    run_id, root = run_root
    tracking.artifacts.put(f"{root}/model/MLmodel", [b"m"])
    tracking.artifacts.put(f"{root}/model/sub/w", [b"w"])
    tracking.artifacts.put(f"{root}/modelx/other", [b"o"])  # a sibling, not under model/
    registry.create_model("Iris")
    from_run = tracking.sources.register("Iris", f"runs:/{run_id}/model")
    from_uri = tracking.sources.register("Iris", f"mlflow-artifacts:/{root}/model")
    copied = tracking.sources.register("Iris", "models:/Iris/1")
    for version in (from_run, from_uri, copied):
        assert [f.path for f in version.files] == ["MLmodel", "sub/w"]
        assert version.run_id == run_id
    assert tracking.sources.download_uri(copied) == "mlflow-artifacts:/_registry/SXJpcw/3"


def test_a_version_serves_its_own_files_even_after_the_run_changes(
    tracking: Tracking, registry: Registry, run_root: tuple[str, str]
) -> None:
    run_id, root = run_root
    tracking.artifacts.put(f"{root}/model/MLmodel", [b"original"])
    registry.create_model("Iris Model")  # a name that needs encoding in a URL
    version = tracking.sources.register("Iris Model", f"runs:/{run_id}/model")
    tracking.artifacts.put(f"{root}/model/MLmodel", [b"overwritten"])
    tracking.artifacts.delete(f"{root}/model")
    path = tracking.sources.download_uri(version).removeprefix("mlflow-artifacts:/")
    assert tracking.artifacts.list(path) == [ListedFile("MLmodel", False, 8)]
    _, chunks = tracking.artifacts.open(f"{path}/MLmodel")
    assert b"".join(chunks) == b"original"
    with pytest.raises(InvalidInput):
        tracking.artifacts.put(f"{path}/MLmodel", [b"x"])  # versions are read-only
    for bad in ("_registry/!!/1/MLmodel", "_registry/SXJpcw/x/MLmodel", "_registry/SXJpcw"):
        with pytest.raises(InvalidInput):
            tracking.artifacts.open(bad)


@pytest.mark.parametrize(
    "source",
    ["/etc", "file:///etc/passwd", "file:/etc", "../x", "s3://b/../k", "s3://b/%252e%252e/k",
     "s3://b/k#f", "http://127.0.0.1/x", "ftp://h/x", "runs:/../x", "runs:/r/../../x",
     "mlflow-artifacts:/0/../../x", "mlflow-artifacts:/0/x#/../..", "models:/m-1234/../../x",
     "relative/path", ""],
)  # fmt: skip
def test_unresolvable_sources_are_invalid(
    tracking: Tracking, registry: Registry, source: str
) -> None:
    registry.create_model("Iris")
    with pytest.raises((InvalidInput, NotFound)):
        tracking.sources.register("Iris", source)
    assert registry.list_versions("Iris") == []


def test_a_source_without_artifacts_is_registered_by_reference(
    tracking: Tracking, registry: Registry, run_root: tuple[str, str]
) -> None:
    """As with MLflow: the version records the source, has no files of its own, and its
    downloads follow the source (a run's files logged later, an object store read by the
    client). The server never reads an object-store URI."""
    run_id, root = run_root
    registry.create_model("Iris")
    empty = tracking.sources.register("Iris", f"runs:/{run_id}/model")
    assert (empty.files, empty.run_id, empty.metrics) == ([], run_id, {"acc": 0.9})
    assert tracking.sources.download_uri(empty) == f"runs:/{run_id}/model"
    tracking.artifacts.put(f"{root}/model/MLmodel", [b"later"])
    assert [f.path for f in tracking.artifacts.list(f"{root}/model")] == ["MLmodel"]
    dangling = tracking.sources.register("Iris", "runs:/run_id/model", run_id="run_id")
    assert (dangling.files, dangling.run_id, dangling.metrics) == ([], "run_id", {})
    remote = tracking.sources.register("Iris", "s3://bucket/models/iris")
    assert tracking.sources.download_uri(remote) == "s3://bucket/models/iris"
    assert [v.version for v in registry.list_versions("Iris")] == [1, 2, 3]
    with pytest.raises(NotFound):
        tracking.sources.register("Missing", f"runs:/{run_id}/model")


def test_concurrent_uploads_share_a_transaction_and_keep_their_own_outcomes(
    tracking: Tracking, registry: Registry, run_root: tuple[str, str]
) -> None:
    """Index entries of uploads that arrive together are written in one batch; each upload
    keeps its own actor in the audit trail, and one whose run is gone fails alone."""
    import threading

    from registre.domain.tracking import parse_proxy_location
    from registre.service.context import acting_as

    run_id, root = run_root
    results: dict[int, object] = {}
    batches: list[int] = []
    write_batch = tracking.artifacts._record_batch

    def counting(records):  # type: ignore[no-untyped-def]
        batches.append(len(records))
        return write_batch(records)

    tracking.artifacts._records._run_batch = counting  # type: ignore[method-assign]
    gone = parse_proxy_location(f"0/{'f' * 32}/artifacts/lost.bin")  # a run that never existed

    def upload(i: int) -> None:
        with acting_as(f"user-{i}"):
            try:
                if i == 3:
                    tracking.artifacts._record(
                        gone, hashlib.sha256(b"3").hexdigest(), 1, "put_artifact"
                    )
                    results[i] = "stored"
                else:
                    results[i] = tracking.artifacts.put(f"{root}/f{i}.bin", [f"{i}".encode()]).path
            except NotFound as exc:
                results[i] = str(exc)

    held = threading.Lock()  # another writer's turn, held while all six queue

    @contextmanager
    def turn(wait: bool = True) -> Iterator[bool]:
        with held:
            yield True

    tracking.artifacts._records._turn = turn
    with held:
        threads = [threading.Thread(target=upload, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(tracking.artifacts._records._queue) < 5 and time.monotonic() < deadline:
            time.sleep(0.005)  # the first caller waits for the turn, the other five queue
    for t in threads:
        t.join(10)
    assert results[3] == f"run {'f' * 32!r} does not exist in experiment 0"
    assert {i: r for i, r in results.items() if i != 3} == {i: f"f{i}.bin" for i in (0, 1, 2, 4, 5)}
    assert sum(batches) >= 6 and max(batches) >= 5  # (a failed batch is retried one by one)
    assert [f.path for f in tracking.artifacts.list(root) if not f.is_dir] == [
        f"f{i}.bin" for i in (0, 1, 2, 4, 5)
    ]
    with registry.store.read() as conn:
        events = registry.store.events(conn, f"runs/{run_id}", None, 99, 0, ("put_artifact",))
    assert sorted((e.actor, e.after["path"]) for e in events) == [
        (f"user-{i}", f"f{i}.bin") for i in (0, 1, 2, 4, 5)
    ]
