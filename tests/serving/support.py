"""Real ``registre serve`` processes and Iris models for the serving tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.fixtures import free_port, tail
from tests.fixtures.server import wait_ok

START_TIMEOUT = 60.0
COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


@cache
def iris() -> tuple[pd.DataFrame, pd.Series]:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    return frame.drop(columns="target"), frame["target"]


@cache
def logistic() -> Any:
    from sklearn.linear_model import LogisticRegression

    features, target = iris()
    return LogisticRegression(max_iter=500).fit(features, target)


@cache
def constant(label: int) -> Any:
    """A classifier that always answers ``label``: tells versions apart by their predictions."""
    from sklearn.dummy import DummyClassifier

    features, target = iris()
    return DummyClassifier(strategy="constant", constant=label).fit(features, target)


def rows(indices: Sequence[int] = (0, 50, 100)) -> pd.DataFrame:
    return iris()[0].iloc[list(indices)]


def split_body(frame: pd.DataFrame) -> dict[str, Any]:
    return {"dataframe_split": {"columns": list(frame.columns), "data": frame.to_numpy().tolist()}}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class ScoringServer:
    url: str
    process: subprocess.Popen[bytes]
    log_file: Path

    def log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"

    def state(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/-/state", timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def served(self, endpoint: str | None = None) -> dict[str, Any]:
        state = self.state()
        name = endpoint or state["default"]
        return next(m for m in state["models"] if m["name"] == name)

    def wait_for(self, version: int, endpoint: str | None = None, timeout: float = 30) -> float:
        """Wait until ``endpoint`` serves ``version``; returns the time it was seen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.served(endpoint)["version"] == str(version):
                return time.time()
            time.sleep(0.05)
        raise AssertionError(f"never swapped to v{version}: {self.state()}\n{tail(self.log())}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_serve(
    args: Sequence[str], *, home: Path | None = None, url: str | None = None, log_dir: Path
) -> ScoringServer:
    """``registre [--home H | --url U] serve ARGS --port P`` as a process; waits for /ping."""
    root = ["--url", url] if url else ["--home", str(home)]
    log_dir.mkdir(parents=True, exist_ok=True)
    last = ""
    for _attempt in range(3):
        port = free_port()
        log_file = log_dir / f"serve-{port}.log"
        command = [sys.executable, "-m", "registre.cli", *root, "serve", *args, "--port", str(port)]
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                command, env=clean_env(), stdout=log, stderr=subprocess.STDOUT
            )
        server = ScoringServer(f"http://127.0.0.1:{port}", process, log_file)
        if _wait_ready(server):
            return server
        server.stop()
        last = server.log()
        if "address already in use" not in last.lower():
            break
    pytest.fail(f"registre serve did not start:\n{tail(last)}", pytrace=False)


def _wait_ready(server: ScoringServer) -> bool:
    return wait_ok(server.process, f"{server.url}/ping", START_TIMEOUT)
