"""Continuous load from its own process: ``python tests/serving/loadgen.py URL THREADS STOP OUT``.

Each thread posts one scoring request after another until the file STOP exists, then every
request's (start, end, status, served version) goes to OUT as JSON.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import httpx

BODY = {
    "dataframe_split": {
        "columns": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                    "petal width (cm)"],
        "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]],
    }
}  # fmt: skip


def worker(url: str, stop: Path, out: list[dict[str, object]]) -> None:
    with httpx.Client(timeout=30) as client:
        while not stop.exists():
            started = time.time()
            try:
                response = client.post(f"{url}/invocations", json=BODY)
                status, version = response.status_code, response.headers.get("X-Model-Version")
            except httpx.HTTPError as exc:
                status, version = 0, repr(exc)
            out.append({"start": started, "end": time.time(), "status": status,
                        "version": version})  # fmt: skip


def main() -> None:
    url, threads, stop, out_file = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
    results: list[dict[str, object]] = []
    pool = [threading.Thread(target=worker, args=(url, stop, results)) for _ in range(threads)]
    for thread in pool:
        thread.start()
    Path(out_file + ".started").touch()
    for thread in pool:
        thread.join()
    Path(out_file).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
