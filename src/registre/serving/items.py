"""What a request asks a model to predict on: rows or tensors that can share a batch, or a
whole input predicted alone.

Rows are kept as plain lists until the batch is formed, so a batch costs one DataFrame and one
schema check however many callers it serves; tensors are stacked along their first axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput
from registre.packaging.enforcement import enforce_input
from registre.packaging.inputs import ScoringPayload
from registre.serving.versions import ServedVersion


@dataclass(slots=True)
class Rows:
    """Rows under named columns; batches with other Rows of the same columns."""

    columns: tuple[str, ...]
    rows: list[list[Any]]

    @property
    def key(self) -> tuple[Any, ...]:
        return ("rows", self.columns)

    def __len__(self) -> int:
        return len(self.rows)

    def model_input(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(self.columns))

    @staticmethod
    def join(items: list[Rows]) -> pd.DataFrame:
        rows = [row for item in items for row in item.rows]
        return pd.DataFrame(rows, columns=list(items[0].columns))


@dataclass(slots=True)
class Stack:
    """A tensor whose first axis is the batch; batches with tensors of the same row shape."""

    array: np.ndarray

    @property
    def key(self) -> tuple[Any, ...]:
        return ("stack", self.array.shape[1:], self.array.dtype.str)

    def __len__(self) -> int:
        return len(self.array)

    def model_input(self) -> np.ndarray:
        return self.array

    @staticmethod
    def join(items: list[Stack]) -> np.ndarray:
        return np.concatenate([item.array for item in items])


@dataclass(slots=True)
class Whole:
    """Any other input (tensors, columns, CSV frames, requests with params): predicted alone."""

    data: Any
    params: dict[str, Any] | None = None


Batchable = Rows | Stack
Item = Rows | Stack | Whole


def payload_item(payload: ScoringPayload, served: ServedVersion) -> Item:
    """The item for a parsed scoring payload; obvious schema problems are raised here, before
    the request waits for a batch."""
    if payload.params is None and served.row_wise:
        if served.tensor is not None:
            stack = _as_stack(payload, served)
            if stack is not None:
                return stack
        rows = _as_rows(payload, served)
        if rows is not None:
            check_columns(rows.columns, served)
            return rows
    return Whole(payload.model_input(), payload.params)


def _as_stack(payload: ScoringPayload, served: ServedVersion) -> Stack | None:
    data = payload.data
    if payload.format not in ("instances", "inputs") or not isinstance(data, list) or not data:
        return None
    try:
        array = np.asarray(data)
    except ValueError:
        return None  # ragged: the model's own checks will say what is wrong
    if array.dtype == object or array.ndim < 1:
        return None
    # Checked (and cast to the signature's dtype) now: a bad request fails alone, here.
    checked = enforce_input(array, served.predictor.input_schema)
    return Stack(checked) if isinstance(checked, np.ndarray) else None


def frame_item(frame: pd.DataFrame, served: ServedVersion) -> Item:
    check_columns(tuple(map(str, frame.columns)), served)
    return Whole(frame)


def check_columns(columns: tuple[str, ...], served: ServedVersion) -> None:
    if served.required and not served.required.issubset(columns):
        missing = [c for c in served.columns or () if c in served.required and c not in columns]
        raise InvalidInput(f"missing required column {missing[0]!r} (input has {list(columns)})")


def _as_rows(payload: ScoringPayload, served: ServedVersion) -> Rows | None:
    data = payload.data
    if payload.format == "dataframe_split":
        if "index" in data or data.get("columns") is None:
            return None  # an index is echoed by some models' output: keep pandas' handling
        return Rows(tuple(data["columns"]), data["data"])
    if not isinstance(data, list) or not data:
        return None
    first = data[0]
    if isinstance(first, dict):
        columns = tuple(first)
        keys = first.keys()
        if not all(isinstance(r, dict) and r.keys() == keys for r in data):
            return None  # ragged records: pandas fills the gaps
        return Rows(columns, [[r[c] for c in columns] for r in data])
    if payload.format != "dataframe_records" and served.columns is not None:
        width = len(served.columns)
        if all(isinstance(r, list) for r in data):
            for number, row in enumerate(data):
                if len(row) != width:
                    raise InvalidInput(
                        f"{payload.format}[{number}] has {len(row)} values; the model's "
                        f"signature has {width} columns {list(served.columns)}"
                    )
            return Rows(served.columns, data)
    return None
