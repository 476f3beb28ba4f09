"""Validation of user-supplied names, tag keys and artifact paths."""

from __future__ import annotations

import posixpath
import re

from registre.domain.errors import InvalidInput

MAX_NAME_LENGTH = 256
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5000
MAX_DESCRIPTION_LENGTH = 65536
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,254}$")


def check_model_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("model name must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"model name is longer than {MAX_NAME_LENGTH} characters")
    if "/" in name or "\\" in name:
        raise InvalidInput(f"model name {name!r} must not contain '/' or '\\'")
    if _CONTROL.search(name):
        raise InvalidInput("model name must not contain control characters")
    if name != name.strip():
        raise InvalidInput(f"model name {name!r} must not start or end with whitespace")
    return name


def check_alias(alias: object) -> str:
    if not isinstance(alias, str) or not _ALIAS.match(alias):
        raise InvalidInput(
            f"invalid alias {alias!r}: use letters, digits, '_' or '-' (first: a letter or '_')"
        )
    if alias.lower() == "latest" or re.fullmatch(r"v\d+", alias.lower()):
        raise InvalidInput(f"alias {alias!r} is reserved")
    return alias


def check_tag(key: object, value: object = "") -> tuple[str, str]:
    if not isinstance(key, str) or not key or len(key) > MAX_TAG_KEY_LENGTH:
        raise InvalidInput(f"tag key must be 1 to {MAX_TAG_KEY_LENGTH} characters")
    if _CONTROL.search(key):
        raise InvalidInput("tag key must not contain control characters")
    if not isinstance(value, str):
        raise InvalidInput(f"tag {key!r}: value must be a string")
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInput(f"tag {key!r}: value is longer than {MAX_TAG_VALUE_LENGTH} characters")
    return key, value


def check_description(text: object) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InvalidInput("description must be a string")
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInput(f"description is longer than {MAX_DESCRIPTION_LENGTH} characters")
    return text


def check_version(version: object) -> int:
    """Accept 3 or "3"; reject anything that is not a positive integer."""
    if isinstance(version, bool):
        raise InvalidInput(f"invalid version {version!r}: expected a positive integer")
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isascii() and version.strip().isdigit():
        number = int(version.strip())
    else:
        raise InvalidInput(f"invalid version {version!r}: expected a positive integer")
    if number < 1 or number > 2**31 - 1:
        raise InvalidInput(f"invalid version {version!r}: expected a positive integer")
    return number


def check_artifact_path(path: object) -> str:
    """A relative POSIX path inside a model version; never escapes it.

    Rejects absolute paths, ``..`` segments, backslashes, NUL and control characters, and
    returns the normalised form (``a//b/./c`` → ``a/b/c``).
    """
    if not isinstance(path, str) or not path:
        raise InvalidInput("artifact path must be a non-empty string")
    if "\\" in path:
        raise InvalidInput(f"artifact path {path!r} must not contain backslashes")
    if _CONTROL.search(path):
        raise InvalidInput("artifact path must not contain NUL or control characters")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "://" in path:
        raise InvalidInput(f"artifact path {path!r} must be relative")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInput(f"artifact path {path!r} must not contain '..'")
    if not parts:
        raise InvalidInput(f"artifact path {path!r} names no file")
    if len(path) > 1024:
        raise InvalidInput("artifact path is longer than 1024 characters")
    return posixpath.join(*parts)
