"""The ASGI application: one Registry per process, the native API under ``/api/v1``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

import registre
from registre.config import Settings, load_settings
from registre.server import files_api, native_api
from registre.server.deps import registry_of
from registre.server.errors import install_error_handlers
from registre.server.mlflow import mount_mlflow
from registre.server.responses import json_response
from registre.server.schemas import HealthOut
from registre.service.context import set_actor
from registre.service.registry import Registry
from registre.service.tracking import Tracking

logger = logging.getLogger("registre.server")

API_PREFIX = "/api/v1"
ACTOR_HEADER = b"x-registre-user"
ANONYMOUS = "anonymous"
MAX_ACTOR_LENGTH = 256
# Each upload holds a thread for its whole duration (the blob store consumes a blocking
# iterator), so this bounds concurrent transfers, not CPU use.
BLOB_THREADS = 64


def create_app(settings: Settings | None = None) -> FastAPI:
    """The Registre server app; settings come from ``REGISTRE_*`` variables when omitted.

    >>> uvicorn.run(create_app(Settings(home=Path("registre-data"))))
    """
    settings = settings if settings is not None else load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = await run_in_threadpool(
            Registry.open, settings.database_url, settings.artifact_root
        )
        executor = ThreadPoolExecutor(BLOB_THREADS, thread_name_prefix="registre-blobs")
        app.state.registry = registry
        app.state.tracking = Tracking(registry)
        app.state.blob_executor = executor
        try:
            yield
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
            registry.close()

    app = FastAPI(
        title="Registre",
        version=registre.__version__,
        summary="A model registry: versions, stages, aliases, verified files, history.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(ActorMiddleware)
    app.include_router(native_api.router, prefix=API_PREFIX)
    app.include_router(files_api.router, prefix=API_PREFIX)
    mount_mlflow(app)  # MLflow's REST API and artifact proxy, outside the OpenAPI document

    @app.get(
        "/health",
        response_model=HealthOut,
        responses={503: {"model": HealthOut, "description": "The database does not answer"}},
        tags=["operations"],
    )
    def health(request: Request) -> Response:
        try:
            with registry_of(request).store.read() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as exc:
            logger.warning("health check failed: %s: %s", type(exc).__name__, exc)
            return json_response({"status": "unavailable"}, 503)
        return json_response({"status": "ok"})

    return app


class ActorMiddleware:
    """Sets the acting user for the request from ``X-Registre-User`` (else "anonymous").

    The context variable is copied into the thread that runs the handler.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            actor = ANONYMOUS
            for key, value in scope["headers"]:
                if key == ACTOR_HEADER:
                    text = value.decode("utf-8", errors="replace").strip()
                    actor = text[:MAX_ACTOR_LENGTH] or ANONYMOUS
                    break
            set_actor(actor)
        await self.app(scope, receive, send)
