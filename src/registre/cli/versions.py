"""``registre versions``: register, inspect, promote, alias, roll back and resolve versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from registre.cli._common import (
    JsonOption,
    client,
    inline,
    local_time,
    more_results,
    new_table,
    numbers,
    pairs,
    print_fields,
    print_json,
    print_table,
    say,
    text,
    value_or_delete,
)
from registre.cli._transfer import local_files, progress, total_size
from registre.domain.entities import Event, ModelVersion

app = typer.Typer(help="Register model versions and manage their lifecycle.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Registered model name.")]
Version = Annotated[str, typer.Argument(help="Version number.")]


@app.command()
def register(
    ctx: typer.Context,
    name: Name,
    paths: Annotated[
        list[Path],
        typer.Argument(
            exists=True, help="Files or directories (a directory uploads its whole tree)."
        ),
    ],
    metric: Annotated[
        list[str] | None, typer.Option("--metric", "-m", help="KEY=NUMBER (repeatable).")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="KEY=VALUE (repeatable).")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="KEY=VALUE (repeatable).")
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    source: Annotated[str, typer.Option("--source", help="Where the model came from.")] = "",
    run_id: Annotated[str | None, typer.Option("--run-id")] = None,
    json_: JsonOption = False,
) -> None:
    """Upload files and register them as the next version of NAME (created if new)."""
    files = local_files(paths)
    metrics, params, tags = (
        numbers(metric, "--metric"),
        pairs(param, "--param"),
        pairs(tag, "--tag"),
    )
    with progress(client(ctx), total_size(files.values()), "uploading") as uploading:
        version = uploading.register_files(
            name,
            files,
            metrics=metrics,
            params=params,
            tags=tags,
            description=description,
            source=source,
            run_id=run_id,
        )
    if json_:
        print_json(version.to_dict())
    else:
        count = len(version.files)
        files_text = f"{count} file" + ("" if count == 1 else "s")
        say(f"Registered {version.name!r} version {version.version} ({files_text})")


@app.command("list")
def list_versions(ctx: typer.Context, name: Name, json_: JsonOption = False) -> None:
    """List every version of a model (JSON: a list of versions)."""
    versions = client(ctx).list_versions(name)
    if json_:
        print_json([v.to_dict() for v in versions])
    else:
        print_table(_versions_table(versions, with_name=False))


@app.command()
def show(ctx: typer.Context, name: Name, version: Version, json_: JsonOption = False) -> None:
    """Show one version: stage, aliases, metrics, params, tags and files."""
    found = client(ctx).get_version(name, version)
    if json_:
        print_json(found.to_dict())
        return
    print_fields(
        [
            ("Name", found.name),
            ("Version", str(found.version)),
            ("Stage", found.stage.value),
            ("Status", found.status.value),
            ("Aliases", ", ".join(found.aliases)),
            ("Description", found.description),
            ("Metrics", inline(found.metrics)),
            ("Params", inline(found.params)),
            ("Tags", inline(found.tags)),
            ("Source", found.source),
            ("Run ID", found.run_id or ""),
            ("Created by", found.created_by or ""),
            ("Created", local_time(found.created_at)),
            ("Updated", local_time(found.updated_at)),
            ("Files", f"{len(found.files)} ({sum(f.size or 0 for f in found.files)} bytes)"),
        ]
    )


@app.command()
def search(
    ctx: typer.Context,
    filter: Annotated[
        str | None,
        typer.Option("--filter", help="e.g. \"metrics.accuracy > 0.9 and stage = 'Production'\"."),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", help="e.g. 'metrics.accuracy DESC' (repeatable)."),
    ] = None,
    max_results: Annotated[int | None, typer.Option("--max-results")] = None,
    page_token: Annotated[str | None, typer.Option("--page-token")] = None,
    json_: JsonOption = False,
) -> None:
    """Search versions of all models (JSON: {"versions": [...], "next_page_token": ...})."""
    page = client(ctx).search_versions(filter, order_by, max_results, page_token)
    if json_:
        print_json(page.to_dict("versions"))
        return
    print_table(_versions_table(page.items, with_name=True))
    more_results(page.next_page_token)


@app.command()
def transition(
    ctx: typer.Context,
    name: Name,
    version: Version,
    stage: Annotated[str, typer.Argument(help="None, Staging, Production or Archived.")],
    archive_existing: Annotated[
        bool,
        typer.Option("--archive-existing", help="Archive the versions now in STAGE."),
    ] = False,
    json_: JsonOption = False,
) -> None:
    """Move a version to a stage."""
    moved = client(ctx).transition_stage(name, version, stage, archive_existing)
    _done(moved, json_, f"{moved.name!r} version {moved.version} is now in {moved.stage.value}")


@app.command()
def rollback(
    ctx: typer.Context,
    name: Name,
    stage: Annotated[str, typer.Option("--stage", help="The stage to roll back.")] = "Production",
    json_: JsonOption = False,
) -> None:
    """Put back the version that held STAGE before the current one (which is archived)."""
    restored = client(ctx).rollback(name, stage)
    _done(
        restored,
        json_,
        f"Rolled back: {restored.name!r} version {restored.version} "
        f"is in {restored.stage.value} again",
    )


@app.command()
def alias(
    ctx: typer.Context,
    name: Name,
    alias: Annotated[str, typer.Argument(help="Alias, e.g. champion.")],
    version: Annotated[str | None, typer.Argument(help="Version (omit with --delete).")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the alias.")] = False,
) -> None:
    """Point an alias at a version (alias NAME ALIAS VERSION) or remove it (--delete)."""
    value_or_delete(version, delete, "VERSION")
    if version is None:
        client(ctx).delete_alias(name, alias)
        say(f"Removed alias {alias!r} from model {name!r}")
    else:
        moved = client(ctx).set_alias(name, alias, version)
        say(f"{moved.name}@{alias} → version {moved.version}")


@app.command()
def tag(
    ctx: typer.Context,
    name: Name,
    version: Version,
    key: Annotated[str, typer.Argument(help="Tag key.")],
    value: Annotated[str | None, typer.Argument(help="Tag value (omit with --delete).")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the tag.")] = False,
) -> None:
    """Set a version tag (tag NAME VERSION KEY VALUE) or remove it (--delete)."""
    value_or_delete(value, delete, "VALUE")
    if value is None:
        client(ctx).delete_version_tag(name, version, key)
        say(f"Removed tag {key!r} from {name!r} version {version}")
    else:
        client(ctx).set_version_tag(name, version, key, value)
        say(f"Tagged {name!r} version {version}: {key}={value}")


@app.command()
def describe(
    ctx: typer.Context,
    name: Name,
    version: Version,
    text: Annotated[str, typer.Argument(help="The new description.")],
    json_: JsonOption = False,
) -> None:
    """Set a version's description."""
    updated = client(ctx).update_version(name, version, text)
    _done(updated, json_, f"Updated the description of {name!r} version {updated.version}")


@app.command()
def delete(
    ctx: typer.Context,
    name: Name,
    version: Version,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete one version (its blobs stay until garbage collection)."""
    if not yes:
        typer.confirm(f"Delete {name!r} version {version}?", abort=True, err=True)
    client(ctx).delete_version(name, version)
    say(f"Deleted {name!r} version {version}")


@app.command()
def history(
    ctx: typer.Context,
    name: Name,
    version: Annotated[str | None, typer.Option("--version", help="One version only.")] = None,
    max_results: Annotated[int | None, typer.Option("--max-results")] = None,
    page_token: Annotated[str | None, typer.Option("--page-token")] = None,
    json_: JsonOption = False,
) -> None:
    """Who changed what, when (JSON: {"events": [...], "next_page_token": ...})."""
    page = client(ctx).history(name, version, max_results, page_token)
    if json_:
        print_json(page.to_dict("events"))
        return
    table = new_table("When", "Who", "Action", "Version", "Change", fold=["Who", "Change"])
    for event in page.items:
        table.add_row(
            local_time(event.at),
            event.actor,
            event.action,
            "" if event.version is None else str(event.version),
            _change(event),
        )
    print_table(table)
    more_results(page.next_page_token)


@app.command()
def resolve(
    ctx: typer.Context,
    uri: Annotated[
        str, typer.Argument(help="models:/NAME/<version|stage|latest> or models:/NAME@ALIAS")
    ],
    json_: JsonOption = False,
) -> None:
    """Print the version a models:/ URI resolves to."""
    found = client(ctx).resolve_uri(uri)
    aliases = f", aliases: {', '.join(found.aliases)}" if found.aliases else ""
    _done(found, json_, f"{uri} → {found.uri} (stage {found.stage.value}{aliases})")


def _done(version: ModelVersion, json_: bool, message: str) -> None:
    if json_:
        print_json(version.to_dict())
    else:
        say(message)


def _versions_table(versions: list[ModelVersion], *, with_name: bool) -> Table:
    headers = ["Version", "Stage", "Aliases", "Status", "Metrics", "Created"]
    table = new_table(
        *(["Name"] if with_name else []), *headers, fold=["Name", "Aliases", "Metrics"]
    )
    for v in versions:
        table.add_row(
            *([v.name] if with_name else []),
            str(v.version),
            v.stage.value,
            ", ".join(v.aliases),
            v.status.value,
            inline(v.metrics),
            local_time(v.created_at),
        )
    return table


def _change(event: Event) -> str:
    """``stage: None → Staging``: a field in both before and after shows as from → to; a field
    on one side only (what was created, removed or noted) as ``key=value``."""
    before: dict[str, Any] = event.before or {}
    after: dict[str, Any] = event.after or {}
    parts = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in before and key in after and before[key] != after[key]:
            parts.append(f"{key}: {text(before[key])} → {text(after[key])}")
        else:
            parts.append(f"{key}={text(after.get(key, before.get(key)))}")
    return ", ".join(parts)
