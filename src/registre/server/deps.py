"""Per-process state the routes share: the one Registry and the blob I/O thread pool."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from registre.config import Settings
from registre.service.registry import Registry


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def blob_executor_of(request: Request) -> Executor:
    executor: Executor = request.app.state.blob_executor
    return executor


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _registry(request: Request) -> Registry:
    # async: a sync dependency would cost every request a trip through the thread pool.
    return registry_of(request)


RegistryDep = Annotated[Registry, Depends(_registry)]
T = TypeVar("T")


async def search(registry: Registry, call: Callable[..., T], *args: object) -> T:
    """Run a search inline when reads are in-process work (SQLite: a thread would only add GIL
    hand-offs), in the thread pool when they wait on a database server."""
    if registry.local_reads:
        return call(*args)
    return await run_in_threadpool(call, *args)
