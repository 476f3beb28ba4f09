"""The ``registre`` command: global options, then one sub-command group per noun."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registre.cli import (
    artifacts,
    deploy,
    import_mlflow,
    models,
    predict,
    serve,
    server,
    versions,
)
from registre.cli._common import RegistreGroup, State

app = typer.Typer(
    cls=RegistreGroup,
    help="Registre: a model registry. Embedded on --home by default, or a server with --url.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(models.app, name="models")
app.add_typer(versions.app, name="versions")
app.add_typer(artifacts.app, name="artifacts")
app.command("predict")(predict.predict)
app.command("server")(server.server)
app.command("serve")(serve.serve)
app.add_typer(deploy.app, name="deploy")
app.command("build-docker")(deploy.build_docker)
app.add_typer(server.db_app, name="db")
app.command("import-mlflow")(import_mlflow.import_mlflow)


def _print_version(value: bool) -> None:
    if value:
        from registre import __version__

        typer.echo(f"registre {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option("--url", envvar="REGISTRE_URL", help="A Registre server (wins over --home)."),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="REGISTRE_HOME",
            help="Embedded data directory.",
            show_default="./registre-data",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", envvar="REGISTRE_DATABASE_URL", help="Embedded: SQLAlchemy URL."
        ),
    ] = None,
    artifact_root: Annotated[
        str | None,
        typer.Option(
            "--artifact-root", envvar="REGISTRE_ARTIFACT_ROOT", help="Embedded: directory or s3://."
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            envvar="REGISTRE_USER",
            help="Who to record in the history.",
            show_default="the OS user",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    ctx.obj = State(url, home, database_url, artifact_root, user)
