"""JSON responses serialised with orjson (FastAPI skips its own validation for a Response)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from registre.server.schemas import ErrorOut

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (400, "Invalid input (bad name, stage, path, reference, filter, ...)"),
        (404, "Unknown model, version, alias, tag or file"),
        (409, "Already exists, or conflicts with the current state"),
        (422, "Malformed request body or parameters"),
        (500, "Internal error, or stored bytes that fail their integrity check"),
    )
}


def json_response(
    content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    # (The MLflow door sends metric values through serializers.number(): NaN and infinities go
    # out as strings, so no bare float here is non-finite, which orjson would write as null.)
    try:
        body = orjson.dumps(content)
    except orjson.JSONEncodeError:
        # What orjson refuses and the standard library writes: an error message quoting a
        # lone surrogate (escaped as \udXXX), history recorded before details were checked.
        body = json.dumps(content).encode()
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


def error_response(
    status_code: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status_code, headers)


def no_content() -> Response:
    return Response(status_code=204)
