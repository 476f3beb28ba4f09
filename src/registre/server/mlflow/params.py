"""Request messages: GET from the query string, POST/PATCH/DELETE from the JSON body.

GET lists are repeated keys and numbers arrive as strings; JSON int64 may be a number or a
numeric string. Wrong types are INVALID_PARAMETER_VALUE, never a server error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registre.server.mlflow.errors import MlflowError


def _invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


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
                raise _invalid(f"Missing value for required parameter '{name}'.")
            return default
        if not isinstance(value, str):
            raise _invalid(f"Invalid value {value!r} for parameter '{name}': expected a string")
        return value

    def run_id(self) -> str:
        """Run requests carry ``run_id`` and (legacy) ``run_uuid``."""
        return self.string("run_id") or self.string("run_uuid", required=True)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _invalid(f"Invalid value {value!r} for parameter '{name}': expected an integer")
        try:
            number = int(value)
        except ValueError:
            raise _invalid(
                f"Invalid value {value!r} for parameter '{name}': expected an integer"
            ) from None
        if isinstance(value, float) and number != value:
            raise _invalid(f"Invalid value {value!r} for parameter '{name}': expected an integer")
        return number

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _invalid(f"Invalid value {value!r} for parameter '{name}': expected a boolean")

    def strings(self, name: str) -> list[str]:
        if name in self._lists:
            return list(self._lists[name])
        value = self._values.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in items):
            raise _invalid(f"Invalid value {value!r} for parameter '{name}': expected strings")
        return items

    def objects(self, name: str) -> list[dict[str, Any]]:
        value = self._values.get(name)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise _invalid(f"Invalid value for parameter '{name}': expected a list of objects")
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
