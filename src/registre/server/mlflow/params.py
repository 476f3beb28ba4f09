"""Request messages: GET from the query string, POST/PATCH/DELETE from the JSON body.

GET lists are repeated keys and numbers arrive as strings; JSON int64 may be a number or a
numeric string. Wrong types are INVALID_PARAMETER_VALUE, never a server error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from registre.server.mlflow.errors import MlflowError


def _invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def invalid_value(name: str, value: Any, hint: str = "") -> MlflowError:
    """MLflow's wording: ``Invalid value 31 for parameter 'run_id' supplied: ...``."""
    try:
        shown = json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        shown = repr(value)
    hint = hint or f"Hint: Value was of type '{type(value).__name__}'."
    return _invalid(
        f"Invalid value {shown} for parameter '{name}' supplied: {hint} "
        "See the API docs for more information about request parameters."
    )


def missing_value(name: str) -> MlflowError:
    return _invalid(f"Missing value for required parameter '{name}'.")


class Params:
    def __init__(self, values: Mapping[str, Any], lists: Mapping[str, list[str]] | None = None):
        self._values = values
        self._lists = lists or {}

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def string(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise missing_value(name)
            return default
        if not isinstance(value, str):
            raise invalid_value(name, value)
        return value

    def run_id(self) -> str:
        """Run requests carry ``run_id`` and (legacy) ``run_uuid``."""
        found = self.string("run_id") or self.string("run_uuid")
        if not found:
            raise missing_value("run_id")
        return found

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        return integer_value(name, value)

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid_value(name, value)

    def strings(self, name: str) -> list[str]:
        if name in self._lists:
            return list(self._lists[name])
        value = self._values.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in items):
            raise invalid_value(name, value)
        return items

    def objects(self, name: str) -> list[dict[str, Any]]:
        value = self._values.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise invalid_value(name, value)
        return value

    def key_values(self, name: str) -> dict[str, str]:
        """``[{"key": k, "value": v}, ...]`` (tags, params) → ``{k: v}``."""
        result: dict[str, str] = {}
        for item in self.objects(name):
            key, value = item.get("key"), item.get("value", "")
            if not isinstance(key, str):
                raise _invalid(f"Invalid value for parameter '{name}': every item needs a key")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise _invalid(f"Invalid value for '{name}' {key!r}: expected a string value")
            result[key] = value
        return result


def integer_value(name: str, value: Any) -> int:
    """An int64 field: a JSON number or a numeric string (as protobuf's JSON mapping allows)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise invalid_value(name, value)
    try:
        number = int(value)
    except (ValueError, OverflowError):
        raise invalid_value(name, value) from None
    if isinstance(value, float) and number != value:
        raise invalid_value(name, value)
    return number
