"""MLflow's scoring protocol and the Open Inference Protocol against a real ``registre serve``.

One server per registry kind for the module: embedded (SQLite + files under a directory) and
remote (a real ``python -m registre.server`` process, the scoring server polling it over HTTP).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from registre import Client
from tests.fixtures.server import start_server, stop_server
from tests.serving.support import (
    COLUMNS,
    ScoringServer,
    constant,
    logistic,
    rows,
    split_body,
    start_serve,
)

ROWS = rows((0, 50, 100, 1, 51))
EXPECTED = [int(p) for p in logistic().predict(ROWS)]
RECORDS = ROWS.to_dict(orient="records")
MATRIX = ROWS.to_numpy().tolist()


@pytest.fixture(scope="module", params=["embedded", "remote"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScoringServer]:
    base = tmp_path_factory.mktemp(f"protocol-{request.param}")
    registry = None
    if request.param == "remote":
        registry = start_server(base / "registry")
        target: str | Path = registry.url
    else:
        target = base / "home"
    with Client(target) as client:
        version = client.log_model(logistic(), "Iris", input_example=ROWS.head(2))
        client.transition_stage("Iris", version.version, "Production")
        client.log_model(constant(2), "Always2", input_example=ROWS.head(2))
    args = ["models:/Iris/Production", "--model", "two=models:/Always2/1"]
    location = {"url": registry.url} if registry else {"home": base / "home"}
    scoring = start_serve(args, log_dir=base / "logs", **location)  # type: ignore[arg-type]
    yield scoring
    scoring.stop()
    if registry is not None:
        stop_server(registry)


def post(server: ScoringServer, body: object, path: str = "/invocations") -> httpx.Response:
    return httpx.post(f"{server.url}{path}", json=body, timeout=10)


def post_raw(
    server: ScoringServer,
    content: bytes | str,
    content_type: str | None,
    path: str = "/invocations",
) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return httpx.post(f"{server.url}{path}", content=content, headers=headers, timeout=10)


@pytest.mark.parametrize(
    "body",
    [
        split_body(ROWS),
        {"dataframe_records": RECORDS},
        {"instances": RECORDS},
        {"instances": MATRIX},
        {"inputs": MATRIX},
        {"inputs": {c: ROWS[c].tolist() for c in COLUMNS}},
        split_body(ROWS[COLUMNS[::-1]]),
        {**split_body(ROWS), "params": {"anything": 1}},
        {"dataframe_split": {**split_body(ROWS)["dataframe_split"], "index": [9, 8, 7, 6, 5]}},
    ],
    ids=["split", "records", "instances-records", "instances-rows", "inputs-rows",
         "inputs-columns", "split-reordered", "params", "split-index"],
)  # fmt: skip
def test_every_json_payload_shape_gets_the_models_predictions(
    server: ScoringServer, body: dict[str, object]
) -> None:
    response = post(server, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": EXPECTED}
    assert response.headers["X-Model-Name"] == "Iris"
    assert response.headers["X-Model-Version"] == "1"


def test_csv_and_parquet_bodies_are_scored(server: ScoringServer) -> None:
    csv = post_raw(server, ROWS.to_csv(index=False), "text/csv")
    assert csv.status_code == 200, csv.text
    assert csv.json() == {"predictions": EXPECTED}
    buffer = io.BytesIO()
    ROWS.to_parquet(buffer)
    parquet = post_raw(server, buffer.getvalue(), "application/vnd.apache.parquet")
    assert parquet.json() == {"predictions": EXPECTED}


def test_json_with_a_charset_is_accepted(server: ScoringServer) -> None:
    body = json.dumps(split_body(ROWS))
    response = post_raw(server, body, "application/json; charset=utf-8")
    assert response.json() == {"predictions": EXPECTED}


BAD_TYPE = [{**r, "petal width (cm)": "wide"} for r in RECORDS]
MISSING = [{k: v for k, v in r.items() if k != "petal width (cm)"} for r in RECORDS]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "code", "words"),
    [
        (json.dumps({"dataframe_records": MISSING}), "application/json", 400,
         "INVALID_PARAMETER_VALUE", "missing required column 'petal width (cm)'"),
        (json.dumps({"dataframe_split": {"columns": COLUMNS[:3], "data": [r[:3] for r in MATRIX]}}),
         "application/json", 400, "INVALID_PARAMETER_VALUE", "'petal width (cm)'"),
        (json.dumps({"dataframe_records": BAD_TYPE}), "application/json", 400,
         "INVALID_PARAMETER_VALUE", "column 'petal width (cm)' has string values"),
        ('{"dataframe_split": ', "application/json", 400, "BAD_REQUEST", "not valid JSON"),
        ("", "application/json", 400, "BAD_REQUEST", "not valid JSON"),
        (json.dumps(RECORDS), "application/json", 400, "BAD_REQUEST", "the body is a list"),
        (json.dumps({"rows": RECORDS}), "application/json", 400, "BAD_REQUEST", "unknown keys"),
        (json.dumps({**split_body(ROWS), "extra": 1}), "application/json", 400, "BAD_REQUEST",
         "unknown keys ['extra']"),
        (json.dumps({**split_body(ROWS), "inputs": MATRIX}), "application/json", 400,
         "BAD_REQUEST", "exactly one of"),
        (json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [[1.0, 2.0]]}}),
         "application/json", 400, "BAD_REQUEST", "has 2 values for 4 columns"),
        (json.dumps({"instances": [[1.0, 2.0]]}), "application/json", 400,
         "INVALID_PARAMETER_VALUE", "has 2 values"),
        (json.dumps({"dataframe_records": "nope"}), "application/json", 400, "BAD_REQUEST",
         "list of records"),
        (json.dumps({**split_body(ROWS), "params": [1]}), "application/json", 400, "BAD_REQUEST",
         "'params' must be an object"),
        ("a,b\n1,2\n", "text/csv", 400, "INVALID_PARAMETER_VALUE", "missing required column"),
        (b"\x00not parquet", "application/vnd.apache.parquet", 400, "BAD_REQUEST",
         "cannot read the body as Parquet"),
        ("x", "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE", "text/plain"),
        ("x", None, 415, "UNSUPPORTED_MEDIA_TYPE", "no Content-Type"),
        ("{}", "application/json; charset=latin-1", 415, "UNSUPPORTED_MEDIA_TYPE", "UTF-8"),
    ],
    ids=["missing-column", "missing-column-split", "wrong-type", "malformed-json", "empty-body",
         "top-level-list", "unknown-key", "extra-key", "two-formats", "ragged-row",
         "short-instance", "records-not-list", "params-not-object", "csv-missing-column",
         "bad-parquet", "unsupported-type", "no-content-type", "latin-1"],
)  # fmt: skip
def test_bad_requests_get_mlflow_error_json_naming_the_problem(
    server: ScoringServer,
    content: str | bytes,
    content_type: str | None,
    status: int,
    code: str,
    words: str,
) -> None:
    response = post_raw(server, content, content_type)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == code
    assert words in body["message"]
    assert response.headers["X-Model-Version"] == "1"
    assert httpx.get(f"{server.url}/ping").status_code == 200  # still up


def test_health_version_and_state(server: ScoringServer) -> None:
    for path in ("/ping", "/health"):
        response = httpx.get(f"{server.url}{path}")
        assert response.status_code == 200
        assert response.headers["X-Model-Version"] == "1"
    from registre import __version__

    assert httpx.get(f"{server.url}/version").text == __version__
    state = server.state()
    assert state["default"] == "Iris"
    assert {m["name"]: m["version"] for m in state["models"]} == {"Iris": "1", "two": "1"}


def test_other_models_are_served_under_their_names(server: ScoringServer) -> None:
    response = post(server, split_body(ROWS), "/models/two/invocations")
    assert response.json() == {"predictions": [2] * len(ROWS)}
    assert response.headers["X-Model-Name"] == "Always2"
    default = post(server, split_body(ROWS), "/models/Iris/invocations")
    assert default.json() == {"predictions": EXPECTED}
    missing = post(server, split_body(ROWS), "/models/nope/invocations")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    unknown = httpx.get(f"{server.url}/no/such/path")
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_open_inference_protocol(server: ScoringServer) -> None:
    base = f"{server.url}/v2"
    assert httpx.get(f"{base}/health/live").json() == {"live": True}
    assert httpx.get(f"{base}/health/ready").json() == {"ready": True}
    assert httpx.get(f"{base}/models/Iris/ready").json() == {"name": "Iris", "ready": True}
    meta = httpx.get(f"{base}/models/Iris").json()
    assert meta["name"] == "Iris"
    assert meta["versions"] == ["1"]
    assert [i["name"] for i in meta["inputs"]] == COLUMNS
    assert {i["datatype"] for i in meta["inputs"]} == {"FP64"}

    by_column = {
        "id": "req-1",
        "inputs": [
            {"name": c, "shape": [len(ROWS)], "datatype": "FP64", "data": ROWS[c].tolist()}
            for c in COLUMNS
        ],
    }
    response = httpx.post(f"{base}/models/Iris/infer", json=by_column)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "Iris"
    assert body["model_version"] == "1"
    assert body["id"] == "req-1"
    assert body["outputs"] == [
        {"name": "predict", "shape": [len(ROWS)], "datatype": "INT64", "data": EXPECTED}
    ]
    assert response.headers["X-Model-Version"] == "1"

    flat = [value for row in MATRIX for value in row]
    as_matrix = {"inputs": [{"name": "x", "shape": [len(ROWS), 4], "datatype": "FP64",
                             "data": flat}]}  # fmt: skip
    pinned = httpx.post(f"{base}/models/Iris/versions/1/infer", json=as_matrix)
    assert pinned.json()["outputs"][0]["data"] == EXPECTED


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP99", "data": [1] * 4}]}, 400,
         "datatype"),
        ({"inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP64", "data": [1] * 4}]}, 400,
         "does not match its shape"),
        ({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1] * 3}]}, 400,
         "has 3 columns"),
        ({"rows": []}, 400, "'inputs'"),
    ],
    ids=["bad-datatype", "bad-shape", "bad-width", "no-inputs"],
)  # fmt: skip
def test_open_inference_protocol_errors(
    server: ScoringServer, body: dict[str, object], status: int, words: str
) -> None:
    response = httpx.post(f"{server.url}/v2/models/Iris/infer", json=body)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert response.json()["error_code"] in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE")
    assert httpx.get(f"{server.url}/v2/models/nope").status_code == 404
    assert httpx.get(f"{server.url}/v2/models/Iris/versions/7").status_code == 404


def test_metrics_count_requests_errors_latency_and_batches(server: ScoringServer) -> None:
    post(server, split_body(ROWS))
    post(server, {"dataframe_records": BAD_TYPE})
    text = httpx.get(f"{server.url}/metrics").text
    assert 'registre_serving_requests_total{model="Iris",status="200",version="1"}' in text
    assert 'registre_serving_requests_total{model="Iris",status="400",version="1"}' in text
    assert ('registre_serving_errors_total{error_code="INVALID_PARAMETER_VALUE",'
            'model="Iris",version="1"}') in text  # fmt: skip
    assert 'registre_serving_request_duration_seconds_bucket{le="0.005",model="Iris"' in text
    assert 'registre_serving_batch_size_count{model="Iris",version="1"}' in text
    assert 'registre_serving_model_version{endpoint="two",model="Always2",version="1"} 1.0' in text


def test_one_json_log_line_per_request(server: ScoringServer) -> None:
    marker = post(server, split_body(ROWS), "/models/two/invocations")
    assert marker.status_code == 200
    lines = [json.loads(x) for x in server.log().splitlines() if x.startswith("{")]
    scored = [x for x in lines if x.get("path") == "/models/two/invocations"]
    assert scored, server.log()
    last = scored[-1]
    assert last["model"] == "Always2"
    assert last["version"] == "1"
    assert last["status"] == 200
    assert last["latency_ms"] > 0
