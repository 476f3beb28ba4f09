"""Shared benchmark plumbing: start servers, drive them with wrk, summarise."""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent

# wrk's Lua hooks: a request generator (per script) and a JSON summary on stdout.
_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "bytes": %d}\\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), summary.bytes))
end
"""


@dataclass
class LoadResult:
    name: str
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    requests: int

    def row(self) -> str:
        return (
            f"{self.name:<34} {self.rps:>9.0f} req/s  p50 {self.p50_ms:6.2f} ms  "
            f"p99 {self.p99_ms:6.2f} ms  errors {self.errors}"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def process(cmd: list[str], env: dict[str, str], health_url: str, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=out)
        try:
            wait_http(health_url, proc=proc)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A fresh directory for one benchmark's server data, removed afterwards (runs write GBs)."""
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as tmp:
        yield Path(tmp)


@contextmanager
def registre_server(workers: int, home: Path | None = None) -> Iterator[str]:
    if home is None:
        with scratch("registre-bench-") as fresh, registre_server(workers, fresh) as url:
            yield url
        return
    port = free_port()
    cmd = [sys.executable, "-m", "registre.server", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers)]  # fmt: skip
    env = {"REGISTRE_HOME": str(home), "REGISTRE_LOG_LEVEL": "warning"}
    with process(cmd, env, f"http://127.0.0.1:{port}/health", home / "server.log"):
        yield f"http://127.0.0.1:{port}"


def wrk(
    name: str,
    base_url: str,
    lua: str,
    *,
    connections: int = 16,
    duration: int = 10,
    threads: int = 2,
) -> LoadResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua + _DONE)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                script.name,
                base_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    data = json.loads(line[len("RESULT ") :])
    seconds = data["duration_us"] / 1e6
    return LoadResult(
        name=name,
        rps=(data["requests"] - data["non2xx"]) / seconds,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["errors"],
        requests=data["requests"],
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def lua_get(paths: list[str]) -> str:
    """A wrk script cycling through ``paths`` (one GET each)."""
    items = ",".join(json.dumps(p) for p in paths)
    return f"""
local paths = {{{items}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


def lua_post(path: str, body: str, method: str = "POST") -> str:
    return f"""
wrk.method = {json.dumps(method)}
wrk.body = {json.dumps(body)}
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, {json.dumps(path)})
end
"""


def lua_put_files(prefix: str, size: int) -> str:
    """A wrk script PUTting ``size``-byte files, each to a new path under ``prefix`` and with
    bytes of its own (a content-addressed store must not get away with storing one blob)."""
    return f"""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local filler = string.rep("r", {size})
local i = 0
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/octet-stream"
request = function()
  i = i + 1
  local head = string.format("%d-%d-", tid, i)
  local body = head .. filler:sub(#head + 1)
  return wrk.format(nil, string.format("{prefix}/%d-%d.bin", tid, i), nil, body)
end
"""
