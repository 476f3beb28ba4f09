"""Following the registry: when a served stage or alias moves, load, check and swap.

One background thread polls ``resolve`` (embedded or remote alike). A new version is
downloaded (digests verified), loaded and made to predict on its stored input example before
it replaces the served one; one that fails is refused, recorded in the registry, and never
retried, while the old version keeps serving.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from registre.domain.entities import ModelVersion
from registre.serving.endpoints import Endpoint, ServingState, Slot
from registre.serving.versions import ServedVersion, load_registered

logger = logging.getLogger("registre.serving")

RETIRE_AFTER = 30.0  # seconds a replaced version's files outlive it (slow requests may read)

# Returns (endpoint name, URI) for every model that should be served now.
Discover = Callable[[], list[tuple[str, str]]]


class Follower:
    """Polls the registry every ``interval`` seconds and swaps versions in the background."""

    def __init__(
        self,
        client: Any,
        state: ServingState,
        cache_dir: Path,
        *,
        interval: float = 2.0,
        trust_pickle: bool = False,
        discover: Discover | None = None,
    ) -> None:
        self.client = client
        self.state = state
        self.cache_dir = cache_dir
        self.interval = interval
        self.trust_pickle = trust_pickle
        self.discover = discover
        self._retiring: list[tuple[float, ServedVersion]] = []
        self._unservable: set[tuple[str, int]] = set()  # discovered versions that failed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="registry-follower", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception:  # the registry may be down for a while: keep serving, keep trying
                logger.exception("polling the registry failed")

    def poll(self) -> None:
        """One round: discover new models, then bring every followed slot up to date."""
        if self.discover is not None:
            self._add_new_models()
        for endpoint, slot in self.state.slots():
            if self._stop.is_set():
                return
            if slot.followable:
                self._follow(endpoint, slot)
        now = time.monotonic()
        due = [s for t, s in self._retiring if t <= now]
        self._retiring = [(t, s) for t, s in self._retiring if t > now]
        for served in due:
            served.retire()

    def _follow(self, endpoint: Endpoint, slot: Slot) -> None:
        try:
            target = self.client.resolve_uri(slot.uri)
        except Exception as exc:
            logger.warning("cannot resolve %s (still serving v%s): %s",
                           slot.uri, slot.current.version, exc)  # fmt: skip
            return
        version = str(target.version)
        if version == slot.current.version or version in slot.rejected:
            return
        slot.loading = version
        try:
            served = self.load(target, slot.uri)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            slot.rejected[version] = reason
            self.state.metrics.rejected(target.name)
            logger.error("refused %s v%s for %s (still serving v%s): %s",
                         target.name, version, slot.uri, slot.current.version, reason)  # fmt: skip
            self._record_rejection(target, slot.uri, reason)
            return
        finally:
            slot.loading = None
        gc.freeze()  # the new version's objects join the rest of the settled heap
        old = slot.swap(served)
        self.state.metrics.swapped(endpoint.name, served.name, old.version, served.version)
        logger.info("%s now serves %s v%s (was v%s)", endpoint.name, served.name,
                    served.version, old.version)  # fmt: skip
        self._retiring.append((time.monotonic() + RETIRE_AFTER, old))

    def load(self, version: ModelVersion, uri: str) -> ServedVersion:
        return load_registered(
            self.client, version, uri, self.cache_dir, trust_pickle=self.trust_pickle
        )

    def _record_rejection(self, version: ModelVersion, uri: str, reason: str) -> None:
        details = {"uri": uri, "reason": reason[:2000], "host": socket.gethostname(),
                   "pid": os.getpid()}  # fmt: skip
        try:
            self.client.record_event(version.name, version.version, "serving_check_failed", details)
        except Exception as exc:
            logger.warning("could not record the refusal of %s v%s: %s",
                           version.name, version.version, exc)  # fmt: skip

    def _add_new_models(self) -> None:
        assert self.discover is not None
        known = set(self.state.endpoints)
        for name, uri in self.discover():
            if name in known:
                continue
            try:
                target = self.client.resolve_uri(uri)
            except Exception as exc:
                logger.warning("cannot resolve %s: %s", uri, exc)
                continue
            if (target.name, target.version) in self._unservable:
                continue
            try:
                served = self.load(target, uri)
            except Exception as exc:
                self._unservable.add((target.name, target.version))
                reason = f"{type(exc).__name__}: {exc}"
                logger.error("cannot serve %s v%s: %s", target.name, target.version, reason)
                self.state.metrics.rejected(target.name)
                self._record_rejection(target, uri, reason)
                continue
            self.state.add(Endpoint(name, self.state.new_slot(uri, served)))
            logger.info("now serving %s v%s at /models/%s", served.name, served.version, name)
