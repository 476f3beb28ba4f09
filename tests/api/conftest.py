from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture
def api(server_url: str) -> Iterator[httpx.Client]:
    """An httpx client for ``/api/v1`` of the shared server (SQLite and PostgreSQL)."""
    with httpx.Client(base_url=f"{server_url}/api/v1", timeout=30) as client:
        yield client
