"""The registry's rules, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from registre.domain.entities import FileEntry, Stage
from registre.domain.errors import AlreadyExists, Conflict, IntegrityError, InvalidInput, NotFound
from registre.service.context import acting_as
from registre.service.registry import Registry

Upload = Callable[..., FileEntry]


def test_register_allocates_consecutive_versions_and_creates_the_model(
    registry: Registry, upload: Upload
) -> None:
    f = upload("model/model.skops", b"weights")
    v1 = registry.register_version("Iris", [f], metrics={"accuracy": 0.9}, params={"C": 1.0})
    v2 = registry.register_version("Iris", [f], metrics={"accuracy": 0.95})
    assert (v1.version, v2.version) == (1, 2)
    assert v1.params == {"C": "1.0"}
    assert v2.metrics == {"accuracy": 0.95}
    assert v1.files == [FileEntry("model/model.skops", f.digest, 7)]
    assert registry.get_model("Iris").latest_version == 2
    assert [v.version for v in registry.list_versions("Iris")] == [1, 2]


def test_deleted_versions_are_never_reused(registry: Registry, upload: Upload) -> None:
    f = upload("a.txt", b"a")
    registry.register_version("M", [f])
    registry.register_version("M", [f])
    registry.delete_version("M", 2)
    assert registry.register_version("M", [f]).version == 3


def test_register_refuses_files_whose_blob_is_missing_and_writes_nothing(
    registry: Registry,
) -> None:
    ghost = FileEntry("model.bin", "0" * 64, 10)
    with pytest.raises(InvalidInput, match="has not been uploaded"):
        registry.register_version("Ghost", [ghost])
    with pytest.raises(NotFound):
        registry.get_model("Ghost")


@pytest.mark.parametrize(
    "path", ["../escape", "/etc/passwd", "a\\b", "a/../../b", "nul\x00byte", "C:/win", ""]
)
def test_unsafe_artifact_paths_are_rejected(registry: Registry, upload: Upload, path: str) -> None:
    good = upload("ok.txt", b"ok")
    with pytest.raises(InvalidInput):
        registry.register_version("Paths", [FileEntry(path, good.digest, good.size)])
    with pytest.raises(NotFound):
        registry.get_model("Paths")


@pytest.mark.parametrize("name", ["", " ", "a/b", "x" * 257, "tab\tname", "new\nline"])
def test_invalid_model_names_are_rejected(registry: Registry, name: str) -> None:
    with pytest.raises(InvalidInput):
        registry.create_model(name)


def test_duplicate_model_is_already_exists(registry: Registry) -> None:
    registry.create_model("Dup", description="first")
    with pytest.raises(AlreadyExists):
        registry.create_model("Dup")
    assert registry.get_model("Dup").description == "first"


def test_transition_with_archive_existing_is_one_step(registry: Registry, upload: Upload) -> None:
    f = upload("m", b"m")
    for _ in range(3):
        registry.register_version("T", [f])
    registry.transition_stage("T", 1, "staging")
    registry.transition_stage("T", 1, "PRODUCTION")
    registry.transition_stage("T", 3, "production")  # two in Production without archiving
    moved = registry.transition_stage("T", 2, "Production", archive_existing=True)
    assert moved.stage is Stage.PRODUCTION
    stages = {v.version: v.stage for v in registry.list_versions("T")}
    assert stages == {1: Stage.ARCHIVED, 2: Stage.PRODUCTION, 3: Stage.ARCHIVED}


def test_unknown_stage_names_the_valid_ones(registry: Registry, upload: Upload) -> None:
    registry.register_version("S", [upload("m", b"m")])
    with pytest.raises(InvalidInput, match="None, Staging, Production, Archived"):
        registry.transition_stage("S", 1, "Prod")
    with pytest.raises(InvalidInput, match="archive_existing"):
        registry.transition_stage("S", 1, "Archived", archive_existing=True)


def test_unknown_model_and_version_are_not_found(registry: Registry, upload: Upload) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        registry.get_version("Nope", 1)
    registry.register_version("Known", [upload("m", b"m")])
    with pytest.raises(NotFound, match="no version 7"):
        registry.get_version("Known", 7)
    with pytest.raises(InvalidInput):
        registry.get_version("Known", "abc")


def test_aliases_move_and_resolve(registry: Registry, upload: Upload) -> None:
    f = upload("m", b"m")
    registry.register_version("A", [f])
    registry.register_version("A", [f])
    registry.set_alias("A", "champion", 1)
    registry.set_alias("A", "champion", 2)
    assert registry.resolve_uri("models:/A@champion").version == 2
    assert registry.get_model("A").aliases == {"champion": 2}
    assert registry.get_version("A", 2).aliases == ["champion"]
    registry.delete_alias("A", "champion")
    with pytest.raises(NotFound, match="no alias"):
        registry.resolve("A", "@champion")
    with pytest.raises(InvalidInput):
        registry.set_alias("A", "latest", 1)


def test_resolve_by_number_stage_and_latest(registry: Registry, upload: Upload) -> None:
    f = upload("m", b"m")
    for _ in range(3):
        registry.register_version("R", [f])
    registry.transition_stage("R", 2, "Production")
    assert registry.resolve_uri("models:/R/Production").version == 2
    assert registry.resolve_uri("models:/R/production").version == 2
    assert registry.resolve_uri("models:/R/latest").version == 3
    assert registry.resolve_uri("models:/R/1").version == 1
    with pytest.raises(NotFound, match="no version in stage Staging"):
        registry.resolve_uri("models:/R/Staging")
    with pytest.raises(InvalidInput):
        registry.resolve_uri("models:/R/Prod")


def test_rollback_restores_the_previous_production_version_and_history_tells_all(
    registry: Registry, upload: Upload
) -> None:
    f = upload("m", b"m")
    registry.register_version("H", [f])
    registry.register_version("H", [f])
    with acting_as("alice"):
        registry.transition_stage("H", 1, "Production")
    with acting_as("bob"):
        registry.transition_stage("H", 2, "Production", archive_existing=True)
        registry.set_alias("H", "champion", 2)
    with acting_as("carol"):
        restored = registry.rollback("H")
    assert restored.version == 1 and restored.stage is Stage.PRODUCTION
    assert registry.get_version("H", 2).stage is Stage.ARCHIVED

    events = registry.history("H").items
    moves = [(e.actor, e.action, e.version, e.before, e.after) for e in events[3:]]
    assert moves == [
        ("alice", "transition_stage", 1, {"stage": "None"}, {"stage": "Production"}),
        (
            "bob",
            "transition_stage",
            1,
            {"stage": "Production"},
            {"stage": "Archived", "archived_by": 2},
        ),
        ("bob", "transition_stage", 2, {"stage": "None"}, {"stage": "Production"}),
        ("bob", "set_alias", 2, None, {"alias": "champion", "version": 2}),
        (
            "carol",
            "transition_stage",
            2,
            {"stage": "Production"},
            {"stage": "Archived", "archived_by": 1},
        ),
        ("carol", "rollback", 1, {"stage": "Archived"}, {"stage": "Production"}),
    ]
    assert all(e.at > 0 for e in events)


def test_rollback_without_an_earlier_version_is_a_conflict(
    registry: Registry, upload: Upload
) -> None:
    registry.register_version("Solo", [upload("m", b"m")])
    registry.transition_stage("Solo", 1, "Production")
    with pytest.raises(Conflict):
        registry.rollback("Solo")


def test_search_versions_by_metric_stage_tag_alias_with_order_and_pages(
    registry: Registry, upload: Upload
) -> None:
    f = upload("m", b"m")
    for acc in (0.85, 0.93, 0.97, 0.91):
        registry.register_version("Search", [f], metrics={"accuracy": acc})
    registry.register_version("Other", [f], metrics={"accuracy": 0.99})
    registry.transition_stage("Search", 2, "Production")
    registry.transition_stage("Search", 3, "Production")
    registry.set_version_tag("Search", 3, "team", "vision")
    registry.set_alias("Search", "champion", 3)

    def versions(flt: str, **kw: object) -> list[tuple[str, int]]:
        return [(v.name, v.version) for v in registry.search_versions(flt, **kw).items]  # type: ignore[arg-type]

    assert versions("metrics.accuracy > 0.9 and stage = 'production'", order_by="version") == [
        ("Search", 2),
        ("Search", 3),
    ]
    assert versions("name = 'Search'", order_by=["metrics.accuracy DESC"]) == [
        ("Search", 3),
        ("Search", 2),
        ("Search", 4),
        ("Search", 1),
    ]
    assert versions("tags.team = 'vision'") == [("Search", 3)]
    assert versions("alias = 'champion'") == [("Search", 3)]
    assert versions("name LIKE 'Sea%' and version_number >= 4") == [("Search", 4)]
    assert versions("name IN ('Other') or metrics.accuracy < 0.86") == [
        ("Other", 1),
        ("Search", 1),
    ]

    first = registry.search_versions("name = 'Search'", order_by="version", max_results=3)
    assert [v.version for v in first.items] == [1, 2, 3] and first.next_page_token
    rest = registry.search_versions(
        "name = 'Search'", order_by="version", max_results=3, page_token=first.next_page_token
    )
    assert [v.version for v in rest.items] == [4] and rest.next_page_token is None

    for bad in ("metrics.accuracy > 'high'", "bogus = 1", "name = ", "stage = 'Prod'"):
        with pytest.raises(InvalidInput):
            registry.search_versions(bad)
    with pytest.raises(InvalidInput):
        registry.search_versions(page_token="not-a-token")

    # The same filter again (a statement reused from the cache) with other values, pages and
    # an equal-but-different number: each search gets its own answer.
    assert versions("version_number >= 4") == [("Search", 4)]
    assert versions("version_number >= 4.0") == [("Search", 4)]
    assert versions("version_number >= 1", order_by="version", max_results=2) == [
        ("Other", 1),
        ("Search", 1),
    ]
    assert versions("metrics.accuracy > 0.95", order_by="version") == [
        ("Other", 1),
        ("Search", 3),
    ]
    assert versions("metrics.accuracy > 0.98", order_by="version") == [("Other", 1)]


def test_search_models_by_name_and_tag(registry: Registry) -> None:
    registry.create_model("alpha", tags={"team": "a"})
    registry.create_model("beta", tags={"team": "b"})
    registry.create_model("alphabet")
    names = [m.name for m in registry.search_models("name LIKE 'alpha%'").items]
    assert names == ["alpha", "alphabet"]
    assert [m.name for m in registry.search_models("tags.team = 'b'").items] == ["beta"]
    # A model without the tag matches "!=" (how MLflow filters out prompts).
    assert [m.name for m in registry.search_models("tags.team != 'b'").items] == [
        "alpha",
        "alphabet",
    ]


def test_annotations_rename_and_delete(registry: Registry, upload: Upload) -> None:
    registry.create_model("Old", description="d1", tags={"k": "v"})
    registry.register_version("Old", [upload("m", b"m")])
    registry.update_model("Old", "d2")
    registry.set_model_tag("Old", "k", "v2")
    registry.update_version("Old", 1, "first version")
    registry.set_version_tag("Old", 1, "validated", "yes")
    renamed = registry.rename_model("Old", "New")
    assert renamed.description == "d2" and renamed.tags == {"k": "v2"}
    v = registry.get_version("New", 1)
    assert v.description == "first version" and v.tags == {"validated": "yes"}
    assert any(e.action == "create_model" for e in registry.history("New").items)
    registry.delete_version_tag("New", 1, "validated")
    registry.delete_model_tag("New", "k")
    with pytest.raises(NotFound):
        registry.delete_model_tag("New", "k")
    registry.delete_model("New")
    with pytest.raises(NotFound):
        registry.get_model("New")


def test_files_stream_verified_and_corruption_is_detected(
    registry: Registry, upload: Upload
) -> None:
    f = upload("model/weights.bin", b"x" * 5000)
    registry.register_version("Blob", [f])
    entry, stream = registry.open_file("Blob", 1, "model/weights.bin")
    assert b"".join(stream) == b"x" * 5000 and entry.digest == f.digest
    with pytest.raises(NotFound):
        registry.open_file("Blob", 1, "model/other.bin")

    blob_path = registry.blobs.root / "sha256" / f.digest[:2] / f.digest  # type: ignore[attr-defined]
    blob_path.chmod(0o644)
    blob_path.write_bytes(b"y" * 5000)
    _, stream = registry.open_file("Blob", 1, "model/weights.bin")
    with pytest.raises(IntegrityError):
        b"".join(stream)


def test_read_documents_always_match_the_rows_they_mirror(
    registry: Registry, upload: Upload
) -> None:
    f, g = upload("a", b"a"), upload("b", b"b")
    registry.create_model("Doc", tags={"k": "v"})
    for _ in range(3):
        registry.register_version("Doc", [f, g], metrics={"m": 1.0}, tags={"t": "1"})
    registry.set_alias("Doc", "champion", 1)
    registry.set_alias("Doc", "champion", 2)
    registry.set_alias("Doc", "challenger", 3)
    registry.set_version_tag("Doc", 2, "t", "2")
    registry.delete_version_tag("Doc", 1, "t")
    registry.log_metrics("Doc", 3, {"m": 2.0, "n": 3.0})
    registry.set_model_tag("Doc", "k2", "v2")
    registry.delete_model_tag("Doc", "k")
    registry.delete_alias("Doc", "challenger")
    registry.delete_version("Doc", 2)  # takes @champion with it

    before = {v.version: v.to_dict() for v in registry.list_versions("Doc")}
    model_before = registry.get_model("Doc").to_dict()
    with registry.store.write() as tx:
        model_id = tx.model_row("Doc").id
        for number in before:
            tx.refresh_version_doc(tx.version_row(model_id, number).id)
        tx.refresh_model_doc(model_id)
    assert {v.version: v.to_dict() for v in registry.list_versions("Doc")} == before
    assert registry.get_model("Doc").to_dict() == model_before
    assert model_before["aliases"] == {} and model_before["tags"] == {"k2": "v2"}
    assert before[3]["metrics"] == {"m": 2.0, "n": 3.0} and before[1]["tags"] == {}


def test_an_explicit_number_keeps_an_imported_numbering_and_is_never_reused(
    registry: Registry, upload: Upload
) -> None:
    f = upload("m", b"m")
    assert registry.register_version("Imp", [f], number=1).version == 1
    assert registry.register_version("Imp", [f], number=3).version == 3  # 2 was deleted upstream
    assert registry.register_version("Imp", [f]).version == 4
    for taken in (2, 3, 4):
        with pytest.raises(Conflict, match="already allocated"):
            registry.register_version("Imp", [f], number=taken)
    with pytest.raises(InvalidInput):
        registry.register_version("Imp", [f], number=0)
    assert [v.version for v in registry.list_versions("Imp")] == [1, 3, 4]


def test_other_systems_record_observations_in_the_history_only(
    registry: Registry, upload: Upload
) -> None:
    registry.register_version("Obs", [upload("m", b"m")])
    with acting_as("scoring-server"):
        event = registry.record_event("Obs", "1", "serving_check_failed", {"reason": "boom"})
    assert (event.actor, event.action, event.version, event.after) == (
        "scoring-server", "serving_check_failed", 1, {"reason": "boom"},
    )  # fmt: skip
    assert registry.history("Obs", 1).items[-1] == event
    assert registry.get_version("Obs", 1).stage is Stage.NONE
    with pytest.raises(InvalidInput, match="expected one of"):
        registry.record_event("Obs", 1, "transition_stage", {})
    with pytest.raises(NotFound):
        registry.record_event("Obs", 9, "note", {})


# ---- group commit of registrations -------------------------------------------------------
def test_concurrent_registrations_in_one_process_keep_their_own_content(
    registry: Registry, upload: Callable[..., FileEntry]
) -> None:
    """Threads registering at once share transactions; every version still gets its own
    number, files, metrics, params, tags and history event."""
    registry.create_model("A")
    registry.create_model("B")
    files = {i: upload("model.bin", f"model {i}".encode()) for i in range(40)}
    barrier = threading.Barrier(8)

    def work(worker: int) -> list[tuple[str, int, int]]:
        barrier.wait()
        done = []
        for i in range(worker, 40, 8):
            name = "A" if i % 2 else "B"
            v = registry.register_version(
                name, [files[i]], metrics={"i": i}, params={"i": str(i)}, tags={"i": str(i)}
            )
            done.append((name, v.version, i))
        return done

    with ThreadPoolExecutor(8) as pool:
        results = [r for chunk in pool.map(work, range(8)) for r in chunk]
    for name in ("A", "B"):
        assert sorted(n for m, n, _ in results if m == name) == list(range(1, 21))
    for name, number, i in results:
        stored = registry.get_version(name, number)
        assert stored.metrics == {"i": i} and stored.params == {"i": str(i)}
        assert stored.tags == {"i": str(i)} and stored.files == [files[i]]
    for name in ("A", "B"):
        registered = [e.version for e in registry.history(name).items
                      if e.action == "register_version"]  # fmt: skip
        assert sorted(registered) == list(range(1, 21))


def test_a_batch_gives_each_registration_its_own_outcome(
    registry: Registry, upload: Callable[..., FileEntry]
) -> None:
    """Drafts written together: a missing model or a taken number fails alone."""
    registry.create_model("Here")
    f = upload("m.bin", b"x")
    drafts = [
        registry.draft_version("Here", [f]),
        registry.draft_version("Missing", [f], create_model=False),
        registry.draft_version("Here", [f], metrics={"m": 1.0}),
        registry.draft_version("New", [f]),  # created on the way
        registry.draft_version("Here", [f], number=1),  # taken by the first one
    ]
    outcomes = registry._register_batch(drafts)
    assert outcomes[0] == 1 and outcomes[2] == 2 and outcomes[3] == 1
    assert isinstance(outcomes[1], NotFound)
    assert isinstance(outcomes[4], Conflict)
    assert registry.get_version("Here", 2).metrics == {"m": 1.0}
    assert [v.version for v in registry.list_versions("Here")] == [1, 2]
