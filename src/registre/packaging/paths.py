"""Paths named inside an MLmodel file, kept inside the model directory."""

from __future__ import annotations

from pathlib import Path

from registre.domain.errors import InvalidInput

MLMODEL_FILE = "MLmodel"


def inside(root: Path, relative: str) -> Path:
    # MLmodel files come from users: a crafted `pickled_model: ../../etc/x` must not make us
    # read (or unpickle) a file outside the model directory.
    if not isinstance(relative, str) or not relative:
        raise InvalidInput(f"invalid path {relative!r} in {root / MLMODEL_FILE}")
    base = root.resolve()
    candidate = (base / relative).resolve()
    if not candidate.is_relative_to(base):
        raise InvalidInput(f"path {relative!r} in {root / MLMODEL_FILE} leaves the model directory")
    return candidate
