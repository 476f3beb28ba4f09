"""Metrics computed on a dataset (MLflow's per-metric dataset_name / dataset_digest)."""

from __future__ import annotations

import pytest

from registre.domain.errors import InvalidInput
from registre.domain.tracking import DatasetFilter, Metric
from registre.service.tracking import Tracking


def _point(key: str, value: float, step: int, model_id: str, name: str | None = None,
           digest: str | None = None) -> Metric:  # fmt: skip
    return Metric(key, value, 1000 + step, step, model_id, dataset_name=name, dataset_digest=digest)


def test_metric_history_keeps_the_dataset_of_each_point(tracking: Tracking) -> None:
    run = tracking.create_run("0")
    model = tracking.create_logged_model("0", "model", source_run_id=run.id)
    tracking.log_batch(run.id, metrics=[_point("acc", 0.8, 0, model.id, "train", "d1"),
                                        Metric("acc", 0.7, 1001, 1)])  # fmt: skip
    history = tracking.metric_history(run.id, "acc")
    assert [(m.value, m.dataset_name, m.dataset_digest) for m in history] == [
        (0.8, "train", "d1"), (0.7, None, None),
    ]  # fmt: skip
    assert history[0].model_id == model.id and history[0].run_id == run.id


def test_a_logged_model_keeps_the_latest_value_per_metric_and_dataset(tracking: Tracking) -> None:
    run = tracking.create_run("0")
    model = tracking.create_logged_model("0", "model", source_run_id=run.id)
    tracking.log_batch(run.id, metrics=[
        _point("acc", 0.5, 0, model.id, "eval", "e1"),
        _point("acc", 0.6, 1, model.id, "eval", "e1"),
        _point("acc", 0.9, 2, model.id, "train", "t1"),
        _point("loss", 0.1, 0, model.id),
    ])  # fmt: skip
    found = tracking.get_logged_model(model.id)
    assert [(m.key, m.value, m.dataset_name) for m in found.metrics] == [
        ("acc", 0.6, "eval"), ("acc", 0.9, "train"), ("loss", 0.1, None),
    ]  # fmt: skip
    assert found.latest_metric("acc") == 0.9
    assert found.latest_metric("acc", [DatasetFilter("eval")]) == 0.6
    assert found.latest_metric("acc", [DatasetFilter("eval", "other")]) is None


def test_relogging_a_point_adds_its_dataset_instead_of_duplicating(tracking: Tracking) -> None:
    run = tracking.create_run("0")
    model = tracking.create_logged_model("0", "model", source_run_id=run.id)
    tracking.log_batch(run.id, metrics=[Metric("acc", 0.9, 5, 1)])
    tracking.log_batch(run.id, metrics=[Metric("acc", 0.9, 5, 1, model.id, None, "eval", "e1")])
    [point] = tracking.metric_history(run.id, "acc")
    assert (point.model_id, point.dataset_name, point.dataset_digest) == (model.id, "eval", "e1")


@pytest.mark.parametrize(
    ("name", "digest"), [("x" * 501, None), (None, "d"), ("n", "d" * 65), (5, None)]
)
def test_metric_datasets_are_checked(tracking: Tracking, name: object, digest: object) -> None:
    run = tracking.create_run("0")
    bad = Metric("acc", 1.0, 1, 0, None, None, name, digest)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        tracking.log_batch(run.id, metrics=[bad])


def test_search_logged_models_by_dataset(tracking: Tracking) -> None:
    run = tracking.create_run("0")
    a = tracking.create_logged_model("0", "a", source_run_id=run.id)
    b = tracking.create_logged_model("0", "b", source_run_id=run.id)
    c = tracking.create_logged_model("0", "c", source_run_id=run.id)
    tracking.log_batch(run.id, metrics=[
        _point("acc", 0.9, 0, a.id, "eval", "e1"), _point("acc", 0.1, 1, a.id, "train", "t1"),
        _point("acc", 0.5, 0, b.id, "eval", "e2"), _point("acc", 0.7, 0, c.id),
    ])  # fmt: skip

    def names(**kwargs: object) -> list[str]:
        page = tracking.search_logged_models(["0"], **kwargs)  # type: ignore[arg-type]
        return [m.name for m in page.items]

    assert sorted(names(datasets=[DatasetFilter("eval")])) == ["a", "b"]
    assert names(datasets=[DatasetFilter("eval", "e1")]) == ["a"]
    both = [DatasetFilter("eval", "e1"), DatasetFilter("eval", "e2")]
    assert sorted(names(datasets=both)) == ["a", "b"]
    # A metric filter only sees values computed on the datasets.
    assert names(filter="metrics.acc > 0.3", datasets=[DatasetFilter("train")]) == []
    assert sorted(names(filter="metrics.acc > 0.3", datasets=[DatasetFilter("eval")])) == [
        "a", "b",
    ]  # fmt: skip
    assert sorted(names(filter="metrics.acc > 0.3")) == ["b", "c"]  # a's newest: 0.1 on train
    assert names(order_by=[("metrics.acc", False, DatasetFilter("eval"))]) == ["a", "b", "c"]
    assert names(order_by=[("metrics.acc", True)]) == ["a", "b", "c"]
