"""The scoring server: MLflow's scoring protocol and the Open Inference Protocol (v2).

A small Starlette app, separate from the registry server: parsing and checking run on the event
loop, predict runs on each model's own thread (micro-batched), and every response names the
model version that produced it (``X-Model-Name``, ``X-Model-Version``, ``X-Model-Route``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registre import __version__
from registre.domain.errors import PayloadTooLarge
from registre.packaging.inputs import ScoringPayload, parse_scoring_payload
from registre.serving import v2
from registre.serving.encoding import (
    JSON,
    decode,
    load_json,
    media_type,
    predictions_body,
)
from registre.serving.endpoints import Endpoint, ServingState
from registre.serving.errors import (
    ENDPOINT_NOT_FOUND,
    RESOURCE_DOES_NOT_EXIST,
    ScoringError,
    as_scoring_error,
    error_response,
)
from registre.serving.follower import Follower
from registre.serving.items import Item, frame_item, payload_item
from registre.serving.versions import ServedVersion

logger = logging.getLogger("registre.serving")
access_logger = logging.getLogger("registre.serving.access")

Encoder = Callable[[Any], bytes]


@dataclass(frozen=True)
class Parsed:
    """A decoded request body: how to make the predict input for a given served version (the
    primary, a split or a shadow), and how to write that version's predictions."""

    item_for: Callable[[ServedVersion], Item]
    encoder_for: Callable[[ServedVersion], Encoder]


def _predictions_for(served: ServedVersion) -> Encoder:
    return predictions_body


@dataclass
class ServerOptions:
    """Knobs of the HTTP layer; the container entrypoint adds its platform's routes."""

    max_body_bytes: int = 64 * 1024 * 1024
    access_log: bool = True
    predict_routes: list[str] = field(default_factory=list)  # extra MLflow-style routes
    vertex_routes: list[str] = field(default_factory=list)  # {"instances", "parameters"}
    health_routes: list[str] = field(default_factory=list)


def create_app(
    state: ServingState, follower: Follower | None = None, options: ServerOptions | None = None
) -> Starlette:
    """The ASGI app serving ``state``'s endpoints; ``follower`` is started and stopped with it."""
    opts = options or ServerOptions()
    scoring = _Scoring(state, opts)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        if follower is not None:
            follower.start()
        try:
            yield
        finally:
            if follower is not None:
                await asyncio.to_thread(follower.stop)
            await asyncio.to_thread(state.close)

    routes = [
        Route("/ping", scoring.ping, methods=["GET"]),
        Route("/health", scoring.ping, methods=["GET"]),
        Route("/version", scoring.version, methods=["GET"]),
        Route("/-/state", scoring.state_view, methods=["GET"]),
        Route("/metrics", scoring.metrics, methods=["GET"]),
        Route("/invocations", scoring.invocations, methods=["POST"]),
        Route("/models/{name}/invocations", scoring.invocations, methods=["POST"]),
        Route("/v2", scoring.v2_server, methods=["GET"]),
        Route("/v2/health/live", scoring.v2_live, methods=["GET"]),
        Route("/v2/health/ready", scoring.v2_ready, methods=["GET"]),
        Route("/v2/models/{name}", scoring.v2_model, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}", scoring.v2_model, methods=["GET"]),
        Route("/v2/models/{name}/ready", scoring.v2_model_ready, methods=["GET"]),
        Route(
            "/v2/models/{name}/versions/{version}/ready", scoring.v2_model_ready, methods=["GET"]
        ),
        Route("/v2/models/{name}/infer", scoring.v2_infer, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}/infer", scoring.v2_infer, methods=["POST"]),
    ]
    routes += [Route(p, scoring.invocations, methods=["POST"]) for p in opts.predict_routes]
    routes += [Route(p, scoring.vertex_predict, methods=["POST"]) for p in opts.vertex_routes]
    routes += [Route(p, scoring.ping, methods=["GET"]) for p in opts.health_routes]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
    )
    app.state.serving = state
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ScoringError(404, ENDPOINT_NOT_FOUND, f"no endpoint {request.url.path}")
    elif exc.status_code == 405:
        error = ScoringError(405, "METHOD_NOT_ALLOWED",
                             f"{request.method} is not allowed on {request.url.path}")  # fmt: skip
    else:
        error = ScoringError(exc.status_code, "BAD_REQUEST", str(exc.detail))
    return error_response(error)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(as_scoring_error(exc))


class _Scoring:
    def __init__(self, state: ServingState, options: ServerOptions) -> None:
        self.state = state
        self.options = options
        self._metrics = state.metrics

    # ---- health and state ---------------------------------------------------------------
    async def ping(self, request: Request) -> Response:
        endpoint = self.state.default_endpoint()
        headers = _headers(endpoint.primary.current) if endpoint is not None else None
        status = 200 if self.state.endpoints else 503
        return Response(b"\n", status, headers=headers, media_type=JSON)

    async def version(self, request: Request) -> Response:
        endpoint = self.state.default_endpoint()
        headers = _headers(endpoint.primary.current) if endpoint is not None else None
        return Response(__version__, headers=headers, media_type="text/plain")

    async def state_view(self, request: Request) -> Response:
        return _json(self.state.state())

    async def metrics(self, request: Request) -> Response:
        return Response(self._metrics.render(), media_type=self._metrics.content_type)

    # ---- MLflow's scoring protocol ------------------------------------------------------
    async def invocations(self, request: Request) -> Response:
        return await self._score(request, self._parse_mlflow)

    async def vertex_predict(self, request: Request) -> Response:
        return await self._score(request, self._parse_vertex)

    async def _parse_mlflow(self, request: Request) -> Parsed:
        mime = media_type(request.headers.get("content-type"))
        decoded = decode(mime, await self._body(request))
        if isinstance(decoded, ScoringPayload):
            return Parsed(lambda served: payload_item(decoded, served), _predictions_for)
        return Parsed(lambda served: frame_item(decoded, served), _predictions_for)

    async def _parse_vertex(self, request: Request) -> Parsed:
        # Vertex AI sends {"instances": [...], "parameters": {...}}; the rest is MLflow's.
        media_type(request.headers.get("content-type") or JSON)
        body = load_json(await self._body(request))
        if isinstance(body, dict) and "parameters" in body:
            body = dict(body)
            body["params"] = body.pop("parameters") or None
        payload = parse_scoring_payload(body)
        return Parsed(lambda served: payload_item(payload, served), _predictions_for)

    # ---- the Open Inference Protocol ----------------------------------------------------
    async def v2_server(self, request: Request) -> Response:
        return _json({"name": "registre", "version": __version__, "extensions": []})

    async def v2_live(self, request: Request) -> Response:
        return _json({"live": True})

    async def v2_ready(self, request: Request) -> Response:
        ready = bool(self.state.endpoints)
        return _json({"ready": ready}, 200 if ready else 503)

    async def v2_model(self, request: Request) -> Response:
        endpoint = self._v2_endpoint(request)
        if isinstance(endpoint, Response):
            return endpoint
        served = endpoint.primary.current
        body = v2.metadata(endpoint.name, served)
        body["parameters"]["state"] = endpoint.state()
        return _json(body, headers=_headers(served))

    async def v2_model_ready(self, request: Request) -> Response:
        endpoint = self._v2_endpoint(request)
        if isinstance(endpoint, Response):
            return endpoint
        return _json({"name": endpoint.name, "ready": True},
                     headers=_headers(endpoint.primary.current))  # fmt: skip

    async def v2_infer(self, request: Request) -> Response:
        endpoint = self._v2_endpoint(request)
        if isinstance(endpoint, Response):
            return endpoint
        name = endpoint.name

        async def parse(request: Request) -> Parsed:
            media_type(request.headers.get("content-type") or JSON)
            body = load_json(await self._body(request))
            found = body.get("id") if isinstance(body, dict) else None
            request_id = None if found is None else str(found)
            return Parsed(
                lambda served: v2.infer_item(body, served),
                lambda served: v2.infer_body(name, served.version, request_id),
            )

        return await self._score(request, parse, endpoint=endpoint, v2_errors=True)

    def _v2_endpoint(self, request: Request) -> Endpoint | Response:
        name = request.path_params["name"]
        endpoint = self.state.endpoints.get(name)
        wanted = request.path_params.get("version")
        if (
            endpoint is not None
            and wanted is not None
            and wanted != endpoint.primary.current.version
        ):
            message = f"model {name!r} serves version {endpoint.primary.current.version}"
            return error_response(ScoringError(404, RESOURCE_DOES_NOT_EXIST, message), v2=True)
        if endpoint is None:
            error = ScoringError(404, RESOURCE_DOES_NOT_EXIST, f"no model {name!r} is served")
            return error_response(error, v2=True)
        return endpoint

    # ---- one scoring request ------------------------------------------------------------
    async def _score(
        self,
        request: Request,
        parse: Callable[[Request], Awaitable[Parsed]],
        *,
        endpoint: Endpoint | None = None,
        v2_errors: bool = False,
    ) -> Response:
        started = time.perf_counter()
        if endpoint is None:
            found = self._endpoint(request)
            if isinstance(found, ScoringError):
                return self._finish(request, started, None, "", error_response(found), found)
            endpoint = found
        slot, route = endpoint.choose()
        served = slot.current  # read once: this request keeps this version to the end
        headers = {**_headers(served), "X-Model-Route": route}
        error: ScoringError | None = None
        try:
            parsed = await parse(request)
            item = parsed.item_for(served)
            body = await slot.worker.submit(served, item, parsed.encoder_for(served))
            response = Response(body, 200, headers=headers, media_type=JSON)
        except Exception as exc:
            error = as_scoring_error(exc)
            if error.status >= 500:
                logger.error("scoring on %s failed", request.url.path, exc_info=exc)
            response = error_response(error, headers, v2=v2_errors)
        else:
            self._mirror(endpoint, parsed)
        return self._finish(request, started, served, route, response, error, endpoint.name)

    def _endpoint(self, request: Request) -> Endpoint | ScoringError:
        name = request.path_params.get("name")
        if name is None:
            endpoint = self.state.default_endpoint()
            if endpoint is None:
                served = ", ".join(f"/models/{n}/invocations" for n in self.state.endpoints)
                return ScoringError(404, ENDPOINT_NOT_FOUND,
                                    f"several models are served: use one of {served}")  # fmt: skip
            return endpoint
        endpoint = self.state.endpoints.get(name)
        if endpoint is None:
            return ScoringError(404, RESOURCE_DOES_NOT_EXIST, f"no model {name!r} is served")
        return endpoint

    def _mirror(self, endpoint: Endpoint, parsed: Parsed) -> None:
        """Copy the request to the shadow, if this one is mirrored; its answer is only counted."""
        shadow = endpoint.mirror()
        if shadow is None:
            return
        served = shadow.current
        started = time.perf_counter()
        try:
            future = shadow.worker.submit(
                served, parsed.item_for(served), parsed.encoder_for(served)
            )
        except Exception as exc:  # the shadow's signature refuses what the primary took
            self._shadow_done(served, started, exc)
            return
        future.add_done_callback(
            lambda f: self._shadow_done(served, started, None if f.cancelled() else f.exception())
        )

    def _shadow_done(
        self, served: ServedVersion, started: float, error: BaseException | None
    ) -> None:
        seconds = time.perf_counter() - started
        status = 200 if error is None else as_scoring_error(error).status
        self._metrics.request(served.name, served.version, status, seconds)
        if self.options.access_log:
            _log({"route": "shadow", "model": served.name, "version": served.version,
                  "status": status, "latency_ms": round(seconds * 1000, 3)})  # fmt: skip

    def _finish(
        self,
        request: Request,
        started: float,
        served: ServedVersion | None,
        route: str,
        response: Response,
        error: ScoringError | None,
        endpoint: str | None = None,
    ) -> Response:
        seconds = time.perf_counter() - started
        model = served.name if served else ""
        version = served.version if served else ""
        self._metrics.request(model, version, response.status_code, seconds)
        if error is not None:
            self._metrics.error(model, version, error.error_code)
        if self.options.access_log:
            record = {
                "method": request.method, "path": request.url.path, "endpoint": endpoint,
                "model": model, "version": version, "route": route,
                "status": response.status_code, "latency_ms": round(seconds * 1000, 3),
            }  # fmt: skip
            if error is not None:
                record["error_code"] = error.error_code
                record["message"] = error.message[:500]
            _log(record)
        return response

    async def _body(self, request: Request) -> bytes:
        limit = self.options.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _headers(served: ServedVersion) -> dict[str, str]:
    return {"X-Model-Name": served.name, "X-Model-Version": served.version}


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status, headers=headers, media_type=JSON)


def _log(record: dict[str, Any]) -> None:
    record = {"ts": round(time.time(), 3), **record}
    access_logger.info(orjson.dumps(record).decode())
