"""The error hierarchy every door maps once (HTTP status + JSON body, CLI exit code)."""

from __future__ import annotations


class RegistreError(Exception):
    """Base class: a stable machine-readable ``code`` and an HTTP-like ``status``."""

    code = "INTERNAL_ERROR"
    status = 500
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(RegistreError):
    code = "NOT_FOUND"
    status = 404
    exit_code = 4


class AlreadyExists(RegistreError):
    code = "ALREADY_EXISTS"
    status = 409
    exit_code = 5


class InvalidInput(RegistreError):
    code = "INVALID_INPUT"
    status = 400
    exit_code = 2


class Conflict(RegistreError):
    code = "CONFLICT"
    status = 409
    exit_code = 5


class Unavailable(RegistreError):
    """Temporarily unable to serve (database busy, server unreachable): retrying may succeed."""

    code = "UNAVAILABLE"
    status = 503
    exit_code = 3


class PayloadTooLarge(RegistreError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    exit_code = 2


class IntegrityError(RegistreError):
    """Stored bytes do not match their recorded digest (corruption or tampering)."""

    code = "INTEGRITY_ERROR"
    status = 500
    exit_code = 6


class StorageFull(RegistreError):
    """No space left for the bytes or the rows: nothing was stored. Free space (for example
    ``registre db gc``) and retry."""

    code = "STORAGE_FULL"
    status = 507
    exit_code = 9


class PermissionDenied(RegistreError):
    code = "PERMISSION_DENIED"
    status = 403
    exit_code = 7


class UnsafeModel(RegistreError):
    """Loading would execute untrusted code (pickle) without an explicit opt-in."""

    code = "UNSAFE_MODEL"
    status = 400
    exit_code = 8
