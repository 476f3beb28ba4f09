"""Model versions over HTTP: registration, annotation, stages, aliases, resolution, history."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.support import assert_error, register, sha256, unique, upload


def test_register_version_with_files_and_metadata(api: httpx.Client) -> None:
    name = unique()
    files = {"model/MLmodel": b"flavors: {}\n", "model/weights.bin": b"\x00\x01" * 100}
    version = register(
        api,
        name,
        files,
        source="s3://bucket/run",
        run_id="run-1",
        metrics={"accuracy": 0.93, "loss": 1},
        params={"depth": 3, "criterion": "gini", "bootstrap": True},
        tags={"team": "vision"},
        description="first",
    )
    assert version["version"] == 1
    assert version["stage"] == "None"
    assert version["status"] == "READY"
    assert version["created_by"] == "anonymous"
    assert version["metrics"] == {"accuracy": 0.93, "loss": 1.0}
    assert version["params"] == {"depth": "3", "criterion": "gini", "bootstrap": "True"}
    assert version["files"] == [
        {"path": p, "digest": sha256(d), "size": len(d)} for p, d in sorted(files.items())
    ]
    assert api.get(f"/models/{name}/versions/1").json() == version
    listed = api.get(f"/models/{name}/versions/1/files").json()
    assert listed == {"files": version["files"]}
    assert register(api, name)["version"] == 2
    numbers = [v["version"] for v in api.get(f"/models/{name}/versions").json()["versions"]]
    assert numbers == [1, 2]
    model = api.get(f"/models/{name}").json()
    assert model["latest_version"] == 2


def test_register_without_create_model_needs_the_model(api: httpx.Client) -> None:
    name = unique()
    response = api.post(f"/models/{name}/versions", json={"create_model": False})
    assert_error(response, 404, "NOT_FOUND", name)
    api.post("/models", json={"name": name})
    assert api.post(f"/models/{name}/versions", json={"create_model": False}).status_code == 201


def test_unknown_or_invalid_version_numbers(api: httpx.Client) -> None:
    name = unique()
    register(api, name)
    assert_error(api.get(f"/models/{name}/versions/99"), 404, "NOT_FOUND", "99")
    for bad in ("abc", "0", "-1", "1.5"):
        assert_error(api.get(f"/models/{name}/versions/{bad}"), 400, "INVALID_INPUT", "version")
    for call in (
        api.patch(f"/models/{name}/versions/7", json={"description": "x"}),
        api.delete(f"/models/{name}/versions/7"),
        api.put(f"/models/{name}/versions/7/tags/k", json={"value": "v"}),
        api.post(f"/models/{name}/versions/7/metrics", json={"metrics": {"a": 1}}),
        api.post(f"/models/{name}/versions/7/stage", json={"stage": "Staging"}),
        api.put(f"/models/{name}/aliases/champion", json={"version": 7}),
        api.get(f"/models/{name}/resolve/7"),
    ):
        assert_error(call, 404, "NOT_FOUND")


def test_update_tag_metrics_and_delete_version(api: httpx.Client) -> None:
    name = unique()
    register(api, name, metrics={"accuracy": 0.5})
    patched = api.patch(f"/models/{name}/versions/1", json={"description": "better"})
    assert patched.json()["description"] == "better"
    assert api.put(f"/models/{name}/versions/1/tags/k", json={"value": "v"}).status_code == 204
    metrics = {"metrics": {"accuracy": 0.75, "f1": "0.5"}}
    assert api.post(f"/models/{name}/versions/1/metrics", json=metrics).status_code == 204
    version = api.get(f"/models/{name}/versions/1").json()
    assert version["tags"] == {"k": "v"}
    assert version["metrics"] == {"accuracy": 0.75, "f1": 0.5}
    assert api.delete(f"/models/{name}/versions/1/tags/k").status_code == 204
    assert_error(api.delete(f"/models/{name}/versions/1/tags/k"), 404, "NOT_FOUND")
    not_number = api.post(f"/models/{name}/versions/1/metrics", json={"metrics": {"a": "high"}})
    assert_error(not_number, 400, "INVALID_INPUT", "number")
    boolean = api.post(f"/models/{name}/versions/1/metrics", json={"metrics": {"a": True}})
    assert_error(boolean, 400, "INVALID_INPUT", "number")
    assert api.delete(f"/models/{name}/versions/1").status_code == 204
    assert_error(api.get(f"/models/{name}/versions/1"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "path",
    ["../escape", "a/../../escape", "/etc/passwd", "C:/windows", "a\\b", "nul\x00", "a/\x01b"],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "backslash", "nul", "control"],
)
def test_unsafe_artifact_paths_are_400(api: httpx.Client, path: str) -> None:
    blob = upload(api, b"payload for path checks")
    files = [{"path": path, "digest": blob["digest"], "size": blob["size"]}]
    response = api.post(f"/models/{unique()}/versions", json={"files": files})
    assert_error(response, 400, "INVALID_INPUT", "artifact path")


def test_files_must_be_uploaded_complete_and_listed_once(api: httpx.Client) -> None:
    name = unique()
    blob = upload(api, b"twelve bytes")
    missing = {"path": "m.bin", "digest": sha256(b"never uploaded " + name.encode()), "size": 1}
    assert_error(
        api.post(f"/models/{name}/versions", json={"files": [missing]}),
        400,
        "INVALID_INPUT",
        "has not been uploaded",
    )
    bad_digest = {"path": "m.bin", "digest": "abc", "size": 1}
    assert_error(
        api.post(f"/models/{name}/versions", json={"files": [bad_digest]}), 400, "INVALID_INPUT"
    )
    wrong_size = {"path": "m.bin", "digest": blob["digest"], "size": 13}
    assert_error(
        api.post(f"/models/{name}/versions", json={"files": [wrong_size]}),
        400,
        "INVALID_INPUT",
        "size",
    )
    twice = [{"path": "m.bin", "digest": blob["digest"], "size": 12}] * 2
    assert_error(
        api.post(f"/models/{name}/versions", json={"files": twice}), 400, "INVALID_INPUT", "twice"
    )
    # None of those left a version (or a model) behind.
    assert_error(api.get(f"/models/{name}"), 404, "NOT_FOUND")


def test_stage_transitions_with_archive_existing(api: httpx.Client) -> None:
    name = unique()
    for _ in range(3):
        register(api, name)
    moved = api.post(f"/models/{name}/versions/1/stage", json={"stage": "production"})
    assert moved.status_code == 200
    assert moved.json()["stage"] == "Production"
    api.post(f"/models/{name}/versions/2/stage", json={"stage": "Staging"})
    promoted = api.post(
        f"/models/{name}/versions/2/stage", json={"stage": "Production", "archive_existing": True}
    )
    assert promoted.json()["stage"] == "Production"
    stages = {
        v["version"]: v["stage"] for v in api.get(f"/models/{name}/versions").json()["versions"]
    }
    assert stages == {1: "Archived", 2: "Production", 3: "None"}


def test_unknown_stage_is_400_naming_the_valid_stages(api: httpx.Client) -> None:
    name = unique()
    register(api, name)
    response = api.post(f"/models/{name}/versions/1/stage", json={"stage": "Prod"})
    assert_error(response, 400, "INVALID_INPUT", "None", "Staging", "Production", "Archived")
    archived = api.post(
        f"/models/{name}/versions/1/stage", json={"stage": "Archived", "archive_existing": True}
    )
    assert_error(archived, 400, "INVALID_INPUT", "archive_existing")
    assert_error(
        api.post(f"/models/{name}/rollback", json={"stage": "Later"}), 400, "INVALID_INPUT"
    )


def test_rollback_restores_the_previous_production_version(api: httpx.Client) -> None:
    name = unique()
    register(api, name)
    register(api, name)
    assert_error(api.post(f"/models/{name}/rollback"), 409, "CONFLICT", "roll back")
    api.post(f"/models/{name}/versions/1/stage", json={"stage": "Production"})
    api.post(
        f"/models/{name}/versions/2/stage", json={"stage": "Production", "archive_existing": True}
    )
    rolled = api.post(f"/models/{name}/rollback")  # no body: Production
    assert rolled.status_code == 200
    assert rolled.json()["version"] == 1
    assert rolled.json()["stage"] == "Production"
    assert api.get(f"/models/{name}/versions/2").json()["stage"] == "Archived"
    staging = api.post(f"/models/{name}/rollback", json={"stage": "Staging"})
    assert_error(staging, 409, "CONFLICT")


def test_aliases_and_every_kind_of_reference_resolve(api: httpx.Client) -> None:
    name = unique()
    for _ in range(3):
        register(api, name)
    api.post(f"/models/{name}/versions/2/stage", json={"stage": "Production"})
    aliased = api.put(f"/models/{name}/aliases/champion", json={"version": 1})
    assert aliased.status_code == 200
    assert aliased.json()["aliases"] == ["champion"]
    assert api.get(f"/models/{name}").json()["aliases"] == {"champion": 1}

    def resolved(ref: str) -> int:
        response = api.get(f"/models/{name}/resolve/{ref}")
        assert response.status_code == 200, response.text
        number: int = response.json()["version"]
        return number

    assert resolved("@champion") == 1
    assert resolved("production") == 2
    assert resolved("latest") == 3
    assert resolved("3") == 3

    def by_uri(uri: str) -> int:
        response = api.get("/resolve", params={"uri": uri})
        assert response.status_code == 200, response.text
        number: int = response.json()["version"]
        return number

    assert by_uri(f"models:/{name}@champion") == 1
    assert by_uri(f"models:/{name}/Production") == 2
    assert by_uri(f"models:/{name}/latest") == 3
    assert by_uri(f"models:/{name}/1") == 1

    # Moving an alias, then removing it.
    assert api.put(f"/models/{name}/aliases/champion", json={"version": "3"}).status_code == 200
    assert resolved("@champion") == 3
    assert api.delete(f"/models/{name}/aliases/champion").status_code == 204
    assert_error(api.get(f"/models/{name}/resolve/@champion"), 404, "NOT_FOUND", "champion")
    assert_error(api.delete(f"/models/{name}/aliases/champion"), 404, "NOT_FOUND")
    assert_error(api.get(f"/models/{name}/resolve/Staging"), 404, "NOT_FOUND", "Staging")

    for bad_alias in ("latest", "v2", "9lives"):
        response = api.put(f"/models/{name}/aliases/{bad_alias}", json={"version": 1})
        assert_error(response, 400, "INVALID_INPUT", bad_alias)
    assert_error(api.get(f"/models/{name}/resolve/soon"), 400, "INVALID_INPUT", "reference")
    assert_error(api.get("/resolve", params={"uri": "runs:/abc/model"}), 400, "INVALID_INPUT")


def test_history_records_actor_time_and_changes(api: httpx.Client) -> None:
    name = unique()
    register(api, name)
    register(api, name)
    alice = {"X-Registre-User": "alice"}
    api.post(f"/models/{name}/versions/1/stage", json={"stage": "Production"}, headers=alice)
    api.post(
        f"/models/{name}/versions/2/stage",
        json={"stage": "Production", "archive_existing": True},
        headers={"X-Registre-User": "bob"},
    )
    events = api.get(f"/models/{name}/history").json()["events"]
    assert [e["action"] for e in events] == [
        "create_model",
        "register_version",
        "register_version",
        "transition_stage",
        "transition_stage",
        "transition_stage",
    ]
    assert events[0]["actor"] == "anonymous"
    promoted = events[3]
    assert promoted["actor"] == "alice"
    assert (promoted["version"], promoted["before"], promoted["after"]) == (
        1,
        {"stage": "None"},
        {"stage": "Production"},
    )
    archived, second = events[4], events[5]
    assert archived["actor"] == second["actor"] == "bob"
    assert archived["after"]["stage"] == "Archived"
    assert second["after"] == {"stage": "Production"}
    assert all(e["at"] > 0 and e["model"] == name for e in events)

    only_v1 = api.get(f"/models/{name}/history", params={"version": 1}).json()["events"]
    assert {e["version"] for e in only_v1} == {1}
    first = api.get(f"/models/{name}/history", params={"max_results": 4}).json()
    assert len(first["events"]) == 4
    rest = api.get(
        f"/models/{name}/history", params={"page_token": first["next_page_token"]}
    ).json()
    assert [e["id"] for e in first["events"] + rest["events"]] == [e["id"] for e in events]


def test_search_versions_across_models(api: httpx.Client) -> None:
    suite = unique("suite")
    expected = []
    for index, accuracy in enumerate((0.95, 0.85, 0.97, 0.99)):
        name = f"{suite}-{index}"
        register(api, name, metrics={"accuracy": accuracy}, tags={"suite": suite})
        if accuracy != 0.99:
            api.post(f"/models/{name}/versions/1/stage", json={"stage": "Production"})
        if accuracy > 0.9 and accuracy != 0.99:
            expected.append(name)
    query = f"tags.suite = '{suite}' and metrics.accuracy > 0.9 and stage = 'Production'"
    names: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"filter": query, "order_by": "name", "max_results": 1}
        if token:
            params["page_token"] = token
        page = api.get("/versions", params=params).json()
        names += [v["name"] for v in page["versions"]]
        token = page["next_page_token"]
        if not token:
            break
    assert names == sorted(expected)
