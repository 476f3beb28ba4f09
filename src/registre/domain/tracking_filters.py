"""Search filters for runs and logged models: comparisons joined by AND (as MLflow allows).

``metrics.rmse < 0.5 and params.alpha = '0.1' and attributes.status = 'FINISHED'``
``name = 'model' AND source_run_id IN ('abc', 'def')``

Parsed into a list of :class:`Condition`; :func:`matches` evaluates them against a lookup
function (the entity's value for a field, or None when it has none).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from registre.domain.errors import InvalidInput
from registre.domain.filters import MAX_FILTER_TERMS
from registre.domain.tracking import Experiment, LoggedModel, Run

T = TypeVar("T")
Kind = Literal["attr", "tag", "param", "metric"]
Scalar = str | float
_PREFIXES: dict[str, Kind] = {
    "attribute": "attr", "attributes": "attr", "attr": "attr", "run": "attr",
    "tag": "tag", "tags": "tag",
    "param": "param", "params": "param", "parameter": "param", "parameters": "param",
    "metric": "metric", "metrics": "metric",
}  # fmt: skip
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
      | (?P<backtick>`[^`]*`)
      | (?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
      | (?P<op><=|>=|!=|<>|==|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-.]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Condition:
    kind: Kind
    key: str
    op: str
    value: Scalar | tuple[Scalar, ...]


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pos, text = 0, text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise InvalidInput(f"invalid filter near {text[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        pos = match.end()
    return found


def _unquote(token: str) -> str:
    body = token[1:-1]
    if token[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", r"\1", body)


def _field(tok: tuple[str, str], rest: list[tuple[str, str]]) -> tuple[Kind, str]:
    kind, text = tok
    if kind == "backtick":
        return "attr", text[1:-1]
    if kind != "word":
        raise InvalidInput(f"invalid filter: expected a field, got {text!r}")
    head, dot, key = text.partition(".")
    if dot and head.lower() in _PREFIXES:
        if not key and rest and rest[0][0] in ("backtick", "string"):
            key = _unquote(rest.pop(0)[1])
        if not key:
            raise InvalidInput(f"invalid filter: missing key after {head}.")
        return _PREFIXES[head.lower()], key
    if head.lower() in _PREFIXES and rest and rest[0][0] in ("backtick", "string"):
        raise InvalidInput(f"invalid filter: write {head}.`key`")
    return "attr", text


def _value(tok: tuple[str, str]) -> Scalar:
    kind, text = tok
    if kind == "string":
        return _unquote(text)
    if kind == "number":
        return float(text)
    raise InvalidInput(f"invalid filter: expected a value, got {text!r}")


def parse(text: str | None) -> list[Condition]:
    """``"a = 'x' AND metrics.m > 1"`` → two conditions; blank → no condition."""
    if text is None or not text.strip():
        return []
    toks = _tokens(text)
    conditions: list[Condition] = []
    while toks:
        kind, key = _field(toks.pop(0), toks)
        if not toks:
            raise InvalidInput(f"invalid filter {text!r}: unexpected end")
        op_kind, op_text = toks.pop(0)
        negate = False
        if op_kind == "word" and op_text.upper() == "NOT" and toks:
            negate, (op_kind, op_text) = True, toks.pop(0)
        upper = op_text.upper()
        if op_kind == "word" and upper == "IN":
            if not toks or toks.pop(0)[1] != "(":
                raise InvalidInput(f"invalid filter {text!r}: expected '(' after IN")
            values: list[Scalar] = []
            while toks and toks[0][1] != ")":
                values.append(_value(toks.pop(0)))
                if toks and toks[0][1] == ",":
                    toks.pop(0)
            if not toks or not values:
                raise InvalidInput(f"invalid filter {text!r}: unclosed IN list")
            toks.pop(0)
            conditions.append(Condition(kind, key, "NOT IN" if negate else "IN", tuple(values)))
        elif negate:
            raise InvalidInput(f"invalid filter {text!r}: NOT must be followed by IN")
        elif op_kind == "op" or (op_kind == "word" and upper in ("LIKE", "ILIKE")):
            op = {"==": "=", "<>": "!="}.get(op_text, upper)
            if not toks:
                raise InvalidInput(f"invalid filter {text!r}: missing value")
            conditions.append(Condition(kind, key, op, _value(toks.pop(0))))
        else:
            raise InvalidInput(f"invalid filter {text!r}: expected an operator, got {op_text!r}")
        if len(conditions) > MAX_FILTER_TERMS:
            raise InvalidInput(f"invalid filter: more than {MAX_FILTER_TERMS} comparisons")
        if toks:
            word = toks.pop(0)
            if word[0] != "word" or word[1].upper() != "AND" or not toks:
                raise InvalidInput(f"invalid filter {text!r}: only AND may join comparisons")
    return conditions


def _like(pattern: str, value: str, flags: int = 0) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags | re.DOTALL) is not None


def _compare(actual: Scalar, op: str, expected: Scalar) -> bool:
    if isinstance(actual, float) or isinstance(expected, float):
        try:
            left, right = float(actual), float(expected)
        except ValueError:
            return False
        if math.isnan(left):
            return False
        return {
            "=": left == right, "!=": left != right, "<": left < right,
            "<=": left <= right, ">": left > right, ">=": left >= right,
        }.get(op, False)  # fmt: skip
    left_s, right_s = str(actual), str(expected)
    if op == "LIKE":
        return _like(right_s, left_s)
    if op == "ILIKE":
        return _like(right_s, left_s, re.IGNORECASE)
    return {
        "=": left_s == right_s, "!=": left_s != right_s, "<": left_s < right_s,
        "<=": left_s <= right_s, ">": left_s > right_s, ">=": left_s >= right_s,
    }.get(op, False)  # fmt: skip


def matches(
    conditions: list[Condition],
    lookup: Callable[[Condition], Scalar | None],
    *,
    missing: bool = True,
) -> bool:
    """True when every condition holds. A missing value satisfies only ``!=`` and NOT IN — or,
    with ``missing=False`` (MLflow's experiment search: a join on the tag), nothing."""
    for cond in conditions:
        actual = lookup(cond)
        if actual is None:
            if missing and cond.op in ("!=", "NOT IN"):
                continue
            return False
        if cond.op in ("IN", "NOT IN"):
            assert isinstance(cond.value, tuple)
            found = any(_compare(actual, "=", v) for v in cond.value)
            if found != (cond.op == "IN"):
                return False
        elif not _compare(actual, cond.op, cond.value):  # type: ignore[arg-type]
            return False
    return True


def parse_order(clause: str) -> tuple[str, bool]:
    """``"metrics.acc DESC"`` → ``("metrics.acc", False)`` (field, ascending)."""
    text, _, direction = clause.strip().rpartition(" ")
    if direction.upper() not in ("ASC", "DESC"):
        return clause.strip(), True
    return text.strip(), direction.upper() == "ASC"


def select(
    items: Sequence[T],
    filter: str | None,
    order: Sequence[tuple[str, bool]],
    value: Callable[[T, Condition], Scalar | None],
) -> list[T]:
    """The items matching ``filter``, sorted by ``order`` (field, ascending); items without a
    value for a sort field come last, as in MLflow."""
    conditions = parse(filter)
    found = [item for item in items if matches(conditions, lambda c, i=item: value(i, c))]  # type: ignore[misc]
    for field, ascending in reversed(order):
        cond = parse(f"{field} = 0")[0]
        present = [(value(i, cond), i) for i in found]
        ranked = sorted(
            ((v, i) for v, i in present if v is not None),
            key=lambda pair: (isinstance(pair[0], str), pair[0]),
            reverse=not ascending,
        )
        found = [i for _, i in ranked] + [i for v, i in present if v is None]
    return found


def run_value(run: Run, cond: Condition) -> Scalar | None:
    if cond.kind == "metric":
        return next((m.value for m in run.metrics if m.key == cond.key), None)
    if cond.kind == "param":
        return run.params.get(cond.key)
    if cond.kind == "tag":
        return run.tags.get(cond.key)
    attrs: dict[str, Scalar | None] = {
        "run_id": run.id, "run_name": run.name, "status": run.status.value,
        "user_id": run.user_id, "artifact_uri": run.artifact_uri,
        "lifecycle_stage": run.lifecycle_stage, "start_time": float(run.start_time),
        "end_time": None if run.end_time is None else float(run.end_time),
    }  # fmt: skip
    if cond.key not in attrs:
        raise InvalidInput(f"invalid filter: unknown run attribute {cond.key!r}")
    return attrs[cond.key]


def model_value(model: LoggedModel, cond: Condition) -> Scalar | None:
    if cond.kind == "metric":
        return next((m.value for m in model.metrics if m.key == cond.key), None)
    if cond.kind == "param":
        return model.params.get(cond.key)
    if cond.kind == "tag":
        return model.tags.get(cond.key)
    attrs: dict[str, Scalar | None] = {
        "name": model.name, "model_id": model.id, "source_run_id": model.source_run_id,
        "status": model.status.value, "model_type": model.model_type,
        "experiment_id": model.experiment_id, "creation_timestamp": float(model.created_at),
        "creation_time": float(model.created_at),
        "last_updated_timestamp": float(model.updated_at),
    }  # fmt: skip
    if cond.key not in attrs:
        raise InvalidInput(f"invalid filter: unknown logged model attribute {cond.key!r}")
    return attrs[cond.key]


def experiment_value(experiment: Experiment, cond: Condition) -> Scalar | None:
    if cond.kind == "tag":
        return experiment.tags.get(cond.key)
    attrs: dict[str, Scalar | None] = {
        "name": experiment.name, "experiment_id": experiment.id,
        "lifecycle_stage": experiment.lifecycle_stage,
        "creation_time": float(experiment.created_at),
        "last_update_time": float(experiment.updated_at),
    }  # fmt: skip
    if cond.key not in attrs:
        raise InvalidInput(f"invalid filter: unknown experiment attribute {cond.key!r}")
    return attrs[cond.key]


def experiment_sort_key(experiment: Experiment, field: str) -> str | int:
    """The value an experiment search orders by (names by code point)."""
    if field == "name":
        return experiment.name
    if field == "experiment_id":
        return int(experiment.id)
    return experiment.created_at if field == "creation_time" else experiment.updated_at
