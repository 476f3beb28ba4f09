"""``registre server`` and ``registre db upgrade``: the embedded options' database and server."""

from __future__ import annotations

from typing import Annotated

import typer

from registre.cli._common import say, state

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


def server(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Default 127.0.0.1.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Default 5000.")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Default 1.")] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="Default info.")] = None,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every request.")] = False,
) -> None:
    """Serve the REST APIs over --home / --database-url / --artifact-root (not --url)."""
    from registre.server.run import serve

    settings = state(ctx).settings(host=host, port=port, workers=workers, log_level=log_level)
    serve(settings, access_log=access_log)


@db_app.command()
def upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the metadata database (--home / --database-url) and print its revision."""
    from registre.store.sql.engine import current_revision, upgrade

    url = state(ctx).settings().database_url
    upgrade(url, revision)
    say(f"database at revision {current_revision(url)}")
