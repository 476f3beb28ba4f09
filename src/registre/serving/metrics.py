"""Prometheus metrics of the scoring server, per served model and version."""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServingMetrics:
    """Counters and histograms in a registry of their own (several apps may share a process)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("model", "version")
        self._requests = Counter(
            "registre_serving_requests", "Scoring requests answered.",
            (*labels, "status"), registry=self.registry,
        )  # fmt: skip
        self._errors = Counter(
            "registre_serving_errors", "Scoring requests answered with an error.",
            (*labels, "error_code"), registry=self.registry,
        )  # fmt: skip
        self._latency = Histogram(
            "registre_serving_request_duration_seconds", "Time to answer a scoring request.",
            labels, buckets=_LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._batch = Histogram(
            "registre_serving_batch_size", "Requests served by one predict call.",
            labels, buckets=_BATCH_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._swaps = Counter(
            "registre_serving_swaps", "Times a newer version replaced the served one.",
            ("model",), registry=self.registry,
        )  # fmt: skip
        self._rejected = Counter(
            "registre_serving_rejected_versions", "Versions that failed their check.",
            ("model",), registry=self.registry,
        )  # fmt: skip
        self._served = Gauge(
            "registre_serving_model_version", "The version each endpoint serves (1 = current).",
            ("endpoint", "model", "version"), registry=self.registry,
        )  # fmt: skip
        # Looking a labelled child up costs more than using it: keep them.
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def request(self, model: str, version: str, status: int, seconds: float) -> None:
        self._child(self._requests, model, version, str(status)).inc()
        self._child(self._latency, model, version).observe(seconds)

    def error(self, model: str, version: str, error_code: str) -> None:
        self._child(self._errors, model, version, error_code).inc()

    def batch(self, model: str, version: str, size: int) -> None:
        self._child(self._batch, model, version).observe(size)

    def serving(self, endpoint: str, model: str, version: str) -> None:
        self._served.labels(endpoint, model, version).set(1)

    def swapped(self, endpoint: str, model: str, old: str, new: str) -> None:
        self._swaps.labels(model).inc()
        self._served.labels(endpoint, model, old).set(0)
        self._served.labels(endpoint, model, new).set(1)

    def rejected(self, model: str) -> None:
        self._rejected.labels(model).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
