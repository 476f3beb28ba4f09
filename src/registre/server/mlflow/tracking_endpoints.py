"""MLflow's tracking messages (experiments, runs, metrics, logged models) mapped onto Tracking."""

from __future__ import annotations

import json
from typing import Any

from registre.domain.entities import now_ms
from registre.domain.tracking import Lifecycle, Metric
from registre.server.mlflow import serializers as s
from registre.server.mlflow.errors import MlflowError
from registre.server.mlflow.params import Params
from registre.server.mlflow.routing import Call, Endpoint

Message = dict[str, Any]
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"


# ---- experiments ----------------------------------------------------------------------------
def create_experiment(call: Call) -> Message:
    p = call.params
    experiment_id = call.tracking.create_experiment(
        p.string("name", required=True), p.key_values("tags"), p.string("artifact_location")
    )
    return {"experiment_id": experiment_id}


def get_experiment(call: Call) -> Message:
    found = call.tracking.get_experiment(call.params.string("experiment_id", required=True))
    return {"experiment": s.experiment(found)}


def get_experiment_by_name(call: Call) -> Message:
    found = call.tracking.get_experiment_by_name(
        call.params.string("experiment_name", required=True)
    )
    return {"experiment": s.experiment(found)}


def search_experiments(call: Call) -> Message:
    p = call.params
    page = call.tracking.search_experiments(
        p.string("filter") or None, _view(call, "view_type"), p.integer("max_results"),
        p.strings("order_by") or None, p.string("page_token") or None,
    )  # fmt: skip
    return _paged("experiments", [s.experiment(e) for e in page.items], page)


def update_experiment(call: Call) -> Message:
    p = call.params
    new_name = p.string("new_name")
    if new_name:
        call.tracking.rename_experiment(p.string("experiment_id", required=True), new_name)
    return {}


def delete_experiment(call: Call) -> Message:
    experiment_id = call.params.string("experiment_id", required=True)
    call.tracking.set_experiment_lifecycle(experiment_id, Lifecycle.DELETED)
    return {}


def restore_experiment(call: Call) -> Message:
    experiment_id = call.params.string("experiment_id", required=True)
    call.tracking.set_experiment_lifecycle(experiment_id, Lifecycle.ACTIVE)
    return {}


def set_experiment_tag(call: Call) -> Message:
    p = call.params
    call.tracking.set_experiment_tag(
        p.string("experiment_id", required=True), p.string("key", required=True), p.string("value")
    )
    return {}


def delete_experiment_tag(call: Call) -> Message:
    p = call.params
    call.tracking.delete_experiment_tag(
        p.string("experiment_id", required=True), p.string("key", required=True)
    )
    return {}


# ---- runs -----------------------------------------------------------------------------------
def create_run(call: Call) -> Message:
    p = call.params
    run = call.tracking.create_run(
        p.string("experiment_id") or "0",
        run_name=p.string("run_name"),
        user_id=p.string("user_id"),
        start_time=p.integer("start_time"),
        tags=p.key_values("tags"),
    )
    return {"run": s.run(run)}


def get_run(call: Call) -> Message:
    return {"run": s.run(call.tracking.get_run(call.params.run_id()))}


def update_run(call: Call) -> Message:
    p = call.params
    run = call.tracking.update_run(
        p.run_id(), status=p.string("status") or None, end_time=p.integer("end_time"),
        run_name=p.string("run_name") or None,
    )  # fmt: skip
    return {"run_info": s.run_info(run)}


def delete_run(call: Call) -> Message:
    call.tracking.set_run_lifecycle(call.params.run_id(), Lifecycle.DELETED)
    return {}


def restore_run(call: Call) -> Message:
    call.tracking.set_run_lifecycle(call.params.run_id(), Lifecycle.ACTIVE)
    return {}


def search_runs(call: Call) -> Message:
    p = call.params
    page = call.tracking.search_runs(
        p.strings("experiment_ids"), p.string("filter") or None, _view(call, "run_view_type"),
        p.integer("max_results"), p.strings("order_by") or None, p.string("page_token") or None,
    )  # fmt: skip
    return _paged("runs", [s.run(r) for r in page.items], page)


def log_param(call: Call) -> Message:
    p = call.params
    call.tracking.log_batch(p.run_id(), params={p.string("key", required=True): p.string("value")})
    return {}


def log_metric(call: Call) -> Message:
    p = call.params
    point = _metric(call, p.as_dict())
    call.tracking.log_batch(p.run_id(), metrics=[point])
    return {}


def set_tag(call: Call) -> Message:
    p = call.params
    call.tracking.log_batch(p.run_id(), tags={p.string("key", required=True): p.string("value")})
    return {}


def delete_tag(call: Call) -> Message:
    p = call.params
    call.tracking.delete_run_tag(p.run_id(), p.string("key", required=True))
    return {}


def log_batch(call: Call) -> Message:
    p = call.params
    call.tracking.log_batch(
        p.run_id(), metrics=[_metric(call, m) for m in p.objects("metrics")],
        params=p.key_values("params"), tags=p.key_values("tags"),
    )  # fmt: skip
    return {}


def metric_history(call: Call) -> Message:
    p = call.params
    points = call.tracking.metric_history(p.run_id(), p.string("metric_key", required=True))
    return {"metrics": [s.metric(m) for m in points]}


def log_outputs(call: Call) -> Message:
    models = call.params.objects("models")
    outputs = [(Params(m).string("model_id"), Params(m).integer("step", 0) or 0) for m in models]
    call.tracking.link_models(call.params.run_id(), outputs=outputs)
    return {}


def log_inputs(call: Call) -> Message:
    p = call.params
    if datasets := p.objects("datasets"):
        call.tracking.log_datasets(p.run_id(), datasets)
    if models := p.objects("models"):
        call.tracking.link_models(p.run_id(), inputs=[Params(m).string("model_id") for m in models])
    return {}


def log_model_history(call: Call) -> Message:
    """2.x ``runs/log-model``: the run tag that lists the models logged in the run."""
    p = call.params
    run_id, model_json = p.run_id(), p.string("model_json", required=True)
    try:
        entry = json.loads(model_json)
    except ValueError:
        raise MlflowError("INVALID_PARAMETER_VALUE", "model_json is not valid JSON") from None
    history = json.loads(call.tracking.get_run(run_id).tags.get(LOG_MODEL_HISTORY_TAG, "[]"))
    text = json.dumps([*history, entry])
    if len(text) <= 5000:  # the tag value limit; the history is informational only
        call.tracking.log_batch(run_id, tags={LOG_MODEL_HISTORY_TAG: text})
    return {}


# ---- logged models --------------------------------------------------------------------------
def create_logged_model(call: Call) -> Message:
    p = call.params
    model = call.tracking.create_logged_model(
        p.string("experiment_id", required=True), p.string("name"),
        source_run_id=p.string("source_run_id") or None, model_type=p.string("model_type"),
        params=p.key_values("params"), tags=p.key_values("tags"),
    )  # fmt: skip
    return {"model": s.logged_model(model)}


def get_logged_model(call: Call) -> Message:
    model = call.tracking.get_logged_model(
        call.path["model_id"], allow_deleted=call.params.boolean("allow_deleted")
    )
    return {"model": s.logged_model(model)}


def finalize_logged_model(call: Call) -> Message:
    status = call.params.raw("status")
    if isinstance(status, int) and not isinstance(status, bool):
        status = {1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY"}.get(
            status, "LOGGED_MODEL_UPLOAD_FAILED"
        )
    if not isinstance(status, str) or not status:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'status'."
        )
    model = call.tracking.update_logged_model(call.path["model_id"], status=status)
    return {"model": s.logged_model(model)}


def set_logged_model_tags(call: Call) -> Message:
    model = call.tracking.update_logged_model(
        call.path["model_id"], tags=call.params.key_values("tags")
    )
    return {"model": s.logged_model(model)}


def delete_logged_model_tag(call: Call) -> Message:
    call.tracking.update_logged_model(call.path["model_id"], delete_tag=call.path["tag_key"])
    return {}


def log_logged_model_params(call: Call) -> Message:
    call.tracking.update_logged_model(
        call.path["model_id"], params=call.params.key_values("params")
    )
    return {}


def delete_logged_model(call: Call) -> Message:
    call.tracking.update_logged_model(call.path["model_id"], deleted=True)
    return {}


def search_logged_models(call: Call) -> Message:
    p = call.params
    order = [
        (str(o.get("field_name", "")), o.get("ascending", True) is not False)
        for o in p.objects("order_by")
    ]
    page = call.tracking.search_logged_models(
        p.strings("experiment_ids"), p.string("filter") or None, p.integer("max_results"),
        order or None, p.string("page_token") or None,
    )  # fmt: skip
    return _paged("models", [s.logged_model(m) for m in page.items], page)


def list_logged_model_artifacts(call: Call) -> Message:
    model = call.tracking.get_logged_model(call.path["model_id"])
    directory = call.params.string("artifact_directory_path").strip("/")
    root = model.artifact_uri.removeprefix("mlflow-artifacts:/")
    listing = call.tracking.artifacts.list(f"{root}/{directory}" if directory else root)
    prefix = f"{directory}/" if directory else ""
    return {"root_uri": model.artifact_uri, "files": s.files(listing, prefix)}


def list_run_artifacts(call: Call) -> Message:
    """2.x ``artifacts/list`` for a run (paths relative to the run's artifact root)."""
    run = call.tracking.get_run(call.params.run_id())
    directory = call.params.string("path").strip("/")
    root = run.artifact_uri.removeprefix("mlflow-artifacts:/")
    listing = call.tracking.artifacts.list(f"{root}/{directory}" if directory else root)
    prefix = f"{directory}/" if directory else ""
    return {"root_uri": run.artifact_uri, "files": s.files(listing, prefix)}


# ---- helpers --------------------------------------------------------------------------------
def _metric(call: Call, item: dict[str, Any]) -> Metric:
    key, value = item.get("key"), item.get("value")
    if not isinstance(key, str) or not key:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Missing value for required parameter 'key'.")
    if value is None:
        raise MlflowError("INVALID_PARAMETER_VALUE", f"Missing value for metric {key!r}.")
    if isinstance(value, str):  # JSON cannot carry NaN/Infinity portably; clients send strings
        try:
            value = float(value)
        except ValueError:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE", f"metric {key!r}: {value!r} is not a number"
            ) from None
    timestamp = item.get("timestamp")
    return Metric(
        key, value, now_ms() if timestamp in (None, "") else timestamp,
        item.get("step") or 0, item.get("model_id") or None,
    )  # fmt: skip


def _view(call: Call, name: str) -> str | None:
    value = call.params.raw(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}.get(value, "ACTIVE_ONLY")
    return value if isinstance(value, str) else None


def _paged(key: str, items: list[Message], page: Any) -> Message:
    body: Message = {key: items}
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return body


ENDPOINTS = [
    Endpoint("POST", "/experiments/create", create_experiment),
    Endpoint("GET", "/experiments/get", get_experiment),
    Endpoint("GET", "/experiments/get-by-name", get_experiment_by_name),
    Endpoint("GET", "/experiments/search", search_experiments),
    Endpoint("POST", "/experiments/search", search_experiments),
    Endpoint("POST", "/experiments/update", update_experiment),
    Endpoint("POST", "/experiments/delete", delete_experiment),
    Endpoint("POST", "/experiments/restore", restore_experiment),
    Endpoint("POST", "/experiments/set-experiment-tag", set_experiment_tag),
    Endpoint("POST", "/experiments/delete-experiment-tag", delete_experiment_tag),
    Endpoint("POST", "/runs/create", create_run),
    Endpoint("GET", "/runs/get", get_run),
    Endpoint("POST", "/runs/update", update_run),
    Endpoint("POST", "/runs/delete", delete_run),
    Endpoint("POST", "/runs/restore", restore_run),
    Endpoint("POST", "/runs/search", search_runs),
    Endpoint("POST", "/runs/log-parameter", log_param),
    Endpoint("POST", "/runs/log-metric", log_metric),
    Endpoint("POST", "/runs/set-tag", set_tag),
    Endpoint("POST", "/runs/delete-tag", delete_tag),
    Endpoint("POST", "/runs/log-batch", log_batch),
    Endpoint("POST", "/runs/outputs", log_outputs),
    Endpoint("POST", "/runs/log-inputs", log_inputs),
    Endpoint("POST", "/runs/log-model", log_model_history),
    Endpoint("GET", "/metrics/get-history", metric_history),
    Endpoint("GET", "/artifacts/list", list_run_artifacts),
    Endpoint("POST", "/logged-models", create_logged_model),
    Endpoint("POST", "/logged-models/search", search_logged_models),
    Endpoint("GET", "/logged-models/{model_id}", get_logged_model),
    Endpoint("PATCH", "/logged-models/{model_id}", finalize_logged_model),
    Endpoint("DELETE", "/logged-models/{model_id}", delete_logged_model),
    Endpoint("PATCH", "/logged-models/{model_id}/tags", set_logged_model_tags),
    Endpoint("DELETE", "/logged-models/{model_id}/tags/{tag_key:path}", delete_logged_model_tag),
    Endpoint("POST", "/logged-models/{model_id}/params", log_logged_model_params),
    Endpoint("GET", "/logged-models/{model_id}/artifacts/directories", list_logged_model_artifacts),
]
