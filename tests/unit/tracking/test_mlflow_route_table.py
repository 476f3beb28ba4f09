"""The MLflow door's route table picks the route that trying its routes in order would."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Match, Route

from registre.server.mlflow import mlflow_routes
from registre.server.mlflow.routing import RouteTable


def _in_order(routes: list[Route], scope: dict[str, object]) -> tuple[Match, Route | None]:
    partial: Route | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return match, route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial else (Match.NONE, None)


def _paths(routes: list[Route]) -> list[str]:
    """Every route's path with its parameters filled in, then paths no route should own."""
    filled = [re.sub(r"\{[^}]+\}", "x1/y", r.path) for r in routes]
    return [
        *filled,
        *(p + "/extra" for p in filled),
        "/api/2.0/mlflow/nope", "/api/2.0/mlflow-artifacts/artifacts", "/api/v1/models/Bench",
        "/health", "/", "/get-artifact", "/api/3.0/mlflow/nope", "/ajax-api/2.0/mlflow/x",
    ]  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS"])
def test_the_table_matches_as_the_routes_in_order_would(method: str) -> None:
    [table] = mlflow_routes()
    assert isinstance(table, RouteTable)
    routes = table.routes
    assert len(routes) > 100
    for path in _paths(routes):
        for root_path in ("", "/behind-a-proxy"):
            scope = {"type": "http", "path": root_path + path, "root_path": root_path,
                     "method": method}  # fmt: skip
            expected, route = _in_order(routes, scope)
            match, child = table.matches(scope)
            assert match is expected, path
            if route is not None:
                assert child["registre.mlflow_route"] is route, path


def test_the_table_ignores_other_scopes() -> None:
    [table] = mlflow_routes()
    assert table.matches({"type": "websocket", "path": "/api/2.0/mlflow/runs/get"})[0] is Match.NONE
