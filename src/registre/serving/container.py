"""The entrypoint of a model image: ``python -m registre.serving.container [serve|healthcheck]``.

The model is baked into the image with a manifest of its files' sha256 digests, checked before
anything is loaded. The same image honours the container contracts of:

- Amazon SageMaker: started with the ``serve`` argument, listens on 8080 (or
  ``SAGEMAKER_BIND_TO_PORT``), answers ``GET /ping`` and ``POST /invocations``.
- Google Vertex AI: listens on ``AIP_HTTP_PORT``, health on ``AIP_HEALTH_ROUTE``, predictions on
  ``AIP_PREDICT_ROUTE`` with ``{"instances": [...], "parameters": {...}}`` in and
  ``{"predictions": [...]}`` out.
- Azure ML custom containers (``AZUREML_MODEL_DIR`` set): listens on ``REGISTRE_PORT`` (5001),
  scores on ``REGISTRE_SCORING_ROUTE`` (``/score``), liveness and readiness on
  ``REGISTRE_LIVENESS_ROUTE`` (``/``) and ``REGISTRE_READINESS_ROUTE`` (``/ready``).
- Anything else (Docker, Kubernetes, KServe): port ``REGISTRE_PORT`` (8080), MLflow's routes and
  the Open Inference Protocol (v2).
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

MODEL_DIR = "/opt/registre/model"
MANIFEST = "/opt/registre/manifest.json"

logger = logging.getLogger("registre.serving")


@dataclass
class Platform:
    """Where the container runs and what that platform expects of it."""

    name: str
    port: int
    health_route: str = "/ping"
    predict_routes: list[str] = field(default_factory=list)
    vertex_routes: list[str] = field(default_factory=list)
    health_routes: list[str] = field(default_factory=list)


def detect(env: Mapping[str, str], argv: Sequence[str] = ()) -> Platform:
    """The platform, from the environment variables and arguments it starts containers with."""
    if "AIP_HTTP_PORT" in env or "AIP_PREDICT_ROUTE" in env:
        health = env.get("AIP_HEALTH_ROUTE", "/health")
        return Platform(
            "vertexai", int(env.get("AIP_HTTP_PORT", "8080")), health,
            vertex_routes=[env.get("AIP_PREDICT_ROUTE", "/predict")], health_routes=[health],
        )  # fmt: skip
    if "AZUREML_MODEL_DIR" in env or env.get("REGISTRE_PLATFORM") == "azureml":
        live = env.get("REGISTRE_LIVENESS_ROUTE", "/")
        ready = env.get("REGISTRE_READINESS_ROUTE", "/ready")
        return Platform(
            "azureml", int(env.get("REGISTRE_PORT", "5001")), ready,
            predict_routes=[env.get("REGISTRE_SCORING_ROUTE", "/score")],
            health_routes=[live, ready],
        )  # fmt: skip
    if "serve" in argv or "SAGEMAKER_BIND_TO_PORT" in env or "SM_MODEL_DIR" in env:
        return Platform("sagemaker", int(env.get("SAGEMAKER_BIND_TO_PORT", "8080")))
    return Platform("generic", int(env.get("REGISTRE_PORT", "8080")))


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    environ = os.environ if env is None else env
    platform = detect(environ, args)
    if args[:1] == ["healthcheck"]:
        return healthcheck(platform)
    from registre.serving.server import configure_logging

    configure_logging(environ.get("REGISTRE_LOG_LEVEL", "info"))
    try:
        app = _build(platform, environ)
    except Exception as exc:
        logger.error("refusing to start: %s: %s", type(exc).__name__, exc)
        return 3
    import uvicorn

    from registre.serving.server import settle_heap

    settle_heap()
    host = environ.get("REGISTRE_HOST", "0.0.0.0")  # inside a container: every interface
    logger.info("platform %s: listening on %s:%d", platform.name, host, platform.port)
    uvicorn.run(
        app, host=host, port=platform.port, loop="uvloop", http="httptools",
        access_log=False, server_header=False, log_config=None,
    )  # fmt: skip
    return 0


def _build(platform: Platform, env: Mapping[str, str]) -> Starlette:
    from registre.serving.app import ServerOptions, create_app
    from registre.serving.endpoints import BatchingConfig, Endpoint, ServingState
    from registre.serving.metrics import ServingMetrics
    from registre.serving.versions import load_directory

    model_dir = Path(env.get("REGISTRE_MODEL_DIR", MODEL_DIR))
    manifest = Path(env.get("REGISTRE_MANIFEST", MANIFEST))
    # The digests are checked before the model is deserialized: a changed file never loads.
    served = load_directory(model_dir, manifest=manifest, trust_pickle=_flag(env, "TRUST_PICKLE"))
    batching = BatchingConfig(
        enabled=not _flag(env, "NO_BATCHING"),
        max_batch=int(env.get("REGISTRE_MAX_BATCH", "64")),
        max_wait_ms=float(env.get("REGISTRE_MAX_WAIT_MS", "2")),
    )
    state = ServingState(ServingMetrics(), batching)
    state.add(Endpoint(served.name, state.new_slot(served.uri, served)), default=True)
    logger.info("loaded %s v%s (%s), digests verified", served.name, served.version, model_dir)
    options = ServerOptions(
        access_log=not _flag(env, "NO_ACCESS_LOG"),
        predict_routes=platform.predict_routes,
        vertex_routes=platform.vertex_routes,
        health_routes=platform.health_routes,
    )
    return create_app(state, None, options)


def healthcheck(platform: Platform) -> int:
    """Docker's HEALTHCHECK: 0 when the health route answers 200."""
    url = f"http://127.0.0.1:{platform.port}{platform.health_route}"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(f"REGISTRE_{name}", "").lower() in ("1", "true", "yes")


if __name__ == "__main__":
    sys.exit(main())
