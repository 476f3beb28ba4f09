"""Scoring errors in MLflow's shape: ``{"error_code": "...", "message": "..."}`` + an HTTP status.

The scoring server answers every failure with one of these and never with a traceback: input
problems are 4xx naming the problem, anything unexpected a logged 500.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from registre.domain.errors import InvalidInput, NotFound, PayloadTooLarge, RegistreError
from registre.packaging.inputs import MalformedPayload

BAD_REQUEST = "BAD_REQUEST"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
INTERNAL_ERROR = "INTERNAL_ERROR"


class ScoringError(Exception):
    """A failure to report to the caller as it is."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


class ModelFailed(Exception):
    """The model's own predict raised on this input (MLflow answers 400 BAD_REQUEST)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"the model failed on this input: {type(error).__name__}: {error}")
        self.error = error


def as_scoring_error(error: BaseException) -> ScoringError:
    """Map what parsing, checking or predicting raised onto a status and an MLflow code."""
    if isinstance(error, ScoringError):
        return error
    if isinstance(error, MalformedPayload):
        return ScoringError(400, BAD_REQUEST, error.message)
    if isinstance(error, PayloadTooLarge):
        return ScoringError(413, BAD_REQUEST, error.message)
    if isinstance(error, InvalidInput):
        return ScoringError(400, INVALID_PARAMETER_VALUE, error.message)
    if isinstance(error, NotFound):
        return ScoringError(404, RESOURCE_DOES_NOT_EXIST, error.message)
    if isinstance(error, ModelFailed):
        return ScoringError(400, BAD_REQUEST, str(error))
    if isinstance(error, RegistreError):
        return ScoringError(error.status, error.code, error.message)
    return ScoringError(500, INTERNAL_ERROR, "internal error (details are in the server log)")


def error_response(
    error: ScoringError, headers: Mapping[str, str] | None = None, *, v2: bool = False
) -> Response:
    body: dict[str, str] = {"error_code": error.error_code, "message": error.message}
    if v2:
        body = {"error": error.message, **body}  # the Open Inference Protocol's key
    return Response(
        orjson.dumps(body), error.status, headers=headers, media_type="application/json"
    )
