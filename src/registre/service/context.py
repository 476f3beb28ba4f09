"""Who is acting: set by each door (HTTP header/auth, CLI user), read by the service for events."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_actor: ContextVar[str | None] = ContextVar("registre_actor", default=None)


@functools.cache  # (the process's user: looked up once, not on every write)
def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


def current_actor() -> str:
    return _actor.get() or _local_user()


@contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def set_actor(actor: str | None) -> None:
    """Set the actor for the rest of the current context (e.g. one HTTP request)."""
    _actor.set(actor)
