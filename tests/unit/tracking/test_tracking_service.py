"""Experiments, runs, params, metrics and logged models in the tracking service."""

from __future__ import annotations

import math

import pytest

from registre.domain.errors import AlreadyExists, InvalidInput, NotFound
from registre.domain.tracking import Lifecycle, LoggedModelStatus, Metric, RunStatus
from registre.service.registry import Registry
from registre.service.tracking import Tracking


def _events(registry: Registry, subject: str) -> list[str]:
    with registry.store.read() as conn:
        return [e.action for e in registry.store.events(conn, subject, None, 1000, 0)]


def test_default_experiment_exists_with_id_zero(tracking: Tracking) -> None:
    default = tracking.get_experiment("0")
    assert (default.name, default.artifact_location) == ("Default", "mlflow-artifacts:/0")
    assert tracking.get_experiment_by_name("Default").id == "0"


def test_experiments_are_unique_by_name_and_numbered_from_one(tracking: Tracking) -> None:
    first = tracking.create_experiment("iris", tags={"team": "ml"})
    assert first == "1"
    assert tracking.get_experiment(first).artifact_location == "mlflow-artifacts:/1"
    with pytest.raises(AlreadyExists):
        tracking.create_experiment("iris")
    with pytest.raises(NotFound):
        tracking.get_experiment_by_name("nope")
    tracking.rename_experiment(first, "iris-v2")
    assert tracking.get_experiment(first).tags == {"team": "ml"}
    assert [e.name for e in tracking.search_experiments(filter="name LIKE 'iris%'").items] == [
        "iris-v2"
    ]


def test_experiments_by_name_order_by_code_point_after_the_filter(tracking: Tracking) -> None:
    for name, team in [("b", "ml"), ("B", "ml"), ("a", "ml"), ("\u00e4", "ml"), ("c", "ops")]:
        tracking.create_experiment(name, tags={"team": team})
    found = tracking.search_experiments(filter="tags.team = 'ml'", order_by=["name DESC"])
    assert [e.name for e in found.items] == ["\u00e4", "b", "a", "B"]
    found = tracking.search_experiments(filter="tags.team = 'ml'", order_by=["name"])
    assert [e.name for e in found.items] == ["B", "a", "b", "\u00e4"]


def test_experiment_artifact_location_is_refused(tracking: Tracking) -> None:
    with pytest.raises(InvalidInput):
        tracking.create_experiment("elsewhere", artifact_location="file:///tmp")


def test_deleting_an_experiment_deletes_its_runs_and_blocks_new_ones(tracking: Tracking) -> None:
    experiment = tracking.create_experiment("doomed")
    run = tracking.create_run(experiment)
    tracking.set_experiment_lifecycle(experiment, Lifecycle.DELETED)
    assert tracking.get_run(run.id).lifecycle_stage == "deleted"
    with pytest.raises(InvalidInput):
        tracking.create_run(experiment)
    with pytest.raises(InvalidInput):
        tracking.set_experiment_lifecycle("0", Lifecycle.DELETED)
    tracking.set_experiment_lifecycle(experiment, Lifecycle.ACTIVE)
    assert tracking.search_experiments(view="ALL").items


def test_params_are_immutable_once_logged(tracking: Tracking) -> None:
    run = tracking.create_run("0", run_name="r")
    tracking.log_batch(run.id, params={"alpha": 0.1})
    tracking.log_batch(run.id, params={"alpha": "0.1"})  # same value: accepted
    with pytest.raises(InvalidInput, match="cannot be changed"):
        tracking.log_batch(run.id, params={"alpha": "0.2"})
    assert tracking.get_run(run.id).params == {"alpha": "0.1"}


def test_metrics_keep_history_and_latest_follows_step_then_timestamp(tracking: Tracking) -> None:
    run = tracking.create_run("0")
    points = [
        Metric("loss", v, ts, step) for v, ts, step in [(0.9, 10, 0), (0.2, 5, 2), (0.5, 20, 1)]
    ]
    tracking.log_batch(run.id, metrics=points)
    assert tracking.get_run(run.id).latest_metrics() == {"loss": 0.2}
    assert [m.value for m in tracking.metric_history(run.id, "loss")] == [0.9, 0.5, 0.2]
    tracking.log_batch(run.id, metrics=[Metric("loss", math.nan, 5, 2)])
    assert tracking.get_run(run.id).latest_metrics() == {"loss": 0.2}  # NaN never wins a tie
    tracking.log_batch(run.id, metrics=[Metric("loss", math.nan, 1, 3)])
    assert math.isnan(tracking.get_run(run.id).latest_metrics()["loss"])  # NaN is stored as NaN


def test_relogging_a_point_for_a_model_links_it_instead_of_duplicating(tracking: Tracking) -> None:
    run = tracking.create_run("0")
    tracking.log_batch(run.id, metrics=[Metric("acc", 0.9, 10, 0)])
    model = tracking.create_logged_model("0", "model", source_run_id=run.id)
    tracking.log_batch(run.id, metrics=[Metric("acc", 0.9, 10, 0, model_id=model.id)])
    assert len(tracking.metric_history(run.id, "acc")) == 1
    assert [(m.key, m.value) for m in tracking.get_logged_model(model.id).metrics] == [("acc", 0.9)]


def test_run_update_tags_and_lifecycle(tracking: Tracking) -> None:
    run = tracking.create_run("0", run_name="first", tags={"mlflow.user": "ada"})
    assert (run.name, run.user_id, run.status) == ("first", "ada", RunStatus.RUNNING)
    updated = tracking.update_run(run.id, status="FINISHED", end_time=123, run_name="renamed")
    assert (updated.status, updated.end_time, updated.name) == (RunStatus.FINISHED, 123, "renamed")
    assert updated.tags["mlflow.runName"] == "renamed"
    with pytest.raises(InvalidInput):
        tracking.update_run(run.id, status="DONE")
    tracking.set_run_lifecycle(run.id, Lifecycle.DELETED)
    with pytest.raises(InvalidInput, match="deleted"):
        tracking.log_batch(run.id, tags={"k": "v"})
    with pytest.raises(NotFound):
        tracking.get_run("0" * 32)


def test_search_runs_filters_and_orders(tracking: Tracking) -> None:
    experiment = tracking.create_experiment("search")
    runs = [tracking.create_run(experiment, run_name=f"r{i}") for i in range(3)]
    for i, run in enumerate(runs):
        tracking.log_batch(run.id, metrics=[Metric("acc", i / 10, 1)], params={"i": str(i)})
    found = tracking.search_runs([experiment], "metrics.acc >= 0.1", order_by=["metrics.acc DESC"])
    assert [r.name for r in found.items] == ["r2", "r1"]
    page = tracking.search_runs([experiment], "attributes.run_name LIKE 'r%'", max_results=2)
    assert len(page.items) == 2 and page.next_page_token
    with pytest.raises(InvalidInput):
        tracking.search_runs([experiment], "metrics.acc > 1 OR params.i = '1'")


def test_search_runs_pages_without_a_filter_match_the_filtered_path(tracking: Tracking) -> None:
    """No filter and no order: only the page is loaded; the runs and their order are the same
    as through the general path (here forced with a filter every run matches)."""
    experiment = tracking.create_experiment("pages")
    for i in range(7):
        run = tracking.create_run(experiment, run_name=f"p{i}", start_time=1000 + i // 2)
        tracking.log_batch(run.id, metrics=[Metric("acc", i / 10, 1)], params={"i": str(i)})

    def pages(filter: str | None) -> list[list[str]]:
        found, token = [], None
        while True:
            page = tracking.search_runs([experiment], filter, max_results=3, page_token=token)
            found.append([r.id for r in page.items])
            if not (token := page.next_page_token):
                return found

    listed = pages(None)
    assert [len(p) for p in listed] == [3, 3, 1]
    assert listed == pages("attributes.run_name LIKE 'p%'")
    first = tracking.search_runs([experiment], None, max_results=3).items[0]
    assert first.params == {"i": "6"} and first.latest_metrics() == {"acc": 0.6}


def test_logged_model_lifecycle(tracking: Tracking) -> None:
    run = tracking.create_run("0")
    model = tracking.create_logged_model("0", "model", source_run_id=run.id, params={"p": 1})
    assert model.id.startswith("m-") and model.status is LoggedModelStatus.PENDING
    assert model.artifact_uri == f"mlflow-artifacts:/0/models/{model.id}/artifacts"
    ready = tracking.update_logged_model(model.id, status="LOGGED_MODEL_READY", tags={"t": "1"})
    assert (ready.status, ready.tags, ready.params) == (
        LoggedModelStatus.READY,
        {"t": "1"},
        {"p": "1"},
    )
    tracking.link_models(run.id, outputs=[(model.id, 0)])
    assert tracking.get_run(run.id).outputs == [(model.id, 0)]
    found = tracking.search_logged_models(["0"], f"name = 'model' AND source_run_id = '{run.id}'")
    assert [m.id for m in found.items] == [model.id]
    tracking.update_logged_model(model.id, deleted=True)
    with pytest.raises(NotFound):
        tracking.get_logged_model(model.id)
    elsewhere = tracking.create_logged_model("0", "x", source_run_id="f" * 32)
    assert elsewhere.source_run_id == "f" * 32  # recorded as given, as MLflow does
    with pytest.raises(InvalidInput):
        tracking.create_logged_model("0", "x", source_run_id="../x")


def test_every_mutation_writes_an_event(tracking: Tracking, registry: Registry) -> None:
    experiment = tracking.create_experiment("audited")
    run = tracking.create_run(experiment)
    tracking.log_batch(run.id, params={"a": "1"})
    tracking.update_run(run.id, status="FINISHED")
    assert _events(registry, f"experiments/{experiment}") == ["create_experiment"]
    assert _events(registry, f"runs/{run.id}") == ["create_run", "log_batch", "update_run"]


def test_concurrent_writers_to_one_run_all_succeed(tracking: Tracking) -> None:
    from concurrent.futures import ThreadPoolExecutor

    run = tracking.create_run("0")

    def log(i: int) -> None:
        tracking.log_batch(
            run.id, metrics=[Metric("step_metric", float(i), 1000 + i, i)], params={"shared": "x"}
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(log, range(40)))
    assert len(tracking.metric_history(run.id, "step_metric")) == 40
    assert tracking.get_run(run.id).latest_metrics() == {"step_metric": 39.0}


def test_concurrent_creation_of_one_experiment_name_is_already_exists(tracking: Tracking) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(_: int) -> str:
        try:
            return tracking.create_experiment("raced")
        except AlreadyExists:
            return "exists"

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(create, range(6)))
    assert results.count("exists") == 5


def test_registered_versions_are_listed_on_their_logged_model(tracking: Tracking) -> None:
    model = tracking.create_logged_model("0", "model")
    tracking.record_model_version(model.id, "Iris", 1)
    tracking.record_model_version(model.id, "Iris", 1)  # once only
    tracking.record_model_version(model.id, "Other", 3)
    assert tracking.get_logged_model(model.id).tags["mlflow.modelVersions"] == (
        '[{"name": "Iris", "version": 1}, {"name": "Other", "version": 3}]'
    )
    with pytest.raises(NotFound):
        tracking.record_model_version("m-" + "0" * 32, "Iris", 1)
