"""Run searches narrowed in SQL give exactly what the filter alone gives over every run."""

from __future__ import annotations

import math

import pytest

from registre.domain import tracking_filters as tf
from registre.domain.tracking import Metric
from registre.service.tracking import Tracking

FILTERS = [
    "metrics.acc > 0.5",
    "metrics.acc >= 0.5 and metrics.loss < 0.8",
    "metrics.acc = 0.25",
    "metrics.acc != 0.25",
    "metrics.loss <= 0.5",
    "metrics.acc > '0.5'",
    "params.lr = '0.1'",
    "params.lr = 0.1",
    "params.lr != '0.1'",
    "params.depth IN ('2', '4')",
    "params.lr LIKE '0.%'",
    "params.lr ILIKE '0.0%'",
    "tags.team = 'vision'",
    "tags.team != 'vision'",
    "tags.team NOT IN ('vision')",
    "attributes.run_name = 'r3'",
    "attributes.status = 'RUNNING' and params.depth = '2'",
    "attributes.run_name LIKE 'r1%'",
    "metrics.missing > 0",
]


@pytest.fixture
def experiment(tracking: Tracking) -> str:
    experiment = tracking.create_experiment("narrowed")
    for i in range(12):
        run = tracking.create_run(experiment, run_name=f"r{i}", start_time=1000 + i)
        metrics = [Metric("acc", i / 8, 1), Metric("loss", 1 - i / 12, 1)]
        if i % 5 == 0:
            metrics.append(Metric("acc", math.nan, 2))  # the latest value is NaN
        tags = {"team": "vision"} if i % 3 == 0 else {}
        params = {"depth": str(i % 4)}
        if i % 2:
            params["lr"] = ["0.1", "0.01", "0.10"][i % 3]
        tracking.log_batch(run.id, metrics=metrics, params=params, tags=tags)
    return experiment


@pytest.mark.parametrize("flt", FILTERS)
def test_narrowed_search_equals_the_filter_over_every_run(
    tracking: Tracking, experiment: str, flt: str
) -> None:
    every = tracking.search_runs([experiment], max_results=1000).items
    expected = [r.id for r in tf.select(every, flt, [], tf.run_value)]
    found = [r.id for r in tracking.search_runs([experiment], flt, max_results=1000).items]
    assert found == expected
    paged, token = [], None
    while True:
        page = tracking.search_runs([experiment], flt, max_results=2, page_token=token)
        paged += [r.id for r in page.items]
        if not (token := page.next_page_token):
            break
    assert paged == expected


def test_logged_model_pages_without_a_filter_match_the_filtered_path(tracking: Tracking) -> None:
    experiment = tracking.create_experiment("models")
    for i in range(7):
        tracking.create_logged_model(experiment, f"m{i}", params={"i": str(i)})

    def pages(flt: str | None) -> list[list[str]]:
        found, token = [], None
        while True:
            page = tracking.search_logged_models([experiment], flt, max_results=3, page_token=token)
            found.append([m.id for m in page.items])
            if not (token := page.next_page_token):
                return found

    listed = pages(None)
    assert [len(p) for p in listed] == [3, 3, 1]
    assert listed == pages("name LIKE 'm%'")
    first = tracking.search_logged_models([experiment], max_results=1).items[0]
    assert first.id == listed[0][0] and first.params == {"i": first.name[1:]}


MODEL_FILTERS = [
    "metrics.acc > 0.5",
    "metrics.acc >= 0.5 AND metrics.loss < 0.8",
    "metrics.acc = 0.25",
    "metrics.acc != 0.25",
    "metrics.acc > '0.5'",
    "params.depth = '2'",
    "params.lr != '0.1'",
    "params.depth IN ('1', '3')",
    "params.lr LIKE '0.%'",
    "tags.team = 'vision'",
    "tags.team != 'vision'",
    "name = 'm3'",
    "name LIKE 'm1%'",
    "model_type = 'sklearn'",
    "status = 'READY' AND params.depth = '0'",
    "source_run_id = 'nope'",
    "metrics.missing > 0",
]


@pytest.fixture
def models_experiment(tracking: Tracking) -> str:
    experiment = tracking.create_experiment("narrowed-models")
    run = tracking.create_run(experiment, run_name="trainer", start_time=1000)
    for i in range(12):
        params = {"depth": str(i % 4)}
        if i % 2:
            params["lr"] = ["0.1", "0.01", "0.10"][i % 3]
        model = tracking.create_logged_model(
            experiment, f"m{i}", source_run_id=run.id if i % 3 else None,
            model_type="sklearn" if i % 2 else "onnx", params=params,
            tags={"team": "vision"} if i % 3 == 0 else {},
        )  # fmt: skip
        points = [
            Metric("acc", (i + 4) / 16, 1, 0, model.id),
            Metric("loss", 1 - i / 12, 1, 0, model.id),
        ]
        if i % 5 == 0:
            points.append(Metric("acc", math.nan, 2, 1, model.id))  # the latest value is NaN
        if i % 4 == 1:
            points.append(Metric("acc", 0.9, 3, 2, model.id))  # a later value replaces it
        tracking.log_batch(run.id, metrics=points)
    return experiment


@pytest.mark.parametrize("flt", MODEL_FILTERS)
def test_narrowed_model_search_equals_the_filter_over_every_model(
    tracking: Tracking, models_experiment: str, flt: str
) -> None:
    every = tracking.search_logged_models([models_experiment], max_results=1000).items
    expected = [m.id for m in tf.select(every, flt, [], _model_value_for_test)]
    found = tracking.search_logged_models([models_experiment], flt, max_results=1000).items
    assert [m.id for m in found] == expected


def _model_value_for_test(model: object, cond: tf.Condition) -> object:
    if cond.kind == "metric":  # the latest value of the key, as the search itself reads it
        return model.latest_metric(cond.key, [])  # type: ignore[attr-defined]
    return tf.model_value(model, cond)  # type: ignore[arg-type]
