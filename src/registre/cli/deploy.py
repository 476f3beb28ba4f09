"""``registre deploy ...`` and ``registre build-docker``: deploying registered models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from registre.cli._common import (
    JsonOption,
    client,
    new_table,
    pairs,
    print_fields,
    print_json,
    print_table,
    say,
    state,
)

if TYPE_CHECKING:
    from registre.deploy import Deployment, DeploymentTarget

app = typer.Typer(help="Deploy models: local, docker, kubernetes, sagemaker, azureml, vertexai.",
                  no_args_is_help=True)  # fmt: skip

TargetOption = Annotated[
    str, typer.Option("--target", "-t", help="Where to deploy (see `registre deploy targets`).")
]
ConfigOption = Annotated[
    list[str] | None,
    typer.Option("--config", "-C", help="KEY=VALUE target setting (repeatable)."),
]
NameArgument = Annotated[str, typer.Argument(help="Deployment name (lowercase, digits, '-').")]


def _target(ctx: typer.Context, name: str) -> DeploymentTarget:
    from registre.deploy import TargetContext, get_target

    current = state(ctx)
    settings = current.settings()
    if current.url:
        args = ["--url", current.url]
    else:
        args = ["--home", str(settings.home.resolve())]
        if current.database_url:
            args += ["--database-url", current.database_url]
        if current.artifact_root:
            args += ["--artifact-root", current.artifact_root]
    context = TargetContext(settings.home.resolve(), lambda: client(ctx), args)
    return get_target(name, context)


def _show(deployment: Deployment, as_json: bool) -> None:
    if as_json:
        print_json(deployment.to_dict())
        return
    rows = [
        ("name", deployment.name), ("target", deployment.target), ("uri", deployment.uri),
        ("status", deployment.status), ("version", deployment.version or ""),
        ("endpoint", deployment.endpoint or ""),
    ]  # fmt: skip
    rows += [(key, str(value)) for key, value in deployment.details.items()]
    print_fields(rows)
    if deployment.commands:
        # Plain echo, not the console: commands must stay on one line to be copied.
        typer.echo("\nto apply it, run:")
        for command in deployment.commands:
            typer.echo(f"  {command}")


@app.command()
def create(
    ctx: typer.Context,
    name: NameArgument,
    uri: Annotated[str, typer.Argument(help="models:/NAME/<version|stage|latest> or @ALIAS.")],
    target: TargetOption = "local",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deploy URI as NAME on the target."""
    _show(_target(ctx, target).create(name, uri, pairs(config, "--config")), as_json)


@app.command()
def update(
    ctx: typer.Context,
    name: NameArgument,
    uri: Annotated[str | None, typer.Argument(help="A new URI (default: the same).")] = None,
    target: TargetOption = "local",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Point NAME at another URI or version, or apply new settings."""
    _show(_target(ctx, target).update(name, uri, pairs(config, "--config")), as_json)


@app.command()
def get(
    ctx: typer.Context,
    name: NameArgument,
    target: TargetOption = "local",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one deployment: status, endpoint, the version it serves."""
    _show(_target(ctx, target).get(name, pairs(config, "--config")), as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    target: TargetOption = "local",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the target's deployments."""
    found = _target(ctx, target).list(pairs(config, "--config"))
    if as_json:
        print_json([d.to_dict() for d in found])
        return
    table = new_table("name", "status", "version", "uri", "endpoint", fold=("uri", "endpoint"))
    for d in found:
        table.add_row(d.name, d.status, d.version or "", d.uri, d.endpoint or "")
    print_table(table)


@app.command()
def delete(
    ctx: typer.Context,
    name: NameArgument,
    target: TargetOption = "local",
    config: ConfigOption = None,
) -> None:
    """Stop and remove a deployment."""
    remaining = _target(ctx, target).delete(name, pairs(config, "--config"))
    say(f"deleted {target} deployment {name}")
    if remaining:
        typer.echo("to remove it from the platform too, run:")
        for command in remaining:
            typer.echo(f"  {command}")


@app.command()
def targets() -> None:
    """List the deployment targets (built in, and plugins' entry points)."""
    from registre.deploy import target_names

    for name in target_names():
        typer.echo(name)


def build_docker(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="models:/NAME/<version|stage|latest> or @ALIAS.")],
    tag: Annotated[str | None, typer.Option("--tag", "-t", help="Image tag.")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Build context directory (default ./docker-NAME-vN)."),
    ] = None,
    base_image: Annotated[
        str | None, typer.Option("--base-image", help="Default python:<model's X.Y>-slim.")
    ] = None,
    build: Annotated[
        bool, typer.Option("--build/--no-build", help="Run docker build if an engine answers.")
    ] = True,
) -> None:
    """Write a Docker build context for URI (model files, digests, Dockerfile) and build it."""
    from registre.deploy.image import docker_available, write_build_context

    context = write_build_context(client(ctx), uri, output, tag=tag, base_image=base_image)
    say(f"wrote {context.directory} ({context.version.name} v{context.version.version})")
    command = context.build_command()
    if build and docker_available():
        import subprocess

        say(f"running: {' '.join(command)}")
        subprocess.run(command, check=True)
        say(f"built {context.tag}")
    else:
        reason = "no Docker engine answers" if build else "--no-build"
        typer.echo(f"{reason}; build it with:\n  {' '.join(command)}")
