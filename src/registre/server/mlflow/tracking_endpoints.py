"""MLflow's tracking messages (experiments, runs, metrics, logged models) mapped onto Tracking."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from registre.domain.errors import InvalidInput, NotFound
from registre.domain.tracking import (
    DatasetFilter,
    Lifecycle,
    LoggedModel,
    Metric,
    check_artifact_key,
)
from registre.server.mlflow import serializers as s
from registre.server.mlflow.errors import MlflowError
from registre.server.mlflow.params import Params, integer_value, invalid_value, missing_value
from registre.server.mlflow.routing import Call, Endpoint
from registre.service.paging import MAX_RESULTS_LIMIT, check_max_results, decode_token, encode_token

Message = dict[str, Any]
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
MAX_RUNS_PER_PAGE = 50_000  # the official server's limit for runs/search


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
    max_results = p.integer("max_results")
    if max_results is not None and not 0 < max_results <= MAX_RUNS_PER_PAGE:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be "
            f"{'at most' if max_results > 0 else 'at least'} "
            f"{MAX_RUNS_PER_PAGE if max_results > 0 else 1}, but got value {max_results}",
        )
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
    run_id = p.run_id()
    call.tracking.log_batch(run_id, metrics=[_metric(call, p.as_dict())])
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
    metrics = p.raw("metrics")
    if metrics is not None and not isinstance(metrics, list):
        raise invalid_value("metrics", metrics)
    points = [_metric(call, m, f"metrics[{i}].") for i, m in enumerate(metrics or [])]
    call.tracking.log_batch(
        p.run_id(), metrics=points,
        params=p.key_values("params"), tags=p.key_values("tags"),
    )  # fmt: skip
    return {}


def metric_history(call: Call) -> Message:
    p = call.params
    points = call.tracking.metric_history(p.run_id(), p.string("metric_key", required=True))
    max_results = p.integer("max_results")
    page_token = p.string("page_token") or None
    if max_results is None and page_token is None:
        return {"metrics": [metric(m) for m in points]}
    limit = check_max_results(max_results, default=MAX_RESULTS_LIMIT)
    offset = decode_token(page_token)
    body: Message = {"metrics": [metric(m) for m in points[offset : offset + limit]]}
    if offset + limit < len(points):
        body["next_page_token"] = encode_token(offset + limit)
    return body


MAX_BULK_RUNS = 100
MAX_BULK_HISTORY = 25_000
MAX_INTERVAL_POINTS = 2_500


def _bulk_point(m: Metric, run_id: str) -> Message:
    return {"key": m.key, "value": s.number(m.value), "timestamp": m.timestamp, "step": m.step,
            "run_id": run_id}  # fmt: skip


def metric_history_bulk(call: Call) -> Message:
    """The web UI's histories of one metric for several runs (by run, then time, step, value)."""
    p = call.params
    run_ids = p.strings("run_id")
    if not run_ids:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            "GetMetricHistoryBulk request must specify at least one run_id.",
        )
    if len(run_ids) > MAX_BULK_RUNS:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"GetMetricHistoryBulk request cannot specify more than {MAX_BULK_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids.",
        )
    key = p.raw("metric_key")
    if not isinstance(key, str):
        raise MlflowError("INVALID_PARAMETER_VALUE",
                          "GetMetricHistoryBulk request must specify a metric_key.")  # fmt: skip
    limit = min(p.integer("max_results", MAX_BULK_HISTORY) or 0, MAX_BULK_HISTORY)
    points: list[Message] = []
    for run_id in sorted(set(run_ids)):
        history = call.tracking.metric_history(run_id, key)
        history.sort(key=lambda m: (m.timestamp, m.step, m.value))
        points += [_bulk_point(m, run_id) for m in history]
    return {"metrics": points[: max(limit, 0)]}


def metric_history_bulk_interval(call: Call) -> Message:
    """Up to ``max_results`` points per run, sampled evenly over its history ordered by (step,
    timestamp, value), the last point always kept — the official server's sampling."""
    p = call.params
    run_ids = p.strings("run_ids")
    if not run_ids:
        raise missing_value("run_ids")
    if len(run_ids) > MAX_BULK_RUNS:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"GetMetricHistoryBulkInterval request must specify at most {MAX_BULK_RUNS} run_ids. "
            f"Received {len(run_ids)} run_ids.",
        )
    key = p.string("metric_key", required=True)
    limit = p.integer("max_results", MAX_INTERVAL_POINTS)
    if limit is None or not 1 <= limit <= MAX_INTERVAL_POINTS:
        raise MlflowError("INVALID_PARAMETER_VALUE",
                          f"max_results must be between 1 and {MAX_INTERVAL_POINTS}.")  # fmt: skip
    start, end = p.integer("start_step"), p.integer("end_step")
    if (start is None) != (end is None):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            "If either start step or end step are specified, both must be specified.",
        )
    if start is not None and end is not None and start > end:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            "end_step must be greater than start_step. "
            f"Found start_step={start} and end_step={end}.",
        )
    histories = [(run_id, call.tracking.metric_history(run_id, key)) for run_id in run_ids]
    points: list[Message] = []
    for run_id, history in histories:
        rows = sorted(
            (m for m in history if start is None or start <= m.step <= (end or 0)),
            key=lambda m: (m.step, m.timestamp, m.value),
        )
        points += [_bulk_point(m, run_id) for m in _sample(rows, limit)]
    return {"metrics": points}


def _sample(rows: list[Metric], n: int) -> list[Metric]:
    """The first row of each of ``n`` NTILE buckets, then the last row (replacing the final
    sample when there are already ``n``)."""
    if len(rows) <= n:
        return rows
    size, extra = divmod(len(rows), n)
    picked, index = [], 0
    for bucket in range(n):
        picked.append(rows[index])
        index += size + (1 if bucket < extra else 0)
    if picked[-1] is not rows[-1]:
        picked[-1] = rows[-1]
    return picked


MAX_DATASET_EXPERIMENTS = 20
DATASET_CONTEXT_TAG = "mlflow.data.context"


def search_datasets(call: Call) -> Message:
    """The web UI's summaries of the datasets logged as inputs of the experiments' runs."""
    experiment_ids = call.params.strings("experiment_ids")
    if not experiment_ids:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            "SearchDatasets request must specify at least one experiment_id.",
        )
    if len(experiment_ids) > MAX_DATASET_EXPERIMENTS:
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"SearchDatasets request cannot specify more than {MAX_DATASET_EXPERIMENTS} "
            f"experiment_ids. Received {len(experiment_ids)} experiment_ids.",
        )
    summaries: dict[tuple[str, str, str, str | None], Message] = {}
    page_token = None
    while True:
        page = call.tracking.search_runs(experiment_ids, None, "ACTIVE_ONLY", 1000, None,
                                         page_token)  # fmt: skip
        for run in page.items:
            for item in run.datasets:
                dataset = item.get("dataset") or {}
                tags = {t.get("key"): t.get("value") for t in item.get("tags") or []}
                summary: Message = {"experiment_id": run.experiment_id,
                                    "name": dataset.get("name", ""),
                                    "digest": dataset.get("digest", "")}  # fmt: skip
                if (context := tags.get(DATASET_CONTEXT_TAG)) is not None:
                    summary["context"] = context
                key = (run.experiment_id, summary["name"], summary["digest"], context)
                summaries.setdefault(key, summary)
        page_token = page.next_page_token
        if not page_token or len(summaries) >= 1000:
            break
    return {"dataset_summaries": list(summaries.values())[:1000]}


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
    except (ValueError, RecursionError):
        raise MlflowError("INVALID_PARAMETER_VALUE", "model_json is not valid JSON") from None
    try:  # the tag is a run tag like any other: anyone may have set it to anything
        history = json.loads(call.tracking.get_run(run_id).tags.get(LOG_MODEL_HISTORY_TAG, "[]"))
    except (ValueError, RecursionError):
        history = None
    if not isinstance(history, list):
        raise MlflowError(
            "INVALID_PARAMETER_VALUE",
            f"the run's {LOG_MODEL_HISTORY_TAG} tag is not a JSON list; fix or delete it",
        )
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
    return {"model": logged_model(model)}


def get_logged_model(call: Call) -> Message:
    model = call.tracking.get_logged_model(
        call.path["model_id"], allow_deleted=call.params.boolean("allow_deleted")
    )
    return {"model": logged_model(model)}


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
    return {"model": logged_model(model)}


def set_logged_model_tags(call: Call) -> Message:
    model = call.tracking.update_logged_model(
        call.path["model_id"], tags=call.params.key_values("tags")
    )
    return {"model": logged_model(model)}


def delete_logged_model_tag(call: Call) -> Message:
    model_id, key = call.path["model_id"], call.path["tag_key"]
    if key not in call.tracking.get_logged_model(model_id).tags:
        raise MlflowError(
            "RESOURCE_DOES_NOT_EXIST",
            f"No tag with key {key!r} found for model with ID {model_id!r}.",
        )
    call.tracking.update_logged_model(model_id, delete_tag=key)
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
    order = []
    for o in p.objects("order_by"):
        on = _dataset_filter(o, "order_by") if o.get("dataset_name") else None
        order.append((str(o.get("field_name", "")), o.get("ascending", True) is not False, on))
    datasets = [_dataset_filter(d, "datasets") for d in p.objects("datasets")]
    page = call.tracking.search_logged_models(
        p.strings("experiment_ids"), p.string("filter") or None, p.integer("max_results"),
        order or None, p.string("page_token") or None, datasets,
    )  # fmt: skip
    return _paged("models", [logged_model(m) for m in page.items], page)


def _dataset_filter(item: Message, where: str) -> DatasetFilter:
    name, digest = item.get("dataset_name"), item.get("dataset_digest")
    if not name:
        raise MlflowError("INVALID_PARAMETER_VALUE",
                          f"`dataset_name` in the `{where}` clause must be specified.")  # fmt: skip
    if not isinstance(name, str) or not isinstance(digest, (str, type(None))):
        raise invalid_value(where, item)
    return DatasetFilter(name, digest or None)


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
    try:
        check_artifact_key(directory, allow_root=True)
    except InvalidInput:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Invalid path") from None
    root = run.artifact_uri.removeprefix("mlflow-artifacts:/")
    listing = call.tracking.artifacts.list(f"{root}/{directory}" if directory else root)
    prefix = f"{directory}/" if directory else ""
    return {"root_uri": run.artifact_uri, "files": s.files(listing, prefix)}


# ---- helpers --------------------------------------------------------------------------------
def _metric(call: Call, item: Any, where: str = "") -> Metric:
    """One metric of ``log-metric`` (``where`` = "") or ``log-batch`` (``metrics[i].``), checked
    with the official server's messages."""
    if not isinstance(item, dict):
        raise invalid_value(where.rstrip("."), item)
    key, value = item.get("key"), item.get("value")
    if key is None or key == "":
        raise missing_value(f"{where}key")
    if not isinstance(key, str):
        raise invalid_value(f"{where}key", key)
    if value is None:
        raise missing_value(f"{where}value")
    if isinstance(value, str):  # JSON cannot carry NaN/Infinity portably; clients send strings
        try:
            value = float(value)
        except ValueError:
            raise invalid_value(f"{where}value", value) from None
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_value(f"{where}value", value)
    timestamp, step = item.get("timestamp"), item.get("step")
    if timestamp is None or timestamp == "":
        raise missing_value(f"{where}timestamp")
    for name in ("model_id", "dataset_name", "dataset_digest"):
        if not isinstance(item.get(name) or "", str):
            raise invalid_value(f"{where}{name}", item[name])
    return Metric(
        key, value, integer_value(f"{where}timestamp", timestamp),
        0 if step in (None, "") else integer_value(f"{where}step", step),
        item.get("model_id") or None, None,
        item.get("dataset_name") or None, item.get("dataset_digest") or None,
    )  # fmt: skip


# ---- messages -------------------------------------------------------------------------------
def metric(m: Metric) -> Message:
    """A Metric message, with the dataset it was computed on when it has one."""
    body = s.metric(m)
    if m.dataset_name:
        body["dataset_name"] = m.dataset_name
    if m.dataset_digest:
        body["dataset_digest"] = m.dataset_digest
    return body


def logged_model(m: LoggedModel) -> Message:
    body = s.logged_model(m)
    body["data"]["metrics"] = [metric(x) for x in m.metrics]
    return body


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


# The service's "does not exist" → the official server's wording (clients match on it).
_NOT_FOUND = [
    (re.compile(r"^run '(.*)' does not exist$", re.S), "Run with id={} not found"),
    (re.compile(r"^experiment '(.*)' does not exist$", re.S),
     "Could not find experiment with name {}"),
    (re.compile(r"^experiment (.*) does not exist$", re.S), "No Experiment with id={} exists"),
    (re.compile(r"^logged model '(.*)' does not exist$", re.S),
     "Logged model with ID '{}' not found."),
    (re.compile(r"^run (\S+) has no tag '(.*)'$", re.S),
     "No tag with name: {1} in run with id {0}"),
]  # fmt: skip
_DELETED_RUN = re.compile(r"^run (\S+) is deleted: restore it first$")


def _worded(handler: Any) -> Any:
    @functools.wraps(handler)
    def wrapped(call: Call) -> Any:
        try:
            return handler(call)
        except NotFound as exc:
            for pattern, wording in _NOT_FOUND:
                if match := pattern.match(exc.message):
                    raise MlflowError(
                        "RESOURCE_DOES_NOT_EXIST", wording.format(*match.groups())
                    ) from None
            raise
        except InvalidInput as exc:
            if match := _DELETED_RUN.match(exc.message):
                raise MlflowError(
                    "INVALID_PARAMETER_VALUE",
                    f"The run {match.group(1)} must be in the 'active' state. "
                    "Current state is deleted.",
                ) from None
            raise

    return wrapped


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
    Endpoint("POST", "/experiments/search-datasets", search_datasets),
    Endpoint("GET", "/metrics/get-history-bulk", metric_history_bulk),
    Endpoint("GET", "/metrics/get-history-bulk-interval", metric_history_bulk_interval),
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
ENDPOINTS = [Endpoint(e.method, e.path, _worded(e.handler), e.body) for e in ENDPOINTS]
