"""Requests a fuzzer found answered with a 500: each is the caller's mistake and gets a 4xx with
the door's error shape, on a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

API = "/api/2.0/mlflow"
NOT_TEXT = '"\\ud800"'  # valid JSON, but a lone UTF-16 surrogate is no text


@pytest.fixture
def http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30) as client:
        yield client


@pytest.fixture
def run_id(http: httpx.Client) -> str:
    run = http.post(f"{API}/runs/create", json={"experiment_id": "0"})
    return str(run.json()["run"]["info"]["run_id"])


def _mlflow_error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error_code"])


def _raw(http: httpx.Client, method: str, path: str, body: str) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    return http.request(method, path, content=body.encode(), headers=headers)


@pytest.mark.parametrize(
    "path", ["registered-models/search", "model-versions/search", "experiments/search"]
)
def test_a_page_token_past_any_offset_is_invalid(http: httpx.Client, path: str) -> None:
    token = base64.urlsafe_b64encode(b'{"offset": 99999999999999999999}').decode()
    response = http.get(f"{API}/{path}", params={"page_token": token})
    assert _mlflow_error(response) == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("runs/update", '"end_time": 1e30'),
        ("runs/log-metric", '"key": "m", "value": 1, "timestamp": 9223372036854775808'),
        ("runs/log-metric", '"key": "m", "value": 1, "timestamp": 1, "step": -1e30'),
        ("runs/log-metric", f'"key": "m", "value": 1{"0" * 400}, "timestamp": 1'),
    ],
    ids=["end-time-1e30", "timestamp-2**63", "step-1e30", "value-past-float"],
)
def test_numbers_out_of_range_are_invalid(
    http: httpx.Client, run_id: str, path: str, fields: str
) -> None:
    body = f'{{"run_id": "{run_id}", {fields}}}'
    assert _mlflow_error(_raw(http, "POST", f"{API}/{path}", body)) == "INVALID_PARAMETER_VALUE"


def test_a_start_time_past_64_bits_is_invalid(http: httpx.Client) -> None:
    body = '{"experiment_id": "0", "start_time": 9223372036854775808}'
    assert (
        _mlflow_error(_raw(http, "POST", f"{API}/runs/create", body)) == "INVALID_PARAMETER_VALUE"
    )


@pytest.mark.parametrize("version", ["²", "٣", "-²"])
def test_versions_are_ascii_digits(http: httpx.Client, version: str) -> None:
    response = http.get(f"{API}/model-versions/get", params={"name": "m", "version": version})
    assert _mlflow_error(response) == "INVALID_PARAMETER_VALUE"
    native = http.get(f"/api/v1/models/m/versions/{version}")
    assert native.status_code == 400 and native.json()["error"]["code"] == "INVALID_INPUT"


def test_text_with_a_lone_surrogate_is_invalid_in_both_doors(
    http: httpx.Client, run_id: str
) -> None:
    name = f"surrogate-{uuid.uuid4().hex[:8]}"
    cases = [
        ("POST", f"{API}/registered-models/create", f'{{"name": {NOT_TEXT}}}'),
        ("POST", f"{API}/runs/set-tag", f'{{"run_id": "{run_id}", "key": "k", "value": {NOT_TEXT}}}'),  # noqa: E501
        ("POST", f"{API}/experiments/search", f'{{"filter": "name = {NOT_TEXT[1:-1]}"}}'),
        ("PATCH", f"{API}/model-versions/update", f'{{"name": "{name}", "version": {NOT_TEXT}}}'),
    ]  # fmt: skip
    for method, path, body in cases:
        assert _mlflow_error(_raw(http, method, path, body)) == "INVALID_PARAMETER_VALUE", path
    http.post(f"{API}/registered-models/create", json={"name": name}).raise_for_status()
    tagged = f'"tags": [{{"key": {NOT_TEXT}, "value": "v"}}]'  # (goes into a JSON document)
    body = f'{{"name": "{name}", "source": "runs:/{run_id}/", {tagged}}}'
    response = _raw(http, "POST", f"{API}/model-versions/create", body)
    assert _mlflow_error(response) == "INVALID_PARAMETER_VALUE"
    native = _raw(http, "POST", "/api/v1/models", f'{{"name": {NOT_TEXT}}}')
    assert native.status_code == 400 and native.json()["error"]["code"] == "INVALID_INPUT"
    versions = http.get(f"{API}/model-versions/search", params={"filter": f"name='{name}'"})
    assert versions.json().get("model_versions", []) == []  # nothing half-written


def test_deeply_nested_json_is_not_valid_json(http: httpx.Client, run_id: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert _mlflow_error(_raw(http, "POST", f"{API}/experiments/create", deep)) == "BAD_REQUEST"
    body = {"run_id": run_id, "model_json": "[" * 5_000 + "]" * 5_000}
    response = http.post(f"{API}/runs/log-model", json=body)
    assert _mlflow_error(response) == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("tag", ["garbage", "5", '{"a": 1}'])
def test_log_model_refuses_a_history_tag_that_is_not_a_list(
    http: httpx.Client, run_id: str, tag: str
) -> None:
    history = {"run_id": run_id, "key": "mlflow.log-model.history", "value": tag}
    http.post(f"{API}/runs/set-tag", json=history).raise_for_status()
    response = http.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": "{}"})
    assert _mlflow_error(response) == "INVALID_PARAMETER_VALUE"
    assert "mlflow.log-model.history" in response.json()["message"]
    run = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert {"key": "mlflow.log-model.history", "value": tag} in run["data"]["tags"]


def test_a_basic_auth_header_that_is_not_ascii_is_ignored(http: httpx.Client, run_id: str) -> None:
    response = http.get(
        f"{API}/runs/get", params={"run_id": run_id}, headers={"Authorization": b"Basic \xe9"}
    )
    assert response.status_code == 200
    assert response.json()["run"]["info"]["run_id"] == run_id
    json.dumps(response.json())  # a whole, valid answer


def _native_error(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    return str(response.json()["error"]["code"])


@pytest.mark.parametrize(
    "details",
    ['{"k": "\\ud800"}', '{"\\ud800": 1}', '{"x": 1000000000000000000000000000000}',
     '{"x": -9223372036854775809}', '{"x": NaN}', '{"x": 1e400}',
     '{"x": ' + "[" * 300 + "]" * 300 + "}"],
    ids=["surrogate", "surrogate-key", "int-past-64-bits", "int-below-64-bits", "nan",
         "inf", "300-deep"],
)  # fmt: skip
def test_event_details_must_read_back_as_written(http: httpx.Client, details: str) -> None:
    name = f"events-{uuid.uuid4().hex[:8]}"
    http.post("/api/v1/models", json={"name": name}).raise_for_status()
    body = f'{{"action": "note", "details": {details}}}'
    response = _raw(http, "POST", f"/api/v1/models/{name}/events", body)
    assert _native_error(response) == "INVALID_INPUT"
    history = http.get(f"/api/v1/models/{name}/history")
    assert history.status_code == 200
    assert [e["action"] for e in history.json()["events"]] == ["create_model"]


@pytest.mark.parametrize(
    "filter_",
    ["(" * 400 + "name = 'a'" + ")" * 400, " or ".join(["name = 'a'"] * 1000)],
    ids=["400-deep", "1000-terms"],
)
def test_filters_past_the_limits_are_invalid_in_both_doors(
    http: httpx.Client, filter_: str
) -> None:
    for path in ("/api/v1/models", "/api/v1/versions"):
        assert _native_error(http.get(path, params={"filter": filter_})) == "INVALID_INPUT"
    for path in ("registered-models/search", "model-versions/search"):
        response = http.get(f"{API}/{path}", params={"filter": filter_})
        assert _mlflow_error(response) == "INVALID_PARAMETER_VALUE"
    runs = {"experiment_ids": ["0"], "filter": " and ".join(["params.a = 'a'"] * 1000)}
    assert _mlflow_error(http.post(f"{API}/runs/search", json=runs)) == "INVALID_PARAMETER_VALUE"


def test_a_page_token_of_deeply_nested_json_is_invalid(http: httpx.Client) -> None:
    token = base64.urlsafe_b64encode(b"[" * 1000).decode()
    assert (
        _native_error(http.get("/api/v1/models", params={"page_token": token})) == "INVALID_INPUT"
    )
    search = {"experiment_ids": ["0"], "page_token": token}
    response = http.post(f"{API}/runs/search", json=search)
    assert _mlflow_error(response) == "INVALID_PARAMETER_VALUE"
