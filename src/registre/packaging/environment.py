"""The environment files of a model: requirements.txt, python_env.yaml, conda.yaml."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import yaml

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_FILE = "conda.yaml"


def pinned(*distributions: str) -> list[str]:
    return [_pin(name) for name in distributions]


def _pin(name: str) -> str:
    try:
        return f"{name}=={metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return name


def write_environment(directory: Path, requirements: list[str]) -> dict[str, str]:
    python = platform.python_version()
    (directory / REQUIREMENTS_FILE).write_text("\n".join(requirements), encoding="utf-8")
    python_env = {
        "python": python,
        "build_dependencies": [*pinned("pip", "setuptools"), "wheel"],
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    _dump(directory / PYTHON_ENV_FILE, python_env)
    pip = _pin("pip").replace("==", "<=")
    conda = {
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", pip, {"pip": list(requirements)}],
        "name": "registre-env",
    }
    _dump(directory / CONDA_FILE, conda)
    return {"conda": CONDA_FILE, "virtualenv": PYTHON_ENV_FILE}


def _dump(file: Path, content: Mapping[str, object]) -> None:
    file.write_text(
        yaml.safe_dump(content, default_flow_style=False, sort_keys=False), encoding="utf-8"
    )
