"""Regenerate docs/cli.md (from the Typer app) and docs/rest.md (from the OpenAPI document).

.venv/bin/python scripts/gen_docs.py          # write
.venv/bin/python scripts/gen_docs.py --check  # exit 1 if the committed docs are stale
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

REST_INTRO = """# REST reference (`/api/v1`)

Generated from the server's OpenAPI document (`GET /openapi.json`; browse it at `/docs`).
Regenerate with `.venv/bin/python scripts/gen_docs.py`.

Conventions:
- JSON in and out; model names are path segments (percent-encoded), versions are integers.
- Errors: `{"error": {"code": "NOT_FOUND", "message": "..."}}` with status 400 (`INVALID_INPUT`),
  404 (`NOT_FOUND`), 409 (`ALREADY_EXISTS`, `CONFLICT`), 413 (`PAYLOAD_TOO_LARGE`),
  422 (`INVALID_REQUEST`: the body does not match the schema), 500 (`INTEGRITY_ERROR`,
  `INTERNAL_ERROR`) or 507 (`STORAGE_FULL`: no space left; nothing was stored). Never a traceback.
- The actor recorded in the history is the `X-Registre-User` header.
- Files: upload bytes with `POST /api/v1/blobs` (raw body, optional `X-Registre-Sha256`), then
  register a version that lists `{path, digest, size}`; downloads carry `ETag` and
  `X-Registre-Sha256` and are verified against the digest while they stream.

```bash
digest=$(curl -s --data-binary @model.skops http://127.0.0.1:5000/api/v1/blobs | jq -r .digest)
body=$(jq -n --arg d "$digest" '{files: [{path: "model/model.skops", digest: $d}],
                                   metrics: {accuracy: 0.97}}')
curl -s -X POST http://127.0.0.1:5000/api/v1/models/Iris/versions \\
  -H 'Content-Type: application/json' -d "$body"
curl -s -X POST http://127.0.0.1:5000/api/v1/models/Iris/versions/1/stage \\
  -H 'Content-Type: application/json' -d '{"stage": "production", "archive_existing": true}'
curl -s "http://127.0.0.1:5000/api/v1/versions?filter=metrics.accuracy%20%3E%200.9"
```

| method | path | summary |
|---|---|---|
"""


def rest_md() -> str:
    from registre.config import Settings
    from registre.server.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        spec = create_app(Settings(home=Path(tmp))).openapi()
    rows = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            summary = (op.get("summary") or "").replace("|", "\\|")
            rows.append(f"| {method.upper()} | `{path}` | {summary} |")
    return REST_INTRO + "\n".join(rows) + "\n"


def cli_md() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cli.md"
        typer = Path(sys.executable).with_name("typer")
        subprocess.run(
            [str(typer), "registre.cli.main", "utils", "docs", "--name", "registre",
             "--title", "CLI reference", "--output", str(out)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return out.read_text()


def main() -> int:
    docs = {ROOT / "docs" / "rest.md": rest_md(), ROOT / "docs" / "cli.md": cli_md()}
    if "--check" in sys.argv:
        stale = [str(p.relative_to(ROOT)) for p, text in docs.items() if p.read_text() != text]
        if stale:
            print(f"stale: {', '.join(stale)} (run scripts/gen_docs.py)")
            return 1
        return 0
    for path, text in docs.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
