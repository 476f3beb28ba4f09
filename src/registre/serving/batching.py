"""One predict thread per served model, draining a queue of jobs in micro-batches.

Callers on the event loop submit a job and await its future; the thread takes the first job
waiting, gathers what else arrives within ``max_wait`` (up to ``max_batch`` jobs), runs one
predict per group of compatible jobs and hands each caller its own slice. A batch that fails
is retried job by job, so one caller's bad input never fails another caller's request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput
from registre.serving.errors import ModelFailed
from registre.serving.items import Item, Whole
from registre.serving.versions import ServedVersion

logger = logging.getLogger("registre.serving")

Encoder = Callable[[Any], Any]
BatchObserver = Callable[[ServedVersion, int], None]


@dataclass(slots=True, eq=False)
class Job:
    served: ServedVersion
    item: Item
    encode: Encoder  # turns this job's predictions into its response body, on the thread
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    queued_at: float = field(default_factory=time.monotonic)


class PredictWorker:
    """The predict thread of one served model."""

    def __init__(
        self,
        name: str,
        *,
        max_batch: int = 64,
        max_wait: float = 0.002,
        on_batch: BatchObserver | None = None,
    ) -> None:
        self.name = name
        self.max_batch = max(1, max_batch)
        self.max_wait = max(0.0, max_wait)
        self._on_batch = on_batch
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"predict-{name}", daemon=True)
        self._thread.start()

    def submit(self, served: ServedVersion, item: Item, encode: Encoder) -> asyncio.Future[Any]:
        """Queue a prediction; the future resolves to ``encode(predictions)`` or raises."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(Job(served, item, encode, loop, future))
        return future

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    # ---- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = self._gather(batch)
            try:
                self._process(batch)
            except Exception:  # never let the thread die: callers would wait forever
                logger.exception("predict thread %s failed on a batch", self.name)
                _deliver([(job, None, RuntimeError("batch failed")) for job in batch])
            if stop:
                return

    def _gather(self, batch: list[Job]) -> bool:
        get = self._queue.get_nowait
        while len(batch) < self.max_batch:
            try:
                job = get()
            except queue.Empty:
                break
            if job is None:
                return True
            batch.append(job)
        if self.max_wait <= 0 or isinstance(batch[0].item, Whole):
            return False
        # Wait for company only up to max_wait after the first job arrived: under load the
        # queue fills while the previous batch predicts, and nobody waits at all.
        deadline = batch[0].queued_at + self.max_wait
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                job = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if job is None:
                return True
            batch.append(job)
        return False

    def _process(self, batch: list[Job]) -> None:
        groups: dict[tuple[Any, ...], list[Job]] = {}
        outcomes: list[tuple[Job, Any, BaseException | None]] = []
        for job in batch:
            if job.future.cancelled():
                continue  # the caller went away
            if isinstance(job.item, Whole):
                outcomes.append(self._predict_one(job))
            else:
                groups.setdefault((id(job.served), job.item.key), []).append(job)
        for jobs in groups.values():
            outcomes.extend(self._predict_together(jobs))
        _deliver(outcomes)

    def _predict_together(self, jobs: list[Job]) -> list[tuple[Job, Any, BaseException | None]]:
        if len(jobs) == 1:
            return [self._predict_one(jobs[0])]
        served = jobs[0].served
        items = [job.item for job in jobs]
        bounds = []
        total = 0
        for item in items:
            assert not isinstance(item, Whole)
            bounds.append((total, total + len(item)))
            total += len(item)
        try:
            joined = type(items[0]).join(items)  # type: ignore[arg-type, union-attr]
            predictions = served.predictor.predict(joined)
            parts = [_slice(predictions, a, b, total) for a, b in bounds]
        except Exception:
            # Someone's rows are bad (or the model is not as row-wise as its flavor says):
            # each caller gets exactly what it would have got alone.
            return [self._predict_one(job) for job in jobs]
        self._observe(served, len(jobs))
        return [_encoded(job, part) for job, part in zip(jobs, parts, strict=True)]

    def _predict_one(self, job: Job) -> tuple[Job, Any, BaseException | None]:
        item = job.item
        try:
            if isinstance(item, Whole):
                predictions = job.served.predictor.predict(item.data, item.params)
            else:
                predictions = job.served.predictor.predict(item.model_input())
        except InvalidInput as exc:
            return job, None, exc
        except Exception as exc:
            return job, None, ModelFailed(exc)
        self._observe(job.served, 1)
        return _encoded(job, predictions)

    def _observe(self, served: ServedVersion, size: int) -> None:
        if self._on_batch is not None:
            self._on_batch(served, size)


def _encoded(job: Job, predictions: Any) -> tuple[Job, Any, BaseException | None]:
    try:
        return job, job.encode(predictions), None
    except Exception as exc:
        return job, None, exc


def _slice(predictions: Any, start: int, stop: int, total: int) -> Any:
    if isinstance(predictions, pd.DataFrame | pd.Series):
        if len(predictions) != total:
            raise ValueError("predictions do not match the rows")
        return predictions.iloc[start:stop]
    if isinstance(predictions, dict):
        return {k: _slice(v, start, stop, total) for k, v in predictions.items()}
    if isinstance(predictions, np.ndarray | list):
        if len(predictions) != total:
            raise ValueError("predictions do not match the rows")
        return predictions[start:stop]
    raise ValueError(f"cannot split predictions of type {type(predictions).__name__}")


def _deliver(outcomes: list[tuple[Job, Any, BaseException | None]]) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Job, Any, BaseException | None]]] = {}
    for outcome in outcomes:
        by_loop.setdefault(outcome[0].loop, []).append(outcome)
    for loop, items in by_loop.items():
        # One wake-up per batch, not per job; a closed loop means the server is shutting down.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, items)


def _settle(outcomes: list[tuple[Job, Any, BaseException | None]]) -> None:
    for job, result, error in outcomes:
        if job.future.done():
            continue
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)
