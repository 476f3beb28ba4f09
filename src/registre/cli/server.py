"""``registre server``, ``registre db upgrade`` and ``registre db gc``: server and maintenance."""

from __future__ import annotations

from typing import Annotated

import typer

from registre.cli._common import say, state

db_app = typer.Typer(help="Database and storage maintenance.", no_args_is_help=True)


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


@db_app.command()
def gc(
    ctx: typer.Context,
    grace_hours: Annotated[
        float, typer.Option("--grace-hours", help="Keep unreferenced blobs younger than this.")
    ] = 24.0,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Delete blobs that no version, run or logged model references (--home / --artifact-root)."""
    import json

    from registre.service.maintenance import collect_garbage
    from registre.service.registry import Registry

    settings = state(ctx).settings()
    registry = Registry.open(settings.database_url, settings.artifact_root)
    try:
        report = collect_garbage(registry, grace_seconds=grace_hours * 3600, dry_run=dry_run)
    finally:
        registry.close()
    if as_json:
        typer.echo(json.dumps(report.to_dict()))
        return
    verb = "would delete" if dry_run else "deleted"
    say(
        f"examined {report.examined} blobs: {report.referenced} referenced, "
        f"{report.too_young} younger than {grace_hours:g} h, {verb} {len(report.deleted)} "
        f"({report.freed_bytes} bytes)"
    )
