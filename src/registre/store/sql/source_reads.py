"""The reads behind registering a model version from a tracked source (a run, a logged model)
that nothing else needs: the logged model a run produced under a name, and the values a
version snapshots. Registration is a hot path (every ``log_model(...,
registered_model_name=...)``): statements built once with bind parameters, selecting only
the columns used, run on the caller's one connection (rows and artifact entries come from
``tracking_store``).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)

from registre.store.sql import tracking_tables as tt

_L = tt.logged_models.c
_O = tt.run_outputs.c
_M = tt.run_metrics.c
_LM = tt.run_latest_metrics.c

# The active logged models a run produced under a name, with the step it reported them at.
_RUN_OUTPUTS = (
    select(
        _L.id,
        _L.experiment_id,
        _L.source_run_id,
        _L.created_at,
        func.coalesce(_O.step, literal(-1)).label("step"),
    )
    .select_from(tt.logged_models)
    .outerjoin(tt.run_outputs, (_O.run_id == _L.source_run_id) & (_O.model_id == _L.id))
    .where(
        _L.source_run_id == bindparam("run"),
        _L.name == bindparam("name"),
        _L.lifecycle_stage == "active",
    )
)
_NO_NUMBER = cast(null(), Float)
_NO_TEXT = cast(null(), String)
_NO_ORDER = cast(null(), Integer)
# A run's latest metrics and its params in one statement (kind 0: metric, 1: param).
_RUN_VALUES = union_all(
    select(literal(0).label("kind"), _LM.key, _LM.value.label("number"), _LM.is_nan,
           _NO_TEXT.label("text")).where(_LM.run_id == bindparam("id")),
    select(literal(1), tt.run_params.c.key, _NO_NUMBER, literal(False), tt.run_params.c.value)
    .where(tt.run_params.c.run_id == bindparam("id")),
)  # fmt: skip
# A logged model's metric points (oldest first) and its params, likewise.
_MODEL_VALUES = union_all(
    select(literal(0).label("kind"), _M.key, _M.value.label("number"), _M.is_nan,
           _NO_TEXT.label("text"), _M.step.label("step"), _M.timestamp.label("at"),
           _M.id.label("seq")).where(_M.model_id == bindparam("id")),
    select(literal(1), tt.logged_model_params.c.key, _NO_NUMBER, literal(False),
           tt.logged_model_params.c.value, _NO_ORDER, _NO_ORDER, _NO_ORDER)
    .where(tt.logged_model_params.c.model_id == bindparam("id")),
).order_by("kind", "step", "at", "seq")  # fmt: skip


def run_output(conn: Connection, run_id: str, name: str) -> Any:
    """The logged model ``run_id`` produced under ``name`` (its id, experiment_id and
    source_run_id): the one reported at the highest step, then the newest."""
    rows = conn.execute(_RUN_OUTPUTS, {"run": run_id, "name": name}).all()
    if not rows:
        return None
    return max(rows, key=lambda r: (r.step, r.created_at))


def run_values(conn: Connection, run_id: str) -> tuple[dict[str, float], dict[str, str]]:
    """A run's latest finite metric values and its params."""
    metrics: dict[str, float] = {}
    params: dict[str, str] = {}
    for kind, key, number, nan, text in conn.execute(_RUN_VALUES, {"id": run_id}):
        if kind:
            params[key] = text
        elif _finite(number, nan):
            metrics[key] = number
    return metrics, params


def logged_model_values(conn: Connection, model_id: str) -> tuple[dict[str, float], dict[str, str]]:
    """A logged model's metrics (the last reported value of each, finite ones) and params."""
    metrics: dict[str, float] = {}
    params: dict[str, str] = {}
    for kind, key, number, nan, text, *_order in conn.execute(_MODEL_VALUES, {"id": model_id}):
        if kind:
            params[key] = text
        elif _finite(number, nan):
            metrics[key] = float(number)
        else:
            metrics.pop(key, None)
    return metrics, params


def _finite(value: Any, is_nan: bool) -> bool:
    # A version's metrics are a searchable snapshot of numbers: NaN and infinities stay in
    # the run's history and are left out of it.
    return not is_nan and value is not None and math.isfinite(value)
