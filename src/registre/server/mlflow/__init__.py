"""The MLflow door: MLflow's REST API (tracking, registry, artifact proxy) onto Registre.

>>> app = FastAPI()
>>> mount_mlflow(app)  # uses app.state.registry (and app.state.tracking) at request time
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from registre.server.mlflow import artifact_endpoints, registry_endpoints, tracking_endpoints
from registre.server.mlflow.routing import Services, build_routes
from registre.service.registry import Registry
from registre.service.tracking import Tracking

API_PREFIXES = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
ARTIFACT_PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
V3_PREFIXES = ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow")

__all__ = ["mlflow_routes", "mount_mlflow"]


def mlflow_routes(
    registry: Registry | None = None, tracking: Tracking | None = None
) -> list[BaseRoute]:
    """Routes for every MLflow endpoint Registre serves, plus JSON 404s under its prefixes, as
    one table (see ``RouteTable``).

    Without ``registry``/``tracking`` they are taken from ``app.state`` at request time.
    None of them is in the OpenAPI document.
    """
    return [
        build_routes(
            [
                (API_PREFIXES, tracking_endpoints.ENDPOINTS + registry_endpoints.ENDPOINTS),
                (("/ajax-api/2.0/mlflow",), artifact_endpoints.AJAX_ENDPOINTS),
                (("",), artifact_endpoints.UI_ENDPOINTS),
                (ARTIFACT_PREFIXES, artifact_endpoints.ENDPOINTS),
                (V3_PREFIXES, artifact_endpoints.INFO_ENDPOINTS),
            ],
            Services(registry, tracking),
        )
    ]


def mount_mlflow(
    app: Starlette, registry: Registry | None = None, tracking: Tracking | None = None
) -> None:
    """Put the MLflow routes in front of ``app``'s own (so no catch-all of the app hides them)."""
    app.router.routes[:0] = mlflow_routes(registry, tracking)
