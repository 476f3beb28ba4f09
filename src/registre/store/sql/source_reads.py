"""The reads behind registering a model version from a tracked source (a run, a logged model):
its files in the artifact index, the logged model a run produced under a name, and the values a
version snapshots. Registration is a hot path (every ``log_model(...,
registered_model_name=...)``): statements built once with bind parameters, one per source where
possible, run on the caller's one connection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from registre.store.sql import tracking_tables as tt

_L = tt.logged_models.c
_O = tt.run_outputs.c
_M = tt.run_metrics.c
_LM = tt.run_latest_metrics.c

_NO_NUMBER = cast(null(), Float)
_NO_TEXT = cast(null(), String)

# ---- a source in one statement ---------------------------------------------------------------
# Registering ``runs:/<run>/<path>`` needs the run, its index entries under the path, the logged
# models it produced under that name, and its metrics and params; a logged model, its entries
# and values. Each is one UNION ALL with a kind column (one round of SQLAlchemy's per-statement
# work instead of five), in these columns: kind, a, b (text), number, n1..n4 (integers).
_RUN, _ENTRY, _OUTPUT, _METRIC, _PARAM = range(5)
_NO_BIG = cast(null(), BigInteger)
_A = tt.artifacts.c
_R = tt.runs.c


def _flag(column: Any) -> Any:
    """A boolean column as 0/1 (PostgreSQL casts no boolean to bigint)."""
    return cast(case((column, 1), else_=0), BigInteger)


def _entries_under(kind: str, owner: Any) -> Any:
    return select(
        literal(_ENTRY), _A.path, _A.digest, _NO_NUMBER, _A.size, _NO_BIG, _NO_BIG, _NO_BIG
    ).where(
        _A.root_kind == kind,
        _A.root_id == owner,
        or_(
            _A.path == bindparam("path"),
            func.substr(_A.path, 1, bindparam("prefix_length")) == bindparam("prefix"),
        ),
    )


_RUN_METRICS = select(
    literal(_METRIC), _LM.key, _NO_TEXT, _LM.value, _flag(_LM.is_nan), _NO_BIG, _NO_BIG, _NO_BIG
).where(_LM.run_id == bindparam("run"))
_RUN_PARAMS = select(
    literal(_PARAM), tt.run_params.c.key, tt.run_params.c.value, _NO_NUMBER, _NO_BIG, _NO_BIG,
    _NO_BIG, _NO_BIG,
).where(tt.run_params.c.run_id == bindparam("run"))  # fmt: skip
_RUN_SOURCE = union_all(
    select(literal(_RUN), _NO_TEXT, cast(_R.experiment_id, String), _NO_NUMBER, _NO_BIG,
           _NO_BIG, _NO_BIG, _NO_BIG).where(_R.id == bindparam("run")),
    _entries_under("run", bindparam("run")),
    select(literal(_OUTPUT), _L.id, cast(_L.experiment_id, String), _NO_NUMBER,
           cast(_L.created_at, BigInteger), cast(func.coalesce(_O.step, literal(-1)), BigInteger),
           _NO_BIG, _NO_BIG)
    .select_from(tt.logged_models)
    .outerjoin(tt.run_outputs, (_O.run_id == _L.source_run_id) & (_O.model_id == _L.id))
    .where(_L.source_run_id == bindparam("run"), _L.name == bindparam("path"),
           _L.lifecycle_stage == "active"),
    _RUN_METRICS,
    _RUN_PARAMS,
)  # fmt: skip
# A run's latest metrics and its params alone (the values of a run other than the source's).
_RUN_VALUES = union_all(_RUN_METRICS, _RUN_PARAMS)
_MODEL_SOURCE = union_all(
    select(literal(_METRIC), _M.key, _NO_TEXT, _M.value, _flag(_M.is_nan),
           cast(_M.step, BigInteger), cast(_M.timestamp, BigInteger), cast(_M.id, BigInteger))
    .where(_M.model_id == bindparam("model")),
    _entries_under("model", bindparam("model")),
    select(literal(_PARAM), tt.logged_model_params.c.key, tt.logged_model_params.c.value,
           _NO_NUMBER, _NO_BIG, _NO_BIG, _NO_BIG, _NO_BIG)
    .where(tt.logged_model_params.c.model_id == bindparam("model")),
)  # fmt: skip


@dataclass(slots=True)
class SourceRows:
    """What a run or logged model holds for a registration from it: the experiment of a run
    (None: no such run), index entries at or under a path (path, digest, size), the
    logged models a run produced under that name (id, experiment_id, created_at, step), the
    latest finite metric values and the params."""

    experiment_id: str | None = None
    entries: list[tuple[str, str, int]] = field(default_factory=list)
    outputs: list[tuple[str, str, int, int]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def _under(path: str) -> dict[str, Any]:
    prefix = f"{path}/" if path else ""
    return {"path": path, "prefix": prefix, "prefix_length": len(prefix)}


def run_source(conn: Connection, run_id: str, path: str) -> SourceRows:
    """``run_id``'s rows for registering ``runs:/<run_id>/<path>``, in one statement."""
    return _run_rows(conn.execute(_RUN_SOURCE, {"run": run_id, **_under(path)}))


def run_values(conn: Connection, run_id: str) -> tuple[dict[str, float], dict[str, str]]:
    """A run's latest finite metric values and its params."""
    found = _run_rows(conn.execute(_RUN_VALUES, {"run": run_id}))
    return found.metrics, found.params


def _run_rows(rows: Any) -> SourceRows:
    found = SourceRows()
    for kind, a, b, number, n1, n2, _n3, _n4 in rows:
        if kind == _ENTRY:
            found.entries.append((a, b, n1))
        elif kind == _METRIC:
            if _finite(number, bool(n1)):
                found.metrics[a] = number
        elif kind == _PARAM:
            found.params[a] = b
        elif kind == _OUTPUT:
            found.outputs.append((a, b, n1, n2))
        else:
            found.experiment_id = b
    return found


def model_source(conn: Connection, model_id: str, path: str) -> SourceRows:
    """A logged model's entries at or under ``path`` and its values (the last reported value
    of each finite metric, and its params), in one statement."""
    found = SourceRows()
    latest: dict[str, tuple[tuple[int, int, int], float | None]] = {}
    for kind, a, b, number, n1, step, at, seq in conn.execute(
        _MODEL_SOURCE, {"model": model_id, **_under(path)}
    ):
        if kind == _ENTRY:
            found.entries.append((a, b, n1))
        elif kind == _METRIC:
            order = (step, at, seq)
            if a not in latest or order > latest[a][0]:
                latest[a] = (order, float(number) if _finite(number, bool(n1)) else None)
        else:
            found.params[a] = b
    found.metrics = {k: v for k, (_order, v) in latest.items() if v is not None}
    return found


def _finite(value: Any, is_nan: bool) -> bool:
    # A version's metrics are a searchable snapshot of numbers: NaN and infinities stay in
    # the run's history and are left out of it.
    return not is_nan and value is not None and math.isfinite(value)
