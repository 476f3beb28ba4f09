"""SQL that narrows a run or logged-model search before its exact filter runs in Python.

``domain.tracking_filters`` holds the semantics of MLflow's filters (numbers against strings,
NaN, missing values). Each clause built here keeps every row that could match its condition —
the same rows, for the comparisons SQL states exactly, or more — so the exact filter then only
sees candidates: a search over thousands of runs or models loads the few that can match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, exists, false

from registre.domain.tracking_filters import Condition
from registre.store.sql import tracking_tables as tt

_NUMERIC_OPS = {"=", "<", "<=", ">", ">="}
# Ops a row without the key never satisfies (a missing value matches only != and NOT IN).
_NEEDS_KEY = _NUMERIC_OPS | {"LIKE", "ILIKE", "IN"}


@dataclass(frozen=True)
class _Searched:
    """What a search's conditions can be checked against: the searched rows' id, the keyed
    tables (metrics, params, tags) with the column naming their owner, and text attributes."""

    id: Any
    keyed: dict[str, tuple[Table, Any]]
    attrs: dict[str, Any]


_RUNS = _Searched(
    tt.runs.c.id,
    {
        # a run's filter sees each metric's latest value
        "metric": (tt.run_latest_metrics, tt.run_latest_metrics.c.run_id),
        "param": (tt.run_params, tt.run_params.c.run_id),
        "tag": (tt.run_tags, tt.run_tags.c.run_id),
    },
    {"run_name": tt.runs.c.name, "status": tt.runs.c.status, "user_id": tt.runs.c.user_id},
)
_MODELS = _Searched(
    tt.logged_models.c.id,
    {
        # a logged model's filter sees the latest of its points: if that one matches, some
        # point does, so "some point matches" keeps every candidate
        "metric": (tt.run_metrics, tt.run_metrics.c.model_id),
        "param": (tt.logged_model_params, tt.logged_model_params.c.model_id),
        "tag": (tt.logged_model_tags, tt.logged_model_tags.c.model_id),
    },
    {
        "name": tt.logged_models.c.name,
        "status": tt.logged_models.c.status,
        "model_type": tt.logged_models.c.model_type,
        "source_run_id": tt.logged_models.c.source_run_id,
    },
)


def narrowing(conditions: list[Condition]) -> list[ColumnElement[bool]]:
    """WHERE clauses on ``runs`` implied by ``conditions`` (an empty list narrows nothing)."""
    return _narrowing(_RUNS, conditions)


def model_narrowing(conditions: list[Condition]) -> list[ColumnElement[bool]]:
    """WHERE clauses on ``logged_models`` implied by ``conditions``."""
    return _narrowing(_MODELS, conditions)


def _narrowing(searched: _Searched, conditions: list[Condition]) -> list[ColumnElement[bool]]:
    clauses = []
    for cond in conditions:
        clause = _clause(searched, cond)
        if clause is not None:
            clauses.append(clause)
    return clauses


def _clause(searched: _Searched, cond: Condition) -> ColumnElement[bool] | None:
    if cond.op not in _NEEDS_KEY:
        return None
    value = cond.value
    if cond.kind == "attr":
        column = searched.attrs.get(cond.key)
        if column is not None and cond.op == "=" and isinstance(value, str):
            return column == value
        return None
    table, owner = searched.keyed[cond.kind]
    row = [owner == searched.id, table.c.key == cond.key]
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
