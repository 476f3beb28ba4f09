"""``registre.Client(url)`` end to end against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from registre import (
    AlreadyExists,
    Client,
    Conflict,
    IntegrityError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RegistreError,
    Stage,
)
from registre.client.remote import RemoteBackend, ServerUnavailable
from registre.service.context import acting_as, current_actor
from tests.fixtures import free_port
from tests.fixtures.server import RunningServer

MiB = 1024 * 1024


def unique(prefix: str = "sdk") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client(server_url: str) -> Iterator[Client]:
    with Client(server_url) as client:
        yield client


def _write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def _corrupt(path: Path) -> None:
    os.chmod(path, 0o644)
    with path.open("r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 0xFF]))


def test_client_url_uses_the_remote_backend(client: Client, server_url: str) -> None:
    assert isinstance(client.backend, RemoteBackend)
    assert client.backend.base_url == server_url


def test_register_files_and_directories(client: Client, tmp_path: Path) -> None:
    name = unique()
    created = client.create_model(name, "an image classifier", {"team": "vision"})
    assert (created.name, created.description, created.tags) == (
        name,
        "an image classifier",
        {"team": "vision"},
    )
    local = _write(tmp_path / "one", {"MLmodel": b"flavors: {}\n", "model.skops": b"\x01" * 1000})
    v1 = client.register_files(
        name,
        {"model/MLmodel": local / "MLmodel", "model/model.skops": local / "model.skops"},
        metrics={"accuracy": 0.91},
        params={"depth": 4},
    )
    assert v1.version == 1
    assert [f.path for f in v1.files] == ["model/MLmodel", "model/model.skops"]
    assert v1.files[1].digest == hashlib.sha256(b"\x01" * 1000).hexdigest()
    assert (v1.metrics, v1.params) == ({"accuracy": 0.91}, {"depth": "4"})

    tree = _write(tmp_path / "two", {"a.txt": b"a", "nested/deeper/b c.txt": b"b"})
    v2 = client.register_directory(name, tree, prefix="bundle", tags={"kind": "dir"})
    assert v2.version == 2
    assert [f.path for f in v2.files] == ["bundle/a.txt", "bundle/nested/deeper/b c.txt"]
    assert client.list_files(name, 2) == v2.files
    assert [v.version for v in client.list_versions(name)] == [1, 2]
    model = client.get_model(name)
    assert model.latest_version == 2
    assert client.get_version(name, "2") == v2


def test_models_can_be_listed_updated_tagged_renamed_deleted(client: Client) -> None:
    prefix = unique()
    for suffix in "abc":
        client.create_model(f"{prefix}-{suffix}")
    page = client.search_models(f"name LIKE '{prefix}-%'", "name DESC", 2)
    assert [m.name for m in page.items] == [f"{prefix}-c", f"{prefix}-b"]
    rest = client.search_models(f"name LIKE '{prefix}-%'", ["name DESC"], 2, page.next_page_token)
    assert ([m.name for m in rest.items], rest.next_page_token) == ([f"{prefix}-a"], None)

    name = f"{prefix}-a"
    assert client.update_model(name, "described").description == "described"
    client.set_model_tag(name, "owner", "alice")
    client.set_model_tag(name, "path/like", "x")
    assert client.get_model(name).tags == {"owner": "alice", "path/like": "x"}
    client.delete_model_tag(name, "owner")
    renamed = client.rename_model(name, f"{prefix}-z")
    assert renamed.tags == {"path/like": "x"}
    client.delete_model(f"{prefix}-z")
    with pytest.raises(NotFound):
        client.get_model(f"{prefix}-z")


def test_lifecycle_aliases_resolution_and_rollback(client: Client) -> None:
    name = unique()
    for accuracy in (0.8, 0.9, 0.95):
        client.register_version(name, metrics={"accuracy": accuracy})
    client.transition_stage(name, 1, "Production")
    promoted = client.transition_stage(name, 2, Stage.PRODUCTION, archive_existing=True)
    assert promoted.stage is Stage.PRODUCTION
    assert client.get_version(name, 1).stage is Stage.ARCHIVED
    assert client.set_alias(name, "champion", 3).aliases == ["champion"]

    assert client.resolve_uri(f"models:/{name}/Production").version == 2
    assert client.resolve_uri(f"models:/{name}@champion").version == 3
    assert client.resolve(name, "@champion").version == 3
    assert client.resolve(name, "latest").version == 3
    assert client.resolve(name, 1).version == 1
    assert client.resolve_uri(f"models:/{name}/1").version == 1

    back = client.rollback(name)
    assert (back.version, back.stage) == (1, Stage.PRODUCTION)
    assert client.get_version(name, 2).stage is Stage.ARCHIVED
    client.delete_alias(name, "champion")
    with pytest.raises(NotFound):
        client.resolve(name, "@champion")

    client.update_version(name, 3, "candidate")
    client.set_version_tag(name, 3, "validated", "yes")
    client.log_metrics(name, 3, {"f1": 0.5})
    v3 = client.get_version(name, 3)
    assert (v3.description, v3.tags, v3.metrics) == (
        "candidate",
        {"validated": "yes"},
        {"accuracy": 0.95, "f1": 0.5},
    )
    client.delete_version_tag(name, 3, "validated")
    client.delete_version(name, 3)
    with pytest.raises(NotFound):
        client.get_version(name, 3)


def test_history_says_who_did_what_when(client: Client, server_url: str) -> None:
    name = unique()
    before = int(time.time() * 1000) - 5000
    client.register_version(name)
    with acting_as("alice"):
        client.transition_stage(name, 1, "Staging")
    with RemoteBackend(server_url, user="zoë") as zoe:
        zoe.transition_stage(name, 1, "Production")
    events = client.history(name).items
    assert [e.action for e in events] == [
        "create_model",
        "register_version",
        "transition_stage",
        "transition_stage",
    ]
    assert events[0].actor == current_actor()  # the local user, as in embedded mode
    staged, produced = events[2], events[3]
    assert (staged.actor, staged.before, staged.after) == (
        "alice",
        {"stage": "None"},
        {"stage": "Staging"},
    )
    assert (produced.actor, produced.before, produced.after) == (
        "zoë",
        {"stage": "Staging"},
        {"stage": "Production"},
    )
    assert all(before <= e.at <= int(time.time() * 1000) + 5000 for e in events)
    first = client.history(name, version=1, max_results=1)
    assert len(first.items) == 1 and first.next_page_token
    rest = client.history(name, version=1, page_token=first.next_page_token)
    assert [e.id for e in first.items + rest.items] == [e.id for e in events[1:]]


def test_search_versions_by_metric_and_stage_with_pagination(client: Client) -> None:
    suite = unique("suite")
    for index, accuracy in enumerate((0.95, 0.5, 0.99, 0.92)):
        name = f"{suite}-{index}"
        client.register_version(name, metrics={"accuracy": accuracy}, tags={"suite": suite})
        client.transition_stage(name, 1, "Production" if index != 3 else "Staging")
    query = f"metrics.accuracy > 0.9 and stage = 'Production' and tags.suite = '{suite}'"
    found: list[str] = []
    token = None
    while True:
        page = client.search_versions(query, "metrics.accuracy DESC", 1, token)
        found += [v.name for v in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert found == [f"{suite}-2", f"{suite}-0"]


def test_download_streams_and_checks_digests(client: Client, tmp_path: Path) -> None:
    name = unique()
    big = os.urandom(5 * MiB + 3)
    local = _write(tmp_path / "src", {"model/weights.bin": big, "README": b"hi"})
    version = client.register_directory(name, local)
    written = client.download(name, version.version, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "README",
        "model/weights.bin",
    ]
    assert (tmp_path / "out" / "model" / "weights.bin").read_bytes() == big
    entry, chunks = client.open_file(name, version.version, "model/weights.bin")
    assert (entry.digest, entry.size) == (hashlib.sha256(big).hexdigest(), len(big))
    assert b"".join(chunks) == big
    with pytest.raises(NotFound):
        client.download(name, version.version, tmp_path / "none", path="missing")


def test_upload_accepts_iterables_and_checks_announced_digests(client: Client) -> None:
    data = os.urandom(300_000)
    digest = hashlib.sha256(data).hexdigest()
    blob = client.upload_blob(iter([data[:1000], data[1000:]]), digest)
    assert (blob.digest, blob.size) == (digest, len(data))
    assert client.upload_blob(io.BytesIO(data)).digest == digest
    with pytest.raises(IntegrityError):
        client.upload_blob(io.BytesIO(data), hashlib.sha256(b"other").hexdigest())


def test_corrupted_files_raise_integrity_errors(
    client: Client, registre_server: RunningServer, tmp_path: Path
) -> None:
    name = unique()
    small, large = os.urandom(10_000), os.urandom(64 * MiB + 10)
    local = _write(tmp_path / "src", {"small.bin": small, "large.bin": large})
    client.register_directory(name, local)
    for data in (small, large):
        _corrupt(registre_server.blob_path(hashlib.sha256(data).hexdigest()))
    with pytest.raises(IntegrityError):
        client.download(name, 1, tmp_path / "out", path="small.bin")
    with pytest.raises(IntegrityError, match="cut off"):
        client.download(name, 1, tmp_path / "out", path="large.bin")
    assert not (tmp_path / "out" / "large.bin").exists()


def test_errors_arrive_as_domain_exceptions(client: Client) -> None:
    name = unique()
    client.create_model(name)
    with pytest.raises(AlreadyExists):
        client.create_model(name)
    with pytest.raises(NotFound):
        client.get_version(name, 1)
    client.register_version(name)
    with pytest.raises(InvalidInput, match="Production"):
        client.transition_stage(name, 1, "Live")
    with pytest.raises(Conflict):
        client.rollback(name)
    with pytest.raises(InvalidInput):
        client.create_model("a/b")
    with pytest.raises(InvalidInput):  # a 422 from request validation
        client.create_model(unique(), tags={"k": 1})  # type: ignore[dict-item]
    with pytest.raises(InvalidInput, match="artifact path"):
        client.open_file(name, 1, "../etc/passwd")


def test_unreachable_server_is_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url) as client, pytest.raises(ServerUnavailable) as caught:
        client.get_model("anything")
    assert isinstance(caught.value, RegistreError)
    message = str(caught.value)
    assert url in message and "\n" not in message


def test_oversized_uploads_raise_payload_too_large(
    start_registre_server: Callable[..., RunningServer], tmp_path: Path
) -> None:
    server = start_registre_server(env={"REGISTRE_MAX_UPLOAD_BYTES": "1000"})
    big = _write(tmp_path, {"big.bin": b"x" * 5000}) / "big.bin"
    with Client(server.url) as client:
        with pytest.raises(PayloadTooLarge):
            client.register_files(unique(), {"big.bin": big})
        with pytest.raises(PayloadTooLarge):
            client.upload_blob(iter([b"x" * 600, b"y" * 600]))
        assert client.upload_blob(iter([b"x" * 1000])).size == 1000


def _register_many(url: str, name: str, count: int, start_at: float) -> list[int]:
    with Client(url) as client:
        time.sleep(max(0.0, start_at - time.time()))
        return [
            client.register_version(name, source=f"pid-{os.getpid()}").version for _ in range(count)
        ]


def test_concurrent_registrations_from_many_processes_get_1_to_n(
    client: Client, server_url: str
) -> None:
    name = unique("concurrent")  # not created beforehand: the first registrations race for it
    start_at = time.time() + 0.5  # every process fires at once
    with multiprocessing.get_context("fork").Pool(8) as pool:
        results = pool.starmap(_register_many, [(server_url, name, 10, start_at)] * 8)
    numbers = sorted(n for batch in results for n in batch)
    assert numbers == list(range(1, 81))
    assert [v.version for v in client.list_versions(name)] == list(range(1, 81))


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_concurrent_registrations_through_several_server_workers(
    start_registre_server: Callable[..., RunningServer], database: str
) -> None:
    server = start_registre_server(database=database, workers=2)
    name = unique("workers")
    start_at = time.time() + 0.5
    with multiprocessing.get_context("fork").Pool(8) as pool:
        results = pool.starmap(_register_many, [(server.url, name, 5, start_at)] * 8)
    assert sorted(n for batch in results for n in batch) == list(range(1, 41))
