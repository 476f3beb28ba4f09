"""What the server serves: endpoints (a name in the URL) backed by slots (one followed URI each).

A slot's ``current`` is replaced in one assignment; a request reads it once and keeps that
version to the end, which is what lets a swap happen under load without failing anyone.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from registre.service.uris import parse_model_uri
from registre.serving.batching import PredictWorker
from registre.serving.metrics import ServingMetrics
from registre.serving.versions import ServedVersion

PRIMARY = "primary"
SPLIT = "split"
SHADOW = "shadow"


@dataclass(frozen=True)
class BatchingConfig:
    enabled: bool = True
    max_batch: int = 64
    max_wait_ms: float = 2.0


class Slot:
    """One URI the server follows, the version it serves now, and its predict thread."""

    def __init__(self, uri: str, served: ServedVersion, worker: PredictWorker) -> None:
        self.uri = uri
        self.current = served
        self.worker = worker
        self.followable = uri.startswith("models:") and parse_model_uri(uri).kind != "version"
        self.loading: str | None = None
        self.rejected: dict[str, str] = {}  # version → why it was refused
        self.swaps = 0
        self.swapped_at: float | None = None

    def swap(self, served: ServedVersion) -> ServedVersion:
        old, self.current = self.current, served
        self.swaps += 1
        self.swapped_at = time.time()
        return old

    def state(self) -> dict[str, Any]:
        current = self.current
        return {
            "uri": self.uri,
            "model": current.name,
            "version": current.version,
            "flavor": current.flavor,
            "follows": self.followable,
            "loading": self.loading,
            "rejected": dict(self.rejected),
            "swaps": self.swaps,
            "swapped_at": self.swapped_at,
        }


@dataclass
class Endpoint:
    """A served name: its primary slot and, optionally, a share of traffic for a second URI,
    either answered by it (split) or only mirrored to it (shadow)."""

    name: str
    primary: Slot
    split: Slot | None = None
    split_share: float = 0.0
    shadow: Slot | None = None
    shadow_share: float = 0.0
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def choose(self) -> tuple[Slot, str]:
        if self.split is not None and self._random.random() < self.split_share:
            return self.split, SPLIT
        return self.primary, PRIMARY

    def mirror(self) -> Slot | None:
        if self.shadow is not None and self._random.random() < self.shadow_share:
            return self.shadow
        return None

    def slots(self) -> list[Slot]:
        return [s for s in (self.primary, self.split, self.shadow) if s is not None]

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, **self.primary.state()}
        if self.split is not None:
            out["split"] = {"share": self.split_share, **self.split.state()}
        if self.shadow is not None:
            out["shadow"] = {"share": self.shadow_share, **self.shadow.state()}
        return out


class ServingState:
    """Every endpoint of one server, its metrics and its predict threads."""

    def __init__(self, metrics: ServingMetrics, batching: BatchingConfig) -> None:
        self.metrics = metrics
        self.batching = batching
        self.endpoints: dict[str, Endpoint] = {}
        self.default: str | None = None
        self._lock = threading.Lock()

    def new_slot(self, uri: str, served: ServedVersion) -> Slot:
        batch = self.batching.enabled
        worker = PredictWorker(
            served.name,
            max_batch=self.batching.max_batch if batch else 1,
            max_wait=self.batching.max_wait_ms / 1000 if batch else 0.0,
            on_batch=lambda v, size: self.metrics.batch(v.name, v.version, size),
        )
        return Slot(uri, served, worker)

    def add(self, endpoint: Endpoint, *, default: bool = False) -> None:
        with self._lock:
            # Copy-on-write: request handlers iterate the dict without taking the lock.
            self.endpoints = {**self.endpoints, endpoint.name: endpoint}
            if default:
                self.default = endpoint.name
        for slot in endpoint.slots():
            self.metrics.serving(endpoint.name, slot.current.name, slot.current.version)

    def default_endpoint(self) -> Endpoint | None:
        if self.default is not None:
            return self.endpoints.get(self.default)
        if len(self.endpoints) == 1:
            return next(iter(self.endpoints.values()))
        return None

    def slots(self) -> list[tuple[Endpoint, Slot]]:
        return [(e, s) for e in self.endpoints.values() for s in e.slots()]

    def state(self) -> dict[str, Any]:
        return {
            "default": self.default,
            "models": [e.state() for e in self.endpoints.values()],
        }

    def close(self) -> None:
        for _, slot in self.slots():
            slot.worker.stop()
