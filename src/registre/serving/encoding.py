"""Request bodies in (JSON, CSV, Parquet) and MLflow's ``{"predictions": ...}`` out."""

from __future__ import annotations

import io
import json
from typing import Any, TypeAlias

import numpy as np
import orjson
import pandas as pd

from registre.packaging.inputs import MalformedPayload, ScoringPayload, parse_scoring_payload
from registre.packaging.inputs import to_jsonable as _to_jsonable
from registre.serving.errors import UNSUPPORTED_MEDIA_TYPE, ScoringError

JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = (JSON, CSV, PARQUET)

Decoded: TypeAlias = ScoringPayload | pd.DataFrame


def media_type(header: str | None) -> str:
    """``application/json; charset=utf-8`` → ``application/json``; refuses what is not served."""
    if not header:
        raise ScoringError(
            415, UNSUPPORTED_MEDIA_TYPE,
            f"no Content-Type: send one of {', '.join(CONTENT_TYPES)}",
        )  # fmt: skip
    mime, _, rest = header.partition(";")
    mime = mime.strip().lower()
    charset = next(
        (v.strip().strip('"').lower() for k, _, v in (p.partition("=") for p in rest.split(";"))
         if k.strip().lower() == "charset"),
        "utf-8",
    )  # fmt: skip
    if mime not in CONTENT_TYPES:
        raise ScoringError(
            415, UNSUPPORTED_MEDIA_TYPE,
            f"unsupported Content-Type {header!r}: send one of {', '.join(CONTENT_TYPES)}",
        )  # fmt: skip
    if charset not in ("utf-8", "utf8"):
        raise ScoringError(415, UNSUPPORTED_MEDIA_TYPE, "the scoring server only reads UTF-8")
    return mime


def load_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:  # NaN and Infinity are not JSON, but MLflow's clients send them
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedPayload(f"the body is not valid JSON: {exc}") from None


def decode(mime: str, body: bytes) -> Decoded:
    """The body as a checked scoring payload (JSON) or a DataFrame (CSV, Parquet)."""
    if mime == JSON:
        return parse_scoring_payload(load_json(body))
    try:
        if mime == CSV:
            return pd.read_csv(io.BytesIO(body))
        return pd.read_parquet(io.BytesIO(body))
    except Exception as exc:  # pandas raises many kinds for a bad file
        kind = "CSV" if mime == CSV else "Parquet"
        raise MalformedPayload(f"cannot read the body as {kind}: {exc}") from None


def predictions_body(predictions: Any) -> bytes:
    return dumps({"predictions": jsonable(predictions)})


def jsonable(predictions: Any) -> Any:
    """Predictions as MLflow returns them: frames as records, arrays as (nested) lists."""
    if isinstance(predictions, pd.DataFrame):
        return _to_jsonable(predictions.to_dict(orient="records"))
    if isinstance(predictions, pd.Series):
        return jsonable(predictions.to_numpy())
    if isinstance(predictions, np.ndarray):
        if predictions.dtype.kind in "biuf" and predictions.flags.c_contiguous:
            return predictions  # orjson writes these natively (NaN as null)
        return _to_jsonable(predictions)
    if isinstance(predictions, dict):
        return {str(k): jsonable(v) for k, v in predictions.items()}
    return _to_jsonable(predictions)


def dumps(content: Any) -> bytes:
    try:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
    except TypeError:
        return orjson.dumps(_to_jsonable(content))
