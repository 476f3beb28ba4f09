"""Behaviours MLflow's own REST integration tests (``tests/tracking/test_rest_tracking.py``,
``test_mlflow_artifacts.py``) check against a genuine ``mlflow server``: message wording,
non-finite metrics, metric-history pages, metrics' datasets, and the web UI's download
endpoints."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import mlflow
import pytest
from mlflow.entities import Metric

from tests.mlflow_compat.conftest import Server


def _post(server: Server, path: str, body: object) -> httpx.Response:
    return httpx.post(f"{server.url}/api/2.0/mlflow{path}", json=body, timeout=30)


def _run(client: mlflow.MlflowClient, unique: str) -> str:
    experiment_id = client.create_experiment(f"parity-{unique}")
    return client.create_run(experiment_id).info.run_id


def test_validation_messages_use_mlflow_wording(
    client: mlflow.MlflowClient, server: Server, unique: str
) -> None:
    run_id = _run(client, unique)
    cases = [
        ("/experiments/create", {"name": 123}, "Invalid value 123 for parameter 'name'"),
        ("/experiments/create", {}, "Missing value for required parameter 'name'."),
        ("/experiments/create", {"name": f"x-{unique}", "tags": "5"},
         "Invalid value \\\"5\\\" for parameter 'tags'"),
        ("/runs/log-metric", {"run_id": 31, "key": "m", "value": 1, "timestamp": 1},
         "Invalid value 31 for parameter 'run_id' supplied"),
        ("/runs/log-metric", {"run_id": run_id, "key": 31, "value": 1, "timestamp": 1},
         "Invalid value 31 for parameter 'key' supplied"),
        ("/runs/log-metric", {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1,
                              "step": "foo"},
         "Invalid value \\\"foo\\\" for parameter 'step' supplied"),
        ("/runs/log-metric", {"run_id": None, "key": "m", "value": 1, "timestamp": 1},
         "Missing value for required parameter 'run_id'"),
        ("/runs/set-tag", {"run_id": run_id, "key": "k", "value": 41},
         "Invalid value 41 for parameter 'value' supplied"),
        ("/runs/log-batch", {"run_id": run_id, "params": "foo"},
         "Invalid value \\\"foo\\\" for parameter 'params' supplied"),
        ("/runs/log-batch", {"run_id": run_id, "metrics": [{"key": "mae", "value": 2.5}]},
         "Missing value for required parameter 'metrics[0].timestamp'"),
    ]  # fmt: skip
    for path, body, expected in cases:
        response = _post(server, path, body)
        assert response.status_code == 400, (path, body)
        assert expected in response.text, (path, body, response.text)
    ok = _post(server, "/runs/log-batch", {"run_id": run_id, "metrics": [
        {"key": "mae", "value": 2.5, "timestamp": 123456789}]})  # fmt: skip
    assert ok.status_code == 200


def test_non_finite_metrics_round_trip(client: mlflow.MlflowClient, unique: str) -> None:
    run_id = _run(client, unique)
    client.log_metric(run_id, "nan", float("nan"))
    client.log_metric(run_id, "inf", float("inf"))
    client.log_metric(run_id, "-inf", -float("inf"))
    metrics = client.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] >= 1.7976931348623157e308
    assert metrics["-inf"] <= -1.7976931348623157e308
    [point] = client.get_metric_history(run_id, "-inf")
    assert point.value == -math.inf


def test_metric_history_pages(client: mlflow.MlflowClient, server: Server, unique: str) -> None:
    run_id = _run(client, unique)
    for i in range(10):
        client.log_metric(run_id, "m", float(i), step=i, timestamp=1000 + i)
    url = f"{server.url}/ajax-api/2.0/mlflow/metrics/get-history"
    seen, token = [], None
    for expected in (4, 4, 2):
        params = {"run_id": run_id, "metric_key": "m", "max_results": 4}
        if token:
            params["page_token"] = token
        body = httpx.get(url, params=params).json()
        assert len(body["metrics"]) == expected
        seen += body["metrics"]
        token = body.get("next_page_token")
    assert token is None
    assert [(m["value"], m["step"], m["timestamp"]) for m in seen] == [
        (float(i), i, 1000 + i) for i in range(10)
    ]
    whole = httpx.get(url, params={"run_id": run_id, "metric_key": "m"}).json()
    assert len(whole["metrics"]) == 10 and "next_page_token" not in whole
    for bad in ({"max_results": 0}, {"max_results": -5}, {"page_token": "invalid_token"}):
        response = httpx.get(url, params={"run_id": run_id, "metric_key": "m", **bad})
        assert response.status_code == 400
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    ("filename", "mime"),
    [("a.txt", "text/plain"), ("b.pkl", "application/octet-stream"), ("c.png", "image/png"),
     ("d.pdf", "application/pdf"), ("MLmodel", "text/plain"), ("e.html", "text/plain")],
)  # fmt: skip
def test_downloads_are_typed_attachments(
    client: mlflow.MlflowClient, server: Server, unique: str, tmp_path: Path, filename: str,
    mime: str,
) -> None:  # fmt: skip
    run = client.create_run(client.create_experiment(f"mime-{unique}"))
    source = tmp_path / filename
    source.write_bytes(b"abcdefg")
    client.log_artifact(run.info.run_id, str(source))
    for response in (
        httpx.get(f"{server.url}/get-artifact",
                  params={"run_id": run.info.run_id, "path": filename}),
        httpx.get(f"{server.url}/api/2.0/mlflow-artifacts/artifacts/"
                  f"{run.info.artifact_uri.removeprefix('mlflow-artifacts:/')}/{filename}"),
    ):  # fmt: skip
        assert response.status_code == 200
        assert response.content == b"abcdefg"
        assert response.headers["content-type"] == mime  # html is never served as html
        assert response.headers["content-disposition"] == f"attachment; filename={filename}"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_ui_downloads_of_versions_and_logged_models(
    client: mlflow.MlflowClient, server: Server, unique: str
) -> None:
    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input):  # type: ignore[no-untyped-def]
            return model_input

    mlflow.set_experiment(f"ui-dl-{unique}")
    info = mlflow.pyfunc.log_model(
        name="model", python_model=Echo(), registered_model_name=f"ui-dl-{unique}"
    )
    logged = httpx.get(
        f"{server.url}/ajax-api/2.0/mlflow/logged-models/{info.model_id}/artifacts/files",
        params={"artifact_file_path": "MLmodel"},
    )
    assert logged.status_code == 200 and info.model_id in logged.text
    version = httpx.get(
        f"{server.url}/model-versions/get-artifact",
        params={"name": f"ui-dl-{unique}", "version": "1", "path": "MLmodel"},
    )
    assert version.status_code == 200 and "python_function" in version.text
    missing = httpx.get(
        f"{server.url}/ajax-api/2.0/mlflow/logged-models/{info.model_id}/artifacts/files"
    )
    assert missing.status_code == 400


@pytest.mark.parametrize("path", ["../path", "a/../../b"])
def test_ui_downloads_refuse_unsafe_paths(
    client: mlflow.MlflowClient, server: Server, unique: str, path: str
) -> None:
    run_id = _run(client, unique)
    for url, params in (
        (f"{server.url}/api/2.0/mlflow/artifacts/list", {"run_id": run_id, "path": path}),
        (f"{server.url}/get-artifact", {"run_id": run_id, "path": path}),
        (f"{server.url}/model-versions/get-artifact",
         {"name": "model", "version": "1", "path": path}),
    ):  # fmt: skip
        response = httpx.get(url, params=params)
        assert response.status_code == 400, url
        assert response.json() == {"error_code": "INVALID_PARAMETER_VALUE",
                                   "message": "Invalid path"}  # fmt: skip


def test_not_found_and_state_messages_use_mlflow_wording(
    client: mlflow.MlflowClient, unique: str
) -> None:
    from mlflow.exceptions import MlflowException

    experiment_id = client.create_experiment(f"words-{unique}")
    run_id = client.create_run(experiment_id).info.run_id
    model = client.create_logged_model(experiment_id)
    name = f"words-{unique}"
    client.create_registered_model(name)
    cases = [
        (lambda: client.get_run("f" * 32), r"Run .+ not found"),
        (lambda: client.delete_tag(run_id, "fakeTag"), "No tag with name: fakeTag"),
        (lambda: client.get_experiment("987654"), "No Experiment with id=987654 exists"),
        (lambda: client.get_logged_model("m-" + "0" * 32), "not found"),
        (lambda: client.delete_logged_model_tag(model.model_id, "nope"), "No tag with key"),
        (lambda: client.search_runs([experiment_id], max_results=123456789),
         "Invalid value 123456789 for parameter 'max_results' supplied"),
        (lambda: client.get_registered_model(f"{name}-x"),
         f"Registered Model with name={name}-x not found"),
        (lambda: client.create_registered_model(name), r"Registered Model .+ already exists"),
        (lambda: client.rename_registered_model(f"{name}-x", "y"),
         r"Registered Model .+ not found"),
        (lambda: client.get_model_version(name, "7"), r"Model Version .+ not found"),
        (lambda: client.get_model_version(name, "not a number"),
         "Parameter 'version' must be an integer, got 'not a number'."),
    ]  # fmt: skip
    for action, pattern in cases:
        with pytest.raises(MlflowException, match=pattern):
            action()
    client.delete_run(run_id)
    with pytest.raises(MlflowException, match=f"The run {run_id} must be in"):
        client.set_tag(run_id, "k", "v")


def test_search_experiments_by_attributes_and_tags(
    client: mlflow.MlflowClient, unique: str
) -> None:
    ids = [
        client.create_experiment(f"{unique}-a", tags={"key": "value"}),
        client.create_experiment(f"{unique}-ab", tags={"key": "vaLue"}),
        client.create_experiment(f"{unique}-Abc"),
    ]

    def names(filter_string: str) -> list[str]:
        found = client.search_experiments(
            filter_string=f"name LIKE '{unique}-%' AND {filter_string}"
        )
        return [e.name.removeprefix(f"{unique}-") for e in found]

    assert names(f"attribute.name = '{unique}-a'") == ["a"]
    assert names(f"attribute.name != '{unique}-a'") == ["Abc", "ab"]
    assert names(f"name LIKE '{unique}-a%'") == ["ab", "a"]  # LIKE is case-sensitive
    assert names(f"name ILIKE '{unique}-a%'") == ["Abc", "ab", "a"]
    assert names("tag.key = 'value'") == ["a"]
    assert names("tag.key != 'value'") == ["ab"]  # experiments without the tag do not match
    assert names("tag.key ILIKE '%alu%'") == ["ab", "a"]
    assert names(f"attribute.experiment_id = '{ids[2]}'") == ["Abc"]
    by_name = client.search_experiments(
        filter_string=f"name LIKE '{unique}-%'", order_by=["name DESC"]
    )
    assert [e.name.removeprefix(f"{unique}-") for e in by_name] == ["ab", "a", "Abc"]  # code points
    page = client.search_experiments(filter_string=f"name LIKE '{unique}-%'", max_results=2)
    rest = client.search_experiments(
        filter_string=f"name LIKE '{unique}-%'", max_results=2, page_token=page.token
    )
    assert [e.experiment_id for e in [*page, *rest]] == ids[::-1]


def test_metric_history_bulk_endpoints(
    client: mlflow.MlflowClient, server: Server, unique: str
) -> None:
    experiment_id = client.create_experiment(f"bulk-{unique}")
    run_1, run_2 = (client.create_run(experiment_id).info.run_id for _ in range(2))
    for step in range(10):
        client.log_metric(run_1, "m", 10.0, timestamp=1, step=step)
    for step in range(20):
        client.log_metric(run_2, "m", 10.0, timestamp=1, step=step)
    bulk = httpx.get(
        f"{server.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk",
        params={"run_id": [run_1, run_2], "metric_key": "m", "max_results": 3},
    ).json()["metrics"]
    first = min(run_1, run_2)
    assert bulk == [
        {"key": "m", "value": 10.0, "timestamp": 1, "step": s, "run_id": first} for s in range(3)
    ]
    url = f"{server.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
    sampled = httpx.get(url, params={"run_ids": [run_1, run_2], "metric_key": "m",
                                     "max_results": 5}).json()["metrics"]  # fmt: skip
    assert [(m["run_id"], m["step"]) for m in sampled] == [
        *((run_1, s) for s in (0, 2, 4, 6, 9)),
        *((run_2, s) for s in (0, 4, 8, 12, 19)),
    ]
    window = httpx.get(url, params={"run_ids": [run_1], "metric_key": "m", "start_step": 0,
                                    "end_step": 4, "max_results": 5}).json()["metrics"]  # fmt: skip
    assert [m["step"] for m in window] == [0, 1, 2, 3, 4]
    for params, message in (
        ({"metric_key": "m"}, "Missing value for required parameter 'run_ids'."),
        ({"run_ids": [run_1], "metric_key": "m", "max_results": 0},
         "max_results must be between 1 and 2500"),
        ({"run_ids": [run_1], "metric_key": "m", "start_step": 1, "end_step": 0},
         "end_step must be greater than start_step"),
        ({"run_ids": [run_1], "metric_key": "m", "start_step": 1},
         "If either start step or end step are specified, both must be specified."),
    ):  # fmt: skip
        response = httpx.get(url, params=params)
        assert response.status_code == 400 and message in response.json()["message"]


def test_search_datasets_and_ui_upload(
    client: mlflow.MlflowClient, server: Server, unique: str
) -> None:
    from mlflow.entities import Dataset, DatasetInput, InputTag

    experiment_id = client.create_experiment(f"ds-{unique}")
    run_id = client.create_run(experiment_id).info.run_id
    dataset = Dataset(name="name1", digest="digest1", source_type="t", source="s")
    client.log_inputs(
        run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])]
    )
    url = f"{server.url}/ajax-api/2.0/mlflow/experiments/search-datasets"
    found = httpx.post(url, json={"experiment_ids": [experiment_id]}).json()
    assert found["dataset_summaries"] == [
        {"experiment_id": experiment_id, "name": "name1", "digest": "digest1",
         "context": "training"}
    ]  # fmt: skip
    assert httpx.post(url, json={}).status_code == 400

    upload = f"{server.url}/ajax-api/2.0/mlflow/upload-artifact"
    ok = httpx.post(upload, params={"run_uuid": run_id, "path": "test.txt"}, content=b"hello")
    assert ok.status_code == 200
    got = httpx.get(f"{server.url}/get-artifact", params={"run_uuid": run_id, "path": "test.txt"})
    assert got.text == "hello"
    for params, body, message in (
        ({}, b"x", "Request must specify run_uuid."),
        ({"run_uuid": run_id}, b"x", "Request must specify path."),
        ({"run_uuid": run_id, "path": "../t.txt"}, b"x", "Invalid path"),
        ({"run_uuid": run_id, "path": "t.txt"}, b"", "Request must specify data."),
        ({"run_uuid": run_id, "path": "t.txt"}, b"x" * (10 * 1024 * 1024 + 1),
         "Artifact size is too large"),
    ):  # fmt: skip
        response = httpx.post(upload, params=params, content=body)
        assert response.status_code == 400 and message in response.json()["message"]


def test_metrics_carry_the_dataset_they_were_computed_on(
    client: mlflow.MlflowClient, unique: str
) -> None:
    import pandas as pd

    experiment_id = client.create_experiment(f"metric-ds-{unique}")
    run_id = client.create_run(experiment_id).info.run_id
    model = client.create_logged_model(experiment_id, source_run_id=run_id)
    other = client.create_logged_model(experiment_id, source_run_id=run_id)
    client.log_metric(run_id, "acc", 0.5, timestamp=10, step=1, dataset_name="eval",
                      dataset_digest="d1", model_id=model.model_id)  # fmt: skip
    client.log_metric(run_id, "acc", 0.8, timestamp=11, step=1, model_id=other.model_id)
    dataset = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), name="train")
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metric("acc", 0.9, step=2, timestamp=12, dataset=dataset,
                          model_id=model.model_id)  # fmt: skip
    metrics = client.get_logged_model(model.model_id).metrics
    assert [(m.value, m.dataset_name, m.dataset_digest, m.run_id) for m in metrics] == [
        (0.5, "eval", "d1", run_id), (0.9, "train", dataset.digest, run_id),
    ]  # fmt: skip
    history = client.get_metric_history(run_id, "acc")
    assert [(m.value, m.dataset_name, m.model_id) for m in history] == [
        (0.5, "eval", model.model_id), (0.8, None, other.model_id),
        (0.9, "train", model.model_id),
    ]  # fmt: skip
    found = client.search_logged_models([experiment_id], datasets=[{"dataset_name": "eval"}])
    assert [m.model_id for m in found] == [model.model_id]
    found = client.search_logged_models(
        [experiment_id], filter_string="metrics.acc > 0.6",
        datasets=[{"dataset_name": "eval", "dataset_digest": "d1"}],
    )  # fmt: skip
    assert list(found) == []
    ranked = client.search_logged_models(
        [experiment_id],
        order_by=[{"field_name": "metrics.acc", "ascending": True, "dataset_name": "eval"}],
    )
    assert [m.model_id for m in ranked] == [model.model_id, other.model_id]  # no eval value: last
    batch = [Metric("loss", 0.1, 13, 0, model_id=model.model_id, dataset_name="eval",
                    dataset_digest="d1")]  # fmt: skip
    client.log_batch(run_id, metrics=batch)
    [loss] = client.get_metric_history(run_id, "loss")
    assert (loss.dataset_name, loss.dataset_digest) == ("eval", "d1")
