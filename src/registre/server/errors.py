"""Every failure becomes one JSON shape: ``{"error": {"code": ..., "message": ...}}``.

Service errors keep their stable code and status; framework errors (validation, routing) get
codes of their own; anything unexpected is logged with its traceback and answered with a
generic 500 that reveals nothing about the server.
"""

from __future__ import annotations

import logging
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registre.domain.errors import PayloadTooLarge, RegistreError
from registre.server.responses import error_response

logger = logging.getLogger("registre.server")

INTERNAL_MESSAGE = "internal server error (details are in the server log)"
_HTTP_CODES = {
    400: "INVALID_REQUEST",
    404: "ENDPOINT_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
}


class StreamAborted(Exception):
    """A response body failed after its headers were sent; the connection must be dropped.

    Raised instead of the original error so no handler tries to send a second response.
    """


async def _registre_error(request: Request, error: Exception) -> Response:
    exc = cast(RegistreError, error)
    headers = None
    if isinstance(exc, PayloadTooLarge):
        # The rest of the body is still on its way; closing beats reading gigabytes to discard.
        headers = {"Connection": "close"}
    if exc.status >= 500:
        logger.error("%s %s failed: %s: %s", request.method, request.url.path, exc.code, exc)
    return error_response(exc.status, exc.code, exc.message, headers)


async def _validation_error(request: Request, error: Exception) -> Response:
    exc = cast(RequestValidationError, error)
    problems = []
    for problem in exc.errors():
        if problem.get("type") == "json_invalid":
            problems.append(f"the body is not valid JSON ({problem.get('ctx', {}).get('error')})")
            continue
        where = ".".join(str(part) for part in problem.get("loc", ()))
        text = problem.get("msg", "invalid")
        problems.append(f"{where}: {text}" if where else text)
    message = "invalid request: " + "; ".join(problems or ["malformed"])
    return error_response(422, "INVALID_REQUEST", message)


async def _http_error(request: Request, error: Exception) -> Response:
    exc = cast(HTTPException, error)
    code = _HTTP_CODES.get(exc.status_code, f"HTTP_{exc.status_code}")
    if exc.status_code == 404:
        message = f"no endpoint {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
        return error_response(405, code, message, {"Allow": _allowed_methods(request)})
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, code, message, exc.headers)


def _allowed_methods(request: Request) -> str:
    # Starlette names only the first route matching the path; one path may have several.
    allowed = []
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _client_disconnect(request: Request, error: Exception) -> Response:
    # Nobody is listening any more; this answer only completes the ASGI exchange.
    return error_response(400, "CLIENT_DISCONNECTED", "the client closed the connection")


class CatchAllMiddleware:
    """Turns unexpected exceptions into a logged, generic JSON 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except StreamAborted:
            # Already logged. Returning with the body incomplete makes the server drop the
            # connection, so the client sees a truncated transfer, never a complete wrong body.
            return
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                return
            response = error_response(500, "INTERNAL_ERROR", INTERNAL_MESSAGE)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RegistreError, _registre_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    app.add_middleware(CatchAllMiddleware)
