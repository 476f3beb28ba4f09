"""A minimal conftest for MLflow's upstream tracking tests, in place of MLflow's own.

Copied by ``run.py`` into its working directory as ``tests/conftest.py``. It keeps the parts of
MLflow's conftest these tests rely on (fluent state reset between tests, leaked runs ended, the
``_MLFLOW_TESTING`` flag), deselects the out-of-scope tests listed in ``UPSTREAM_DESELECT`` and
records every test's outcome in ``UPSTREAM_RESULTS`` (JSON lines).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.upstream_servers"]

_OUTCOMES: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    for marker in ("allow_infer_pip_requirements_fallback", "notrackingurimock", "asyncio",
                   "skip_if_tracing_sdk_only"):  # fmt: skip
        config.addinivalue_line("markers", f"{marker}: used by MLflow's tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    path = os.environ.get("UPSTREAM_DESELECT")
    if not path:
        return
    rules = [(re.compile(rule), why) for rule, why in json.loads(Path(path).read_text())]
    keep, dropped = [], []
    for item in items:
        name = item.nodeid.split("::", 1)[-1]
        (dropped if any(rule.search(name) for rule, _ in rules) else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    previous = _OUTCOMES.get(report.nodeid)
    if report.failed:
        _OUTCOMES[report.nodeid] = "error" if report.when != "call" else "failed"
    elif report.skipped and previous is None:
        _OUTCOMES[report.nodeid] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
    elif report.when == "call" and report.passed and previous is None:
        _OUTCOMES[report.nodeid] = "xpassed" if hasattr(report, "wasxfail") else "passed"


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get("UPSTREAM_RESULTS")
    if path:
        with open(path, "w") as out:
            for nodeid, outcome in sorted(_OUTCOMES.items()):
                out.write(json.dumps({"nodeid": nodeid, "outcome": outcome}) + "\n")


@pytest.fixture(scope="session", autouse=True)
def mlflow_testing_mode() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("_MLFLOW_TESTING", "TRUE")
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_REGISTRY_URI", raising=False)
        yield


@pytest.fixture(autouse=True)
def fluent_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As MLflow's conftest: fluent calls that no test pointed anywhere go to a local database
    (created only if used); active runs, experiments and URIs are reset after. The URI is set
    in the environment, so the CLI's own environment (``cli_env``) can still override it."""
    import mlflow

    mlflow.set_tracking_uri(None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'fluent.db'}")
    try:
        yield
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.tracking.fluent._active_experiment_id = None
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        os.environ.pop("MLFLOW_REGISTRY_URI", None)
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
