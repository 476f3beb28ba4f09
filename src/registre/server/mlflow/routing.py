"""Table-driven routing for the MLflow door: (method, path) → handler, one error mapping.

Handlers take a :class:`Call` and return the response message (a dict) — run in a worker
thread, since the service is synchronous — or, for streaming endpoints, are coroutines that
return a Starlette response themselves.
"""

from __future__ import annotations

import base64
import inspect
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

try:  # how Starlette itself reads the path a route matches (root_path removed)
    from starlette._utils import get_route_path
except ImportError:  # pragma: no cover - older or newer Starlette

    def get_route_path(scope: Scope) -> str:
        return str(scope["path"])


from registre.server.mlflow.errors import MlflowError, error_body, not_found_endpoint
from registre.server.mlflow.params import Params
from registre.server.responses import json_response
from registre.service.context import set_actor
from registre.service.registry import Registry
from registre.service.tracking import Tracking

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
DEFAULT_MAX_UPLOAD = 50 * 1024**3
_fallback_executor: Executor | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # below the prefix, Starlette syntax: "/logged-models/{model_id}"
    handler: Callable[[Call], Any]  # a coroutine function runs on the loop and offloads itself
    body: Literal["json", "stream"] = "json"  # "stream": the handler reads the body itself
    # Point reads (one or two indexed single-row queries) run on the event loop: cheaper than
    # two thread hops, and steadier p99 under load. "local": searches, inline when the
    # database is SQLite (in-process CPU work that a thread would only add GIL hand-offs to),
    # in a thread when it is a server the loop would sit waiting for.
    inline: bool | Literal["local"] = False


@dataclass(slots=True)
class Call:
    request: Request
    params: Params
    path: dict[str, str]
    registry: Registry
    tracking: Tracking
    executor: Executor
    max_upload: int = DEFAULT_MAX_UPLOAD
    extra: dict[str, Any] = field(default_factory=dict)


class Services:
    """The Registry and Tracking of the running app (fixed ones for tests)."""

    def __init__(self, registry: Registry | None = None, tracking: Tracking | None = None):
        self._registry = registry
        self._tracking = tracking

    def of(self, request: Request) -> tuple[Registry, Tracking]:
        state = request.app.state
        registry = self._registry or state.registry
        tracking = self._tracking or getattr(state, "tracking", None)
        if tracking is None or tracking.registry is not registry:
            tracking = Tracking(registry)
            state.tracking = tracking
        return registry, tracking


def error_response(exc: BaseException) -> Response:
    status, body = error_body(exc)
    return json_response(body, status)


async def _params(request: Request, body: str) -> Params:
    query = request.query_params
    lists = {key: query.getlist(key) for key in query}
    values: dict[str, Any] = dict(query)
    if body == "json" and request.method in ("POST", "PATCH", "DELETE", "PUT"):
        raw = await request.body()
        if raw.strip():
            try:
                parsed = json.loads(raw)
            except (ValueError, RecursionError):  # (bad UTF-8 is a ValueError too)
                raise MlflowError("BAD_REQUEST", "the request body is not valid JSON") from None
            if not isinstance(parsed, dict):
                raise MlflowError("BAD_REQUEST", "the request body must be a JSON object")
            values.update(parsed)
            lists = {k: v for k, v in lists.items() if k not in parsed}
    return Params(values, lists)


def _basic_user(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if request.headers.get("x-registre-user") or not header.lower().startswith("basic "):
        return None
    try:
        user = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")[0]
    except ValueError:  # bad base64, bad UTF-8, or non-ASCII text (all ValueErrors)
        return None
    return user[:256] or None


def _executor(request: Request) -> Executor:
    global _fallback_executor
    executor = getattr(request.app.state, "blob_executor", None)
    if executor is None:
        if _fallback_executor is None:
            _fallback_executor = ThreadPoolExecutor(16, thread_name_prefix="registre-mlflow")
        executor = _fallback_executor
    return executor


def _dispatcher(
    by_method: dict[str, Endpoint], services: Services
) -> Callable[[Request], Awaitable[Response]]:
    coroutines = {m for m, e in by_method.items() if inspect.iscoroutinefunction(e.handler)}

    async def dispatch(request: Request) -> Response:
        endpoint = by_method.get(request.method)
        try:
            if endpoint is None:
                raise not_found_endpoint(request.method, request.url.path)
            if user := _basic_user(request):
                set_actor(user)
            registry, tracking = services.of(request)
            settings = getattr(request.app.state, "settings", None)
            call = Call(
                request=request,
                params=await _params(request, endpoint.body),
                path=dict(request.path_params),
                registry=registry,
                tracking=tracking,
                executor=_executor(request),
                max_upload=getattr(settings, "max_upload_bytes", DEFAULT_MAX_UPLOAD),
            )
            if endpoint.body == "stream":
                response: Response = await endpoint.handler(call)
                return response
            if endpoint.method in coroutines:  # the handler decides where its work runs
                result = await endpoint.handler(call)
            elif endpoint.inline is True or (endpoint.inline == "local" and registry.local_reads):
                result = endpoint.handler(call)
            else:
                result = await run_in_threadpool(endpoint.handler, call)
            return json_response(result if result is not None else {})
        except Exception as exc:
            return error_response(exc)

    return dispatch


async def _unknown(request: Request) -> Response:
    return error_response(not_found_endpoint(request.method, request.url.path))


class RouteTable(BaseRoute):
    """Routes matched as Starlette would try them in order, without trying them one by one.

    The MLflow door has ~140 routes in front of the app's own: tried in turn, every request
    of the native API tested them all first (~50 µs), and an artifact upload ~115 of them.
    Here a static path is one dictionary lookup; the parameterised routes (a few, after the
    static ones, as ``build_routes`` orders them) are tried only under their literal prefix.
    """

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._static: dict[str, Route] = {}
        for route in routes:  # (the first of a path wins, as in order)
            if not route.param_convertors:
                self._static.setdefault(route.path, route)
        self._patterns = [(r.path.split("{", 1)[0], r) for r in routes if r.param_convertors]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path = get_route_path(scope)
        route = self._static.get(path)
        if route is not None:
            candidates: Iterable[Route] = (route,)
        else:
            candidates = (r for prefix, r in self._patterns if path.startswith(prefix))
        for candidate in candidates:
            match, child = candidate.matches(scope)
            if match is not Match.NONE:
                return match, {**child, _ROUTE: candidate}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[_ROUTE].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> Any:
        raise NoMatchFound(name, path_params)


_ROUTE = "registre.mlflow_route"


def build_routes(
    groups: Iterable[tuple[tuple[str, ...], list[Endpoint]]], services: Services
) -> RouteTable:
    """One route per (prefix, path) dispatching on the method, then a JSON 404 catch-all per
    prefix, in one table. Static paths come before parameterised ones (``search`` before
    ``{model_id}``)."""
    routes: list[Route] = []
    catch_alls: list[Route] = []
    for prefixes, endpoints in groups:
        table: dict[str, dict[str, Endpoint]] = defaultdict(dict)
        for endpoint in endpoints:
            if endpoint.method in table[endpoint.path]:
                raise ValueError(f"duplicate endpoint {endpoint.method} {endpoint.path}")
            table[endpoint.path][endpoint.method] = endpoint
        ordered = sorted(table, key=lambda p: ("{" in p, p.count("{"), -len(p)))
        for prefix in prefixes:
            for path in ordered:
                routes.append(
                    Route(prefix + path, _dispatcher(table[path], services),
                          methods=ALL_METHODS, include_in_schema=False)
                )  # fmt: skip
            if prefix:  # the top level ("") belongs to the rest of the app
                catch_alls.append(
                    Route(prefix + "/{rest:path}", _unknown, methods=ALL_METHODS,
                          include_in_schema=False)
                )  # fmt: skip
    return RouteTable(routes + catch_alls)
