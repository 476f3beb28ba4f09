"""Registered models over HTTP: CRUD, tags, rename, search, and every error."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api.support import assert_error, register, unique


def test_create_get_update_delete_model(api: httpx.Client) -> None:
    name = unique()
    created = api.post("/models", json={"name": name, "description": "d", "tags": {"team": "a"}})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == name
    assert body["description"] == "d"
    assert body["tags"] == {"team": "a"}
    assert body["latest_version"] is None
    assert body["created_at"] > 0

    assert api.get(f"/models/{name}").json() == body
    updated = api.patch(f"/models/{name}", json={"description": "new"})
    assert updated.status_code == 200
    assert updated.json()["description"] == "new"

    assert api.delete(f"/models/{name}").status_code == 204
    assert_error(api.get(f"/models/{name}"), 404, "NOT_FOUND", name)


def test_duplicate_model_name_is_409(api: httpx.Client) -> None:
    name = unique()
    assert api.post("/models", json={"name": name}).status_code == 201
    assert_error(api.post("/models", json={"name": name}), 409, "ALREADY_EXISTS", name)


@pytest.mark.parametrize(
    "bad_name",
    ["", "   ", "x" * 257, "a/b", "a\\b", "nul\x00byte", "tab\there", "del\x7f", " padded"],
    ids=["empty", "blank", "too-long", "slash", "backslash", "nul", "tab", "del", "padded"],
)
def test_invalid_model_names_are_400(api: httpx.Client, bad_name: str) -> None:
    assert_error(api.post("/models", json={"name": bad_name}), 400, "INVALID_INPUT", "model name")


@pytest.mark.parametrize("bad_segment", ["x" * 257, "a%00b", "a%0Ab"])
def test_invalid_names_in_the_url_are_400(api: httpx.Client, bad_segment: str) -> None:
    assert_error(api.get(f"/models/{bad_segment}"), 400, "INVALID_INPUT", "model name")


def test_unknown_model_is_404_on_every_route(api: httpx.Client) -> None:
    name = unique("missing")
    calls = [
        api.get(f"/models/{name}"),
        api.patch(f"/models/{name}", json={"description": "x"}),
        api.delete(f"/models/{name}"),
        api.post(f"/models/{name}/rename", json={"new_name": unique()}),
        api.put(f"/models/{name}/tags/k", json={"value": "v"}),
        api.delete(f"/models/{name}/tags/k"),
        api.get(f"/models/{name}/versions"),
        api.get(f"/models/{name}/versions/1"),
        api.get(f"/models/{name}/versions/1/files"),
        api.get(f"/models/{name}/versions/1/files/model.pkl"),
        api.post(f"/models/{name}/versions", json={"create_model": False}),
        api.post(f"/models/{name}/rollback"),
        api.put(f"/models/{name}/aliases/champion", json={"version": 1}),
        api.delete(f"/models/{name}/aliases/champion"),
        api.get(f"/models/{name}/resolve/latest"),
        api.get("/resolve", params={"uri": f"models:/{name}/Production"}),
        api.get(f"/models/{name}/history"),
    ]
    for response in calls:
        assert_error(response, 404, "NOT_FOUND")


def test_rename_model_moves_versions_and_history(api: httpx.Client) -> None:
    old, new = unique(), unique()
    register(api, old)
    renamed = api.post(f"/models/{old}/rename", json={"new_name": new})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == new
    assert_error(api.get(f"/models/{old}"), 404, "NOT_FOUND")
    assert api.get(f"/models/{new}/versions/1").json()["name"] == new
    actions = [e["action"] for e in api.get(f"/models/{new}/history").json()["events"]]
    assert actions == ["create_model", "register_version", "rename_model"]


def test_rename_onto_an_existing_model_is_409(api: httpx.Client) -> None:
    first, second = unique(), unique()
    for name in (first, second):
        api.post("/models", json={"name": name})
    response = api.post(f"/models/{first}/rename", json={"new_name": second})
    assert_error(response, 409, "ALREADY_EXISTS", second)
    bad = api.post(f"/models/{first}/rename", json={"new_name": "a/b"})
    assert_error(bad, 400, "INVALID_INPUT")


def test_model_tags_can_be_set_replaced_and_deleted(api: httpx.Client) -> None:
    name = unique()
    api.post("/models", json={"name": name})
    assert api.put(f"/models/{name}/tags/owner", json={"value": "alice"}).status_code == 204
    assert api.put(f"/models/{name}/tags/owner", json={"value": "bob"}).status_code == 204
    # Keys may contain '/', the route takes the rest of the path.
    assert api.put(f"/models/{name}/tags/mlflow/source", json={"value": "x"}).status_code == 204
    assert api.get(f"/models/{name}").json()["tags"] == {"owner": "bob", "mlflow/source": "x"}
    assert api.delete(f"/models/{name}/tags/owner").status_code == 204
    assert_error(api.delete(f"/models/{name}/tags/owner"), 404, "NOT_FOUND", "owner")
    assert api.get(f"/models/{name}").json()["tags"] == {"mlflow/source": "x"}
    assert_error(
        api.put(f"/models/{name}/tags/k", json={"value": "x" * 5001}), 400, "INVALID_INPUT"
    )


def test_names_with_spaces_and_unicode_round_trip(api: httpx.Client) -> None:
    name = f"Modèle {unique()} %20 ünïcode"
    assert api.post("/models", json={"name": name}).status_code == 201
    fetched = api.get(f"/models/{quote(name, safe='')}")
    assert fetched.status_code == 200
    assert fetched.json()["name"] == name


def test_search_models_filters_orders_and_pages(api: httpx.Client) -> None:
    prefix = unique("search")
    for suffix in "abcde":
        api.post("/models", json={"name": f"{prefix}-{suffix}"})
    params: dict[str, Any] = {
        "filter": f"name LIKE '{prefix}-%'",
        "order_by": ["name DESC"],
        "max_results": 2,
    }
    seen: list[str] = []
    token = None
    for _ in range(5):
        response = api.get("/models", params={**params, **({"page_token": token} if token else {})})
        assert response.status_code == 200
        page = response.json()
        seen += [m["name"] for m in page["models"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [f"{prefix}-{s}" for s in "edcba"]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"filter": "name =="}, 400, "INVALID_INPUT"),
        ({"filter": "nonsense.field = 1"}, 400, "INVALID_INPUT"),
        ({"order_by": "sideways"}, 400, "INVALID_INPUT"),
        ({"page_token": "not-a-token"}, 400, "INVALID_INPUT"),
        ({"max_results": 0}, 400, "INVALID_INPUT"),
        ({"max_results": "many"}, 422, "INVALID_REQUEST"),
    ],
)
def test_bad_search_parameters_are_rejected(
    api: httpx.Client, params: dict[str, Any], status: int, code: str
) -> None:
    assert_error(api.get("/models", params=params), status, code)
    assert_error(api.get("/versions", params=params), status, code)
