"""Artifact transfer through the MLflow proxy: Registre against `mlflow server` and a floor.

    .venv/bin/python -m bench.transfer [--size-mb 256] [--rounds 5] [--only up|down]
    .venv/bin/python -m bench.transfer --src old=/tmp/old/src --src new=src --servers old,new

Every server runs with 2 workers on this machine; the client is httpx in this process doing what
``bench.mlflow_compare.transfer`` does (a PUT of a streamed body, then a GET read as it arrives).
Rounds are interleaved across servers (``--servers``, default ``registre,floor,mlflow``), so a
noisy neighbour slows all of them alike. Besides throughput (MB/s computed as in
``bench.mlflow_compare``: MiB per second), prints the CPU time the server's processes and this
client spent per transfer, which moves far less with the machine's load than wall-clock time.

``floor`` is uvicorn (same settings as Registre's) with an app that discards what it receives and
sends a constant buffer: the HTTP stack's own cost, with no storage, hashing or framework.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import free_port, process
from bench.mlflow_compare import get_big, put_big

MIB = 1024 * 1024
_TICK = os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> list[int]:
    """``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / _TICK


@contextmanager
def _registre(src: str | None) -> Iterator[tuple[str, list[int]]]:
    def command(home: Path, port: int) -> tuple[list[str], dict[str, str]]:
        cmd = [sys.executable, "-m", "registre.server", "--host", "127.0.0.1", "--port",
               str(port), "--workers", "2"]  # fmt: skip
        env = {"REGISTRE_HOME": str(home), "REGISTRE_LOG_LEVEL": "warning"}
        if src:
            env["PYTHONPATH"] = str(Path(src).resolve())
        return cmd, env

    with _started("registre", command) as started:
        yield started


@contextmanager
def _floor(size: int) -> Iterator[tuple[str, list[int]]]:
    def command(home: Path, port: int) -> tuple[list[str], dict[str, str]]:
        cmd = [sys.executable, "-m", "uvicorn", "bench.transfer:floor_app", "--host",
               "127.0.0.1", "--port", str(port), "--workers", "2", "--log-level", "warning",
               "--no-access-log"]  # fmt: skip
        env = {"BENCH_FLOOR_SIZE": str(size), "PYTHONPATH": str(Path(__file__).parent.parent)}
        return cmd, env

    with _started("floor", command) as started:
        yield started


@contextmanager
def _mlflow() -> Iterator[tuple[str, list[int]]]:
    def command(home: Path, port: int) -> tuple[list[str], dict[str, str]]:
        # As bench.mlflow_compare starts it.
        mlflow = Path(sys.executable).with_name("mlflow")
        cmd = [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "2", "--backend-store-uri", f"sqlite:///{home}/mlflow.db",
               "--artifacts-destination", str(home / "artifacts")]  # fmt: skip
        return cmd, {"PATH": f"{mlflow.parent}:{os.environ['PATH']}"}

    with _started("mlflow", command) as started:
        yield started


@contextmanager
def _started(
    kind: str, command: Callable[[Path, int], tuple[list[str], dict[str, str]]]
) -> Iterator[tuple[str, list[int]]]:
    """Run a server from a fresh directory (removed afterwards); yield its URL and pids."""
    before = set(_tree(os.getpid()))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix=f"{kind}-transfer-") as tmp:
        home = Path(tmp)
        cmd, env = command(home, port)
        with process(cmd, env, f"http://127.0.0.1:{port}/health", home / "server.log"):
            time.sleep(1.0)  # let every worker finish starting
            yield f"http://127.0.0.1:{port}", [p for p in _tree(os.getpid()) if p not in before]


def _run_path(client: httpx.Client) -> str:
    api = "/api/2.0/mlflow"
    name = f"transfer-{time.time_ns()}"
    res = client.post(f"{api}/experiments/create", json={"name": name})
    res.raise_for_status()
    res = client.post(f"{api}/runs/create", json={"experiment_id": res.json()["experiment_id"]})
    res.raise_for_status()
    return str(res.json()["run"]["info"]["artifact_uri"]).removeprefix("mlflow-artifacts:/")


class Target:
    def __init__(self, name: str, url: str, pids: list[int], floor: bool) -> None:
        self.name = name
        self.client = httpx.Client(base_url=url, timeout=600)
        self.pids = pids
        self.run_path = "x" if floor else _run_path(self.client)
        self.results: dict[str, list[tuple[float, float, float]]] = {"up": [], "down": []}

    def measure(self, size_mb: int, chunk: bytes, n: int, only: str = "") -> None:
        # With --only down, every round reads the file the warm-up wrote.
        name = f"big-{-1 if only == 'down' else n}.bin"
        path = f"/api/2.0/mlflow-artifacts/artifacts/{self.run_path}/{name}"
        if only != "down":
            os.sync()  # as bench.mlflow_compare: no writeback left over from before
            server, client, wall = self._timed(lambda: put_big(self.client, path, size_mb, chunk))
            self.results["up"].append((size_mb / wall, server, client))
        if only == "up":
            return
        os.sync()
        server, client, wall = self._timed(lambda: get_big(self.client, path, size_mb))
        self.results["down"].append((size_mb / wall, server, client))

    def _timed(self, action: Any) -> tuple[float, float, float]:
        server0, client0 = cpu_seconds(self.pids), time.process_time()
        started = time.perf_counter()
        action()
        wall = time.perf_counter() - started
        return cpu_seconds(self.pids) - server0, time.process_time() - client0, wall


async def floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Discard request bodies; answer a GET with BENCH_FLOOR_SIZE MiB of a constant buffer."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["method"] in ("PUT", "POST"):
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
    size = int(os.environ.get("BENCH_FLOOR_SIZE", "0")) if scope["method"] == "GET" else 0
    if scope["path"] == "/health":
        size = 0
    headers = [(b"content-length", str(size * MIB if size else 2).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if not size:
        await send({"type": "http.response.body", "body": b"{}"})
        return
    chunk = b"x" * MIB
    for i in range(size):
        await send({"type": "http.response.body", "body": chunk, "more_body": i < size - 1})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--servers", default="registre,floor,mlflow")
    parser.add_argument("--only", choices=["up", "down"], help="measure one direction")
    parser.add_argument(
        "--src", action="append", default=[], metavar="NAME=DIR",
        help="a Registre server named NAME running the code in DIR (a src/ directory)",
    )  # fmt: skip
    args = parser.parse_args()
    sources = dict(s.split("=", 1) for s in args.src)
    chunk = os.urandom(MIB)
    with ExitStack() as stack:
        targets = []
        for name in args.servers.split(","):
            if name == "mlflow":
                url, pids = stack.enter_context(_mlflow())
            elif name == "floor":
                url, pids = stack.enter_context(_floor(args.size_mb))
            else:
                url, pids = stack.enter_context(_registre(sources.get(name)))
            targets.append(Target(name, url, pids, floor=name == "floor"))
        for target in targets:  # warm-up: first-touch costs, connection set-up
            target.measure(args.size_mb, chunk, -1)
            target.results = {"up": [], "down": []}
        for n in range(args.rounds):
            for target in targets if n % 2 == 0 else reversed(targets):
                target.measure(args.size_mb, chunk, n, args.only or "")
        print(f"\n{args.size_mb} MiB, {args.rounds} rounds interleaved, medians "
              f"(load average now {os.getloadavg()[0]:.1f})")  # fmt: skip
        print(f"{'server':<12} {'dir':<5} {'MB/s':>7} {'min':>7} {'max':>7} "
              f"{'server CPU ms':>14} {'client CPU ms':>14}")  # fmt: skip
        for target in targets:
            for direction, rows in target.results.items():
                if not rows:
                    continue
                rates = [r[0] for r in rows]
                print(
                    f"{target.name:<12} {direction:<5} {statistics.median(rates):>7.0f} "
                    f"{min(rates):>7.0f} {max(rates):>7.0f} "
                    f"{statistics.median(r[1] for r in rows) * 1000:>14.0f} "
                    f"{statistics.median(r[2] for r in rows) * 1000:>14.0f}"
                )


if __name__ == "__main__":
    main()
