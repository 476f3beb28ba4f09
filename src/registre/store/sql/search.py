"""Compile the search AST (domain.filters) into SQLAlchemy expressions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement as _Col

from registre.domain.errors import InvalidInput
from registre.domain.filters import BoolOp, Compare, Field, Node, OrderBy
from registre.store.sql import tables as t

_VERSION_ATTRS: dict[str, Any] = {
    "name": t.models.c.name,
    "version": t.versions.c.version,
    "stage": t.versions.c.stage,
    "run_id": t.versions.c.run_id,
    "source": t.versions.c.source,
    "status": t.versions.c.status,
    "description": t.versions.c.description,
    "created_at": t.versions.c.created_at,
    "updated_at": t.versions.c.updated_at,
    "created_by": t.versions.c.created_by,
}
_MODEL_ATTRS: dict[str, Any] = {
    "name": t.models.c.name,
    "description": t.models.c.description,
    "created_at": t.models.c.created_at,
    "updated_at": t.models.c.updated_at,
}


def _apply(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "LIKE":
        return column.like(value)
    if op == "ILIKE":
        return column.ilike(value)
    if op == "IN":
        return column.in_(list(value))
    if op == "NOT IN":
        return column.not_in(list(value))
    raise InvalidInput(f"unsupported operator {op}")


def _coerce(field: Field, op: str, value: Any) -> Any:
    numeric = field.kind == "metric" or field.name in ("version", "created_at", "updated_at")
    if field.name == "stage" and field.kind == "attr":
        from registre.domain.entities import Stage

        if op in ("=", "!=", "IN", "NOT IN"):
            if isinstance(value, tuple):
                return tuple(Stage.parse(str(v)).value for v in value)
            return Stage.parse(str(value)).value
    if numeric:
        if isinstance(value, tuple):
            return tuple(float(v) for v in value)
        return float(value)
    if isinstance(value, tuple):
        return tuple(str(v) for v in value)
    return str(value)


def _keyed_exists(
    table: Any, owner_col: Any, owner: Any, key: str, op: str, value: Any
) -> ColumnElement[bool]:
    negative = op in ("!=", "NOT IN")
    positive_op = {"!=": "=", "NOT IN": "IN"}.get(op, op)
    match = exists().where(
        owner_col == owner, table.c.key == key, _apply(table.c.value, positive_op, value)
    )
    # "tags.k != 'v'" matches rows whose tag k is absent too (as MLflow does for is_prompt).
    return not_(match) if negative else match


def version_condition(node: Node | None) -> ColumnElement[bool]:
    if node is None:
        return true()
    if isinstance(node, BoolOp):
        parts = [version_condition(item) for item in node.items]
        return and_(*parts) if node.op == "AND" else or_(*parts)
    assert isinstance(node, Compare)
    field, op = node.field, node.op
    value = _coerce(field, op, node.value)
    vid = t.versions.c.id
    if field.kind == "tag":
        return _keyed_exists(
            t.version_tags, t.version_tags.c.version_id, vid, field.name, op, value
        )
    if field.kind == "metric":
        return _keyed_exists(
            t.version_metrics, t.version_metrics.c.version_id, vid, field.name, op, value
        )
    if field.kind == "param":
        return _keyed_exists(
            t.version_params, t.version_params.c.version_id, vid, field.name, op, value
        )
    if field.name == "alias":
        negative = op in ("!=", "NOT IN")
        positive_op = {"!=": "=", "NOT IN": "IN"}.get(op, op)
        match = exists().where(
            t.aliases.c.version_id == vid, _apply(t.aliases.c.alias, positive_op, value)
        )
        return not_(match) if negative else match
    column = _VERSION_ATTRS.get(field.name)
    if column is None:
        raise InvalidInput(f"cannot filter versions on {field.name!r}")
    return _apply(column, op, value)


def model_condition(node: Node | None) -> ColumnElement[bool]:
    if node is None:
        return true()
    if isinstance(node, BoolOp):
        parts = [model_condition(item) for item in node.items]
        return and_(*parts) if node.op == "AND" else or_(*parts)
    assert isinstance(node, Compare)
    field, op = node.field, node.op
    value = _coerce(field, op, node.value)
    mid = t.models.c.id
    if field.kind == "tag":
        return _keyed_exists(t.model_tags, t.model_tags.c.model_id, mid, field.name, op, value)
    if field.kind == "attr" and field.name == "alias":
        return exists().where(t.aliases.c.model_id == mid, _apply(t.aliases.c.alias, op, value))
    if field.kind != "attr" or field.name not in _MODEL_ATTRS:
        raise InvalidInput(
            f"cannot filter models on {field.kind}.{field.name}"
            if field.kind != "attr"
            else f"cannot filter models on {field.name!r}"
        )
    return _apply(_MODEL_ATTRS[field.name], op, value)


def version_order(order: list[OrderBy]) -> list[Any]:
    clauses: list[Any] = []
    for item in order:
        field = item.field
        if field.kind == "metric":
            column: _Col[Any] = (
                select(t.version_metrics.c.value)
                .where(
                    t.version_metrics.c.version_id == t.versions.c.id,
                    t.version_metrics.c.key == field.name,
                )
                .scalar_subquery()
            )
        elif field.kind == "attr" and field.name in _VERSION_ATTRS:
            column = _VERSION_ATTRS[field.name]
        else:
            raise InvalidInput(f"cannot order versions by {field.kind}.{field.name}")
        clauses.append(column.desc().nulls_last() if item.descending else column.asc().nulls_last())
    # Ties fall back to the natural order: by name, then newest version first.
    named = {item.field.name for item in order if item.field.kind == "attr"}
    if "name" not in named:
        clauses.append(t.models.c.name.asc())
    if not named & {"version", "version_number"}:
        clauses.append(t.versions.c.version.desc())
    clauses.append(t.versions.c.id.desc())
    return clauses


def model_order(order: list[OrderBy]) -> list[Any]:
    clauses: list[Any] = []
    for item in order:
        field = item.field
        if field.kind != "attr" or field.name not in _MODEL_ATTRS:
            raise InvalidInput(f"cannot order models by {field.name!r}")
        column = _MODEL_ATTRS[field.name]
        clauses.append(column.desc() if item.descending else column.asc())
    clauses.append(t.models.c.name.asc())
    return clauses
