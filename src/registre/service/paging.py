"""Opaque page tokens and result-size limits shared by every search."""

from __future__ import annotations

import base64
import json

from registre.domain.errors import InvalidInput

MAX_RESULTS_LIMIT = 200_000
MAX_OFFSET = 2**62  # SQL offsets are 64-bit; a token past this was never issued here


def check_max_results(value: object, default: int = 100) -> int:
    if value is None:
        return default
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput(f"max_results must be an integer, got {value!r}") from None
    if number < 1 or number > MAX_RESULTS_LIMIT:
        raise InvalidInput(f"max_results must be between 1 and {MAX_RESULTS_LIMIT}")
    return number


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode() + b"==").decode())["offset"]
    except (ValueError, KeyError, TypeError, RecursionError):  # (binascii and UTF-8 errors too)
        raise InvalidInput("invalid page_token") from None
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput("invalid page_token")
    return offset


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")
