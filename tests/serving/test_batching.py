"""Micro-batching: concurrent callers share predict calls and each gets its own rows back."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest

from registre import Client
from tests.serving.support import ScoringServer, iris, logistic, split_body

CALLERS = 48


def _batches(metrics: str, model: str) -> tuple[float, float]:
    """(predict calls, requests they served) from the batch-size histogram."""
    labels = f'model="{model}",version="1"'
    calls = re.search(rf"registre_serving_batch_size_count{{{labels}}} (\S+)", metrics)
    served = re.search(rf"registre_serving_batch_size_sum{{{labels}}} (\S+)", metrics)
    assert calls and served, metrics
    return float(calls.group(1)), float(served.group(1))


async def _concurrently(url: str, bodies: list[dict[str, object]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        return await asyncio.gather(*(client.post(f"{url}/invocations", json=b) for b in bodies))


def _setup(home: Path) -> None:
    with Client(home) as client:
        client.log_model(logistic(), "Iris", input_example=iris()[0].head(2))


def test_concurrent_requests_share_batches_and_get_their_own_predictions(
    tmp_path: Path, serve: Callable[..., ScoringServer]
) -> None:
    _setup(tmp_path / "home")
    server = serve(["models:/Iris/1", "--max-wait-ms", "20"], home=tmp_path / "home")
    features = iris()[0]
    expected = logistic().predict(features)
    # Caller i sends 1 to 3 rows of its own, so a mixed-up slice cannot go unnoticed.
    picks = [[(7 * i + k) % len(features) for k in range(1 + i % 3)] for i in range(CALLERS)]
    bodies = [split_body(features.iloc[p]) for p in picks]
    for _ in range(2):
        responses = asyncio.run(_concurrently(server.url, bodies))
        for pick, response in zip(picks, responses, strict=True):
            assert response.status_code == 200, response.text
            assert response.json() == {"predictions": [int(expected[i]) for i in pick]}
    calls, served = _batches(httpx.get(f"{server.url}/metrics").text, "Iris")
    assert served == 2 * CALLERS
    assert calls < served, "no batch ever held more than one request"

    # A bad request fails its batch, which is then retried caller by caller: only it fails.
    bad = {"dataframe_records": [{c: "oops" for c in features.columns}]}
    responses = asyncio.run(_concurrently(server.url, [*bodies[:8], bad, *bodies[8:16]]))
    assert responses[8].status_code == 400
    assert "cannot be cast to double" in responses[8].json()["message"]
    for pick, response in zip(picks[:16], responses[:8] + responses[9:], strict=True):
        assert response.json() == {"predictions": [int(expected[i]) for i in pick]}


def test_no_batching_predicts_each_request_alone(
    tmp_path: Path, serve: Callable[..., ScoringServer]
) -> None:
    _setup(tmp_path / "home")
    server = serve(["models:/Iris/1", "--no-batching"], home=tmp_path / "home")
    features = iris()[0]
    responses = asyncio.run(
        _concurrently(server.url, [split_body(features.iloc[[i]]) for i in range(16)])
    )
    assert all(r.status_code == 200 for r in responses)
    calls, served = _batches(httpx.get(f"{server.url}/metrics").text, "Iris")
    assert calls == served == 16


def test_tensor_models_batch_too(tmp_path: Path, serve: Callable[..., ScoringServer]) -> None:
    skl2onnx = pytest.importorskip("skl2onnx")
    features = iris()[0].to_numpy(np.float32)
    proto = skl2onnx.to_onnx(logistic(), features[:1], options={"zipmap": False})
    with Client(tmp_path / "home") as client:
        client.log_model(proto, "IrisOnnx", input_example=features[:2])
    server = serve(["models:/IrisOnnx/1", "--max-wait-ms", "20"], home=tmp_path / "home")
    expected = logistic().predict(iris()[0])
    picks = [[(5 * i + k) % len(features) for k in range(1 + i % 2)] for i in range(CALLERS)]
    bodies = [{"inputs": features[p].tolist()} for p in picks]
    responses = asyncio.run(_concurrently(server.url, bodies))
    for pick, response in zip(picks, responses, strict=True):
        assert response.json() == {"predictions": [int(expected[i]) for i in pick]}
    calls, served = _batches(httpx.get(f"{server.url}/metrics").text, "IrisOnnx")
    assert served == CALLERS
    assert calls < served
    wrong = httpx.post(f"{server.url}/invocations", json={"inputs": [[1.0, 2.0]]})
    assert wrong.status_code == 400
    assert wrong.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "shape [1, 2]" in wrong.json()["message"]
