"""``python -m registre.server --host 127.0.0.1 --port 5000 [--workers 4]``."""

from __future__ import annotations

import argparse

from registre.config import load_settings
from registre.server.run import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m registre.server",
        description="Run the Registre server (defaults from REGISTRE_* variables).",
    )
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--home", help="data directory for the default database and artifacts")
    parser.add_argument("--database-url", help="sqlite:///... or postgresql://...")
    parser.add_argument("--artifact-root", help="a directory or s3://bucket/prefix")
    parser.add_argument("--log-level")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    settings = load_settings(
        host=args.host,
        port=args.port,
        workers=args.workers,
        home=args.home,
        database_url=args.database_url,
        artifact_root=args.artifact_root,
        log_level=args.log_level,
    )
    serve(settings, access_log=args.access_log)


if __name__ == "__main__":
    main()
