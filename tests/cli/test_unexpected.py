"""An unexpected failure is one line on stderr and exit 1, never a traceback."""

from __future__ import annotations

import pytest

from registre.service.registry import Registry
from tests.cli.conftest import Cli


def test_an_unexpected_error_is_one_line_without_traceback(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Registry, *args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(Registry, "search_models", broken)
    result = cli("models", "list", code=1)
    assert result.stderr.strip() == (
        "error: unexpected RuntimeError: disk on fire (set REGISTRE_DEBUG=1 for the traceback)"
    )
    assert "Traceback" not in result.stdout + result.stderr
