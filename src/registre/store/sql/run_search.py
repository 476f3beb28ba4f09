"""SQL that narrows a run search before its exact filter runs in Python.

``domain.tracking_filters`` holds the semantics of MLflow's run filters (numbers against strings,
NaN, missing values). Each clause built here keeps every run that could match its condition —
the same rows, for the comparisons SQL states exactly, or more — so the exact filter then only
sees candidates: a search over thousands of runs loads the few that can match.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, false

from registre.domain.tracking_filters import Condition
from registre.store.sql import tracking_tables as tt

_R = tt.runs.c
_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}
# Ops a run without the key never satisfies (a missing value matches only != and NOT IN).
_NEEDS_KEY = _NUMERIC_OPS | {"LIKE", "ILIKE", "IN"}
_KEYED = {"metric": tt.run_latest_metrics, "param": tt.run_params, "tag": tt.run_tags}
_TEXT_ATTRS = {"run_name": _R.name, "status": _R.status, "user_id": _R.user_id}


def narrowing(conditions: list[Condition]) -> list[ColumnElement[bool]]:
    """WHERE clauses on ``runs`` implied by ``conditions`` (an empty list narrows nothing)."""
    clauses = []
    for cond in conditions:
        clause = _clause(cond)
        if clause is not None:
            clauses.append(clause)
    return clauses


def _clause(cond: Condition) -> ColumnElement[bool] | None:
    if cond.op not in _NEEDS_KEY:
        return None
    value = cond.value
    if cond.kind == "attr":
        column = _TEXT_ATTRS.get(cond.key)
        if column is not None and cond.op == "=" and isinstance(value, str):
            return column == value
        return None
    table = _KEYED[cond.kind]
    row = [table.c.run_id == _R.id, table.c.key == cond.key]
    if cond.kind == "metric" and cond.op in _NUMERIC_OPS and isinstance(value, float):
        row += [table.c.is_nan == false(), _compare(table.c.value, cond.op, value)]
    elif cond.kind != "metric" and cond.op == "=" and isinstance(value, str):
        row.append(table.c.value == value)
    elif (
        cond.kind != "metric"
        and cond.op == "IN"
        and isinstance(value, tuple)
        and all(isinstance(v, str) for v in value)
    ):
        row.append(table.c.value.in_(list(value)))
    return exists().where(*row)


def _compare(column: Any, op: str, value: float) -> ColumnElement[bool]:
    return {
        "=": column == value, "<": column < value, "<=": column <= value,
        ">": column > value, ">=": column >= value,
    }[op]  # fmt: skip
