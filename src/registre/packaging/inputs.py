"""Turning the input shapes callers use (records, columns, arrays) into frames and arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from registre.domain.errors import InvalidInput

ModelInput: TypeAlias = pd.DataFrame | np.ndarray | dict[str, np.ndarray]


def to_model_input(data: Any) -> ModelInput:
    if isinstance(data, pd.DataFrame | np.ndarray):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        return _from_mapping(data)
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if data and all(isinstance(row, Mapping) for row in data):
            return pd.DataFrame.from_records(list(data))
        return np.asarray(data)
    raise InvalidInput(
        f"unsupported model input of type {type(data).__name__}: pass a pandas "
        "DataFrame, a numpy array, a list of records or a dict of columns"
    )


def _from_mapping(data: Mapping[Any, Any]) -> ModelInput:
    values = list(data.values())
    if all(np.ndim(v) == 0 for v in values):
        return pd.DataFrame([dict(data)])  # one record
    arrays = {str(k): np.asarray(v) for k, v in data.items()}
    lengths = {len(a) for a in arrays.values() if a.ndim == 1}
    if all(a.ndim == 1 for a in arrays.values()) and len(lengths) == 1:
        return pd.DataFrame(arrays)
    return arrays  # tensors of different ranks or lengths: only named-tensor models take these


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


# ---- MLflow's scoring payloads (``mlflow models serve``'s JSON protocol) ---------------------
SCORING_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS_KEY = "params"


class MalformedPayload(InvalidInput):
    """The body is not a scoring payload at all (MLflow answers these with BAD_REQUEST)."""

    code = "BAD_REQUEST"


@dataclass(frozen=True)
class ScoringPayload:
    """One parsed scoring request: which format it used, its data, and its ``params``."""

    format: str  # one of SCORING_FORMATS
    data: Any  # the value under the format key, structurally checked
    params: dict[str, Any] | None = None

    def model_input(self) -> Any:
        """The data as ``Predictor.predict`` takes it (a DataFrame, records, rows, columns)."""
        if self.format == "dataframe_split":
            return pd.DataFrame(
                self.data["data"], columns=self.data.get("columns"), index=self.data.get("index")
            )
        return self.data


def parse_scoring_payload(payload: Any, *, allow_list: bool = False) -> ScoringPayload:
    """Check a decoded JSON body against MLflow's scoring protocol.

    ``{"dataframe_split": {"columns": [...], "data": [[...]]}}``, ``{"dataframe_records":
    [{...}]}``, ``{"instances": [...]}`` or ``{"inputs": ...}``, plus optional ``"params"``.
    ``allow_list`` also takes a bare list of records or rows (the CLI does; the server does not).

    >>> parse_scoring_payload({"inputs": [[1.0, 2.0]]}).data
    [[1.0, 2.0]]
    """
    if isinstance(payload, list) and allow_list:
        records = bool(payload) and all(isinstance(r, dict) for r in payload)
        return ScoringPayload("dataframe_records" if records else "instances", payload)
    if not isinstance(payload, dict):
        kind = "a list" if isinstance(payload, list) else f"a JSON {type(payload).__name__}"
        raise MalformedPayload(
            f"unrecognised JSON input: the body is {kind}; expected an object with one of the keys "
            f"{', '.join(SCORING_FORMATS)} (and optionally {PARAMS_KEY!r})"
        )
    unknown = sorted(k for k in payload if k not in SCORING_FORMATS and k != PARAMS_KEY)
    if unknown:
        raise MalformedPayload(
            f"unrecognised JSON input: unknown keys {unknown}; expected one of "
            f"{', '.join(SCORING_FORMATS)} (and optionally {PARAMS_KEY!r})"
        )
    present = [k for k in SCORING_FORMATS if k in payload]
    if len(present) != 1:
        found = "none" if not present else " and ".join(present)
        raise MalformedPayload(
            f"unrecognised JSON input: expected exactly one of {', '.join(SCORING_FORMATS)}; "
            f"found {found}"
        )
    fmt = present[0]
    params = payload.get(PARAMS_KEY)
    if params is not None and not isinstance(params, dict):
        raise MalformedPayload(f"{PARAMS_KEY!r} must be an object of parameter values")
    value = payload[fmt]
    if fmt == "dataframe_split":
        value = _split(value)
    elif fmt == "dataframe_records":
        value = _records(value, fmt)
    elif fmt == "instances" and not isinstance(value, list):
        raise MalformedPayload("'instances' must be a list")
    elif fmt == "inputs" and not isinstance(value, list | dict):
        raise MalformedPayload("'inputs' must be a list or an object of named inputs")
    return ScoringPayload(fmt, value, params or None)


def _split(value: Any) -> dict[str, Any]:
    where = "dataframe_split"
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where!r} must be an object with 'columns' and 'data'")
    extra = sorted(set(value) - {"columns", "data", "index"})
    if extra:
        raise MalformedPayload(f"unknown keys {extra} in {where!r}: expected columns, data, index")
    data, columns = value.get("data"), value.get("columns")
    if not isinstance(data, list):
        raise MalformedPayload(f"{where}.data must be a list of rows")
    if columns is not None and (
        not isinstance(columns, list) or not all(isinstance(c, str) for c in columns)
    ):
        raise MalformedPayload(f"{where}.columns must be a list of column names")
    width = len(columns) if columns is not None else None
    for number, row in enumerate(data):
        if not isinstance(row, list):
            raise MalformedPayload(f"{where}.data[{number}] is not a list of values")
        if width is not None and len(row) != width:
            raise MalformedPayload(
                f"{where}.data[{number}] has {len(row)} values for {width} columns"
            )
    index = value.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(data)):
        raise MalformedPayload(f"{where}.index must be a list as long as {where}.data")
    return value


def _records(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise MalformedPayload(f"{where} must be a list of records (objects)")
    return value
