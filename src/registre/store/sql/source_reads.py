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

from sqlalchemy import Connection, bindparam, func, literal, select

from registre.store.sql import tracking_tables as tt

_L = tt.logged_models.c
_O = tt.run_outputs.c
_M = tt.run_metrics.c
_LM = tt.run_latest_metrics.c

# The active logged models a run produced under a name, with the step it reported them at.
_RUN_OUTPUTS = (
    select(_L.id, _L.created_at, func.coalesce(_O.step, literal(-1)).label("step"))
    .select_from(tt.logged_models)
    .outerjoin(tt.run_outputs, (_O.run_id == _L.source_run_id) & (_O.model_id == _L.id))
    .where(
        _L.source_run_id == bindparam("run"),
        _L.name == bindparam("name"),
        _L.lifecycle_stage == "active",
    )
)
_RUN_PARAMS = select(tt.run_params.c.key, tt.run_params.c.value).where(
    tt.run_params.c.run_id == bindparam("id")
)
_RUN_METRICS = select(_LM.key, _LM.value, _LM.is_nan).where(_LM.run_id == bindparam("id"))
_MODEL_PARAMS = select(tt.logged_model_params.c.key, tt.logged_model_params.c.value).where(
    tt.logged_model_params.c.model_id == bindparam("id")
)
_MODEL_METRICS = (
    select(_M.key, _M.value, _M.is_nan)
    .where(_M.model_id == bindparam("id"))
    .order_by(_M.step, _M.timestamp, _M.id)
)


def run_output(conn: Connection, run_id: str, name: str) -> str | None:
    """The logged model ``run_id`` produced under ``name``: the one reported at the highest
    step, then the newest."""
    rows = conn.execute(_RUN_OUTPUTS, {"run": run_id, "name": name}).all()
    if not rows:
        return None
    return max(rows, key=lambda r: (r.step, r.created_at)).id


def run_values(conn: Connection, run_id: str) -> tuple[dict[str, float], dict[str, str]]:
    """A run's latest finite metric values and its params."""
    metrics = {k: v for k, v, nan in conn.execute(_RUN_METRICS, {"id": run_id}) if _finite(v, nan)}
    params = {k: v for k, v in conn.execute(_RUN_PARAMS, {"id": run_id})}
    return metrics, params


def logged_model_values(conn: Connection, model_id: str) -> tuple[dict[str, float], dict[str, str]]:
    """A logged model's metrics (the last reported value of each, finite ones) and params."""
    metrics: dict[str, float] = {}
    for key, value, nan in conn.execute(_MODEL_METRICS, {"id": model_id}):
        if _finite(value, nan):
            metrics[key] = float(value)
        else:
            metrics.pop(key, None)
    params = {k: v for k, v in conn.execute(_MODEL_PARAMS, {"id": model_id})}
    return metrics, params


def _finite(value: Any, is_nan: bool) -> bool:
    # A version's metrics are a searchable snapshot of numbers: NaN and infinities stay in
    # the run's history and are left out of it.
    return not is_nan and value is not None and math.isfinite(value)
