"""The ``local`` target: ``registre serve`` as a background process on this machine.

Each deployment lives in ``<home>/deployments/local/<name>/``: ``deployment.json`` (URI, port,
pid), ``server.pid``, ``server.log``. The server follows the registry, so a new version of the
deployed stage or alias needs no update; ``update`` with another URI restarts it on its port.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from registre.deploy.base import (
    Deployment,
    TargetContext,
    int_option,
    option,
    read_json,
    write_json,
)
from registre.domain.errors import AlreadyExists, InvalidInput, NotFound
from registre.service.uris import parse_model_uri

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
NAME = "local"


class LocalTarget:
    """Config: ``port`` (default: a free one), ``host`` (127.0.0.1), ``poll_interval`` (2),
    ``args`` (more ``registre serve`` options, space-separated)."""

    name = NAME

    def __init__(self, context: TargetContext) -> None:
        self.context = context

    def create(self, name: str, uri: str, config: Mapping[str, str]) -> Deployment:
        parse_model_uri(uri)
        directory = self.context.directory(NAME, name)
        if (directory / "deployment.json").exists():
            if _alive(directory):
                raise AlreadyExists(f"local deployment {name!r} exists: update or delete it")
            shutil.rmtree(directory)  # a dead leftover
        directory.mkdir(parents=True)
        port = int_option(config, "port", 0) or _free_port()
        spec = {
            "name": name, "uri": uri, "host": option(config, "host", "127.0.0.1"), "port": port,
            "poll_interval": option(config, "poll_interval", "2"),
            "args": option(config, "args", "").split(), "created_at": time.time(),
        }  # fmt: skip
        try:
            self._start(directory, spec)
        except BaseException:
            self._stop(directory)
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return self.get(name, config)

    def update(self, name: str, uri: str | None, config: Mapping[str, str]) -> Deployment:
        directory = self._existing(name)
        spec = read_json(directory / "deployment.json")
        if uri is not None:
            parse_model_uri(uri)
        if (uri is None or uri == spec["uri"]) and not config and _alive(directory):
            # The server already follows its stage or alias: nothing to restart.
            return self.get(name, config)
        spec["uri"] = uri or spec["uri"]
        for key in ("host", "poll_interval"):
            spec[key] = option(config, key, spec[key])
        if "args" in config:
            spec["args"] = config["args"].split()
        spec["port"] = int_option(config, "port", spec["port"])
        self._stop(directory)
        self._start(directory, spec)
        return self.get(name, config)

    def delete(self, name: str, config: Mapping[str, str]) -> None:
        directory = self._existing(name)
        self._stop(directory)
        shutil.rmtree(directory, ignore_errors=True)

    def list(self, config: Mapping[str, str]) -> list[Deployment]:
        root = self.context.home / "deployments" / NAME
        names = sorted(p.parent.name for p in root.glob("*/deployment.json"))
        return [self.get(n, config) for n in names]

    def get(self, name: str, config: Mapping[str, str]) -> Deployment:
        directory = self._existing(name)
        spec = read_json(directory / "deployment.json")
        url = f"http://{_client_host(spec['host'])}:{spec['port']}"
        pid = _pid(directory)
        details: dict[str, Any] = {
            "pid": pid,
            "port": spec["port"],
            "log": str(directory / "server.log"),
        }
        status, version = "stopped", None
        if _alive(directory):
            status = "starting"
            try:
                state = httpx.get(f"{url}/-/state", timeout=5).json()
                served = next(m for m in state["models"] if m["name"] == state["default"])
                status, version = "running", served["version"]
                details["model"] = served["model"]
                details["rejected"] = served["rejected"]
            except (httpx.HTTPError, ValueError, KeyError, StopIteration):
                pass
        return Deployment(name, NAME, spec["uri"], status, version, url, details)

    # ---- the process ---------------------------------------------------------------------
    def _existing(self, name: str) -> Path:
        directory = self.context.directory(NAME, name)
        if not (directory / "deployment.json").exists():
            raise NotFound(f"no local deployment {name!r}")
        return directory

    def _start(self, directory: Path, spec: dict[str, Any]) -> None:
        command = [
            sys.executable, "-m", "registre.cli", *self.context.registry_args, "serve",
            spec["uri"], "--host", spec["host"], "--port", str(spec["port"]),
            "--poll-interval", str(spec["poll_interval"]), *spec["args"],
        ]  # fmt: skip
        log_file = directory / "server.log"
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this command, and Ctrl-C in this terminal
            )  # fmt: skip
        (directory / "server.pid").write_text(str(process.pid))
        write_json(directory / "deployment.json", {**spec, "pid": process.pid})
        url = f"http://{_client_host(spec['host'])}:{spec['port']}/ping"
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_file.read_text(errors="replace").strip().splitlines()[-5:]
                raise InvalidInput("the scoring server exited: " + " | ".join(tail))
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise InvalidInput(f"the scoring server did not answer {url} within {START_TIMEOUT}s")

    def _stop(self, directory: Path) -> None:
        pid = _pid(directory)
        if pid is None or not _alive(directory):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)  # the server leads its own session
        deadline = time.monotonic() + STOP_TIMEOUT
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        (directory / "server.pid").unlink(missing_ok=True)


def _pid(directory: Path) -> int | None:
    try:
        return int((directory / "server.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(directory: Path) -> bool:
    """Our server still runs: the pid is alive and is a ``registre ... serve`` process (a
    recycled pid must never be signalled)."""
    pid = _pid(directory)
    if pid is None or not _running(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return b"registre.cli" in cmdline and b"serve" in cmdline


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not running.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _client_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
