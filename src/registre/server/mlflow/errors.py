"""MLflow's error shape, mapped once: ``{"error_code": ..., "message": ...}`` + HTTP status."""

from __future__ import annotations

import logging

from registre.domain.errors import (
    AlreadyExists,
    Conflict,
    IntegrityError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RegistreError,
    StorageFull,
    Unavailable,
    UnsafeModel,
)

log = logging.getLogger("registre.mlflow")

# The official server's code → status table (for the codes this door emits).
STATUS = {
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "ABORTED": 409,
    "PERMISSION_DENIED": 403,
    "UNAUTHENTICATED": 401,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "INTERNAL_ERROR": 500,
    "DATA_LOSS": 500,
    # The official server answers RESOURCE_EXHAUSTED with 429, which its client retries as a
    # rate limit; a full disk is not one: 507, which the client reports at once.
    "RESOURCE_EXHAUSTED": 507,
}
_CODES: list[tuple[type[RegistreError], str]] = [
    (NotFound, "RESOURCE_DOES_NOT_EXIST"),
    (AlreadyExists, "RESOURCE_ALREADY_EXISTS"),
    (InvalidInput, "INVALID_PARAMETER_VALUE"),
    (UnsafeModel, "INVALID_PARAMETER_VALUE"),
    (PayloadTooLarge, "INVALID_PARAMETER_VALUE"),
    (Conflict, "RESOURCE_CONFLICT"),
    (PermissionDenied, "PERMISSION_DENIED"),
    (IntegrityError, "DATA_LOSS"),
    (StorageFull, "RESOURCE_EXHAUSTED"),
    (Unavailable, "TEMPORARILY_UNAVAILABLE"),  # the client retries these
]


class MlflowError(Exception):
    """An error already in MLflow's terms (raised by the door itself)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_body(exc: BaseException) -> tuple[int, dict[str, str]]:
    """The HTTP status and JSON body an MLflow client expects for ``exc``."""
    if isinstance(exc, MlflowError):
        code, message = exc.code, exc.message
    elif isinstance(exc, RegistreError):
        code = next((c for kind, c in _CODES if isinstance(exc, kind)), "INTERNAL_ERROR")
        message = exc.message
        if code == "INTERNAL_ERROR":
            log.error("unmapped error: %s", exc)
    else:
        log.exception("internal error in the MLflow API", exc_info=exc)
        code, message = "INTERNAL_ERROR", "internal server error (see the server log)"
    status = 413 if isinstance(exc, PayloadTooLarge) else STATUS.get(code, 500)
    return status, {"error_code": code, "message": message}


def not_found_endpoint(method: str, path: str) -> MlflowError:
    return MlflowError("ENDPOINT_NOT_FOUND", f"no MLflow endpoint {method} {path}")
