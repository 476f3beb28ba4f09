"""Per-process state the routes share: the one Registry and the blob I/O thread pool."""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Annotated

from fastapi import Depends, Request

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
