"""Fixtures: a scoring-server factory whose processes are stopped (and logs shown on failure)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures import tail
from tests.serving.support import ScoringServer, start_serve


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ScoringServer]]:
    """``serve(["models:/Iris/Production"], home=...)`` starts ``registre serve``."""
    started: list[ScoringServer] = []

    def start(args: list[str], **kwargs: Any) -> ScoringServer:
        server = start_serve(args, log_dir=tmp_path / "logs", **kwargs)
        started.append(server)
        return server

    start.servers = started  # type: ignore[attr-defined]
    yield start
    for server in started:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.failed and call.when == "call":
        for value in getattr(item, "funcargs", {}).values():
            servers = [value] if isinstance(value, ScoringServer) else getattr(value, "servers", [])
            for server in servers:
                if isinstance(server, ScoringServer):
                    report.sections.append((f"registre serve log ({server.url})",
                                            _readable(server.log())))  # fmt: skip
    return report


def _readable(log: str) -> str:
    # The access log's JSON lines drown the story: keep the other lines and the last few.
    lines = log.splitlines()
    access = [x for x in lines if x.startswith('{"ts"')]
    other = [x for x in lines if not x.startswith('{"ts"')]
    return tail("\n".join(other)) + "\n...\n" + "\n".join(access[-5:])
