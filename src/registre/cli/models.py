"""``registre models``: registered models (one command per ``Client`` method)."""

from __future__ import annotations

from typing import Annotated

import typer

from registre.cli._common import (
    JsonOption,
    client,
    inline,
    local_time,
    more_results,
    new_table,
    pairs,
    print_fields,
    print_json,
    print_table,
    say,
    value_or_delete,
)
from registre.domain.entities import RegisteredModel

app = typer.Typer(help="Create, list, annotate and delete registered models.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Registered model name.")]


@app.command("list")
def list_models(
    ctx: typer.Context,
    filter: Annotated[
        str | None, typer.Option("--filter", help="e.g. \"name LIKE 'iris%'\".")
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="e.g. 'name ASC' (repeatable).")
    ] = None,
    max_results: Annotated[int | None, typer.Option("--max-results")] = None,
    page_token: Annotated[str | None, typer.Option("--page-token")] = None,
    json_: JsonOption = False,
) -> None:
    """List registered models (JSON: {"models": [...], "next_page_token": ...})."""
    page = client(ctx).search_models(filter, order_by, max_results, page_token)
    if json_:
        print_json(page.to_dict("models"))
        return
    table = new_table(
        "Name",
        "Latest",
        "Stages",
        "Aliases",
        "Updated",
        "Description",
        fold=["Name", "Stages", "Aliases", "Description"],
    )
    for model in page.items:
        table.add_row(
            model.name,
            str(model.latest_version or ""),
            _stages(model),
            inline(model.aliases),
            local_time(model.updated_at),
            model.description.splitlines()[0] if model.description else "",
        )
    print_table(table)
    more_results(page.next_page_token)


@app.command()
def create(
    ctx: typer.Context,
    name: Name,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    tag: Annotated[list[str] | None, typer.Option("--tag", help="KEY=VALUE (repeatable).")] = None,
    json_: JsonOption = False,
) -> None:
    """Create a registered model."""
    model = client(ctx).create_model(name, description, pairs(tag, "--tag"))
    if json_:
        print_json(model.to_dict())
    else:
        say(f"Created model {model.name!r}")


@app.command()
def show(ctx: typer.Context, name: Name, json_: JsonOption = False) -> None:
    """Show a registered model, its tags, aliases and latest version per stage."""
    model = client(ctx).get_model(name)
    if json_:
        print_json(model.to_dict())
        return
    print_fields(
        [
            ("Name", model.name),
            ("Description", model.description),
            ("Latest version", str(model.latest_version or "")),
            ("Stages", _stages(model)),
            ("Aliases", inline(model.aliases)),
            ("Tags", inline(model.tags)),
            ("Created", local_time(model.created_at)),
            ("Updated", local_time(model.updated_at)),
        ]
    )


@app.command()
def rename(
    ctx: typer.Context,
    name: Name,
    new_name: Annotated[str, typer.Argument(help="The new name.")],
    json_: JsonOption = False,
) -> None:
    """Rename a registered model (its versions and history follow)."""
    model = client(ctx).rename_model(name, new_name)
    if json_:
        print_json(model.to_dict())
    else:
        say(f"Renamed model {name!r} to {model.name!r}")


@app.command()
def delete(
    ctx: typer.Context,
    name: Name,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a registered model and all its versions."""
    if not yes:
        typer.confirm(f"Delete model {name!r} and all its versions?", abort=True, err=True)
    client(ctx).delete_model(name)
    say(f"Deleted model {name!r}")


@app.command()
def describe(
    ctx: typer.Context,
    name: Name,
    text: Annotated[str, typer.Argument(help="The new description.")],
    json_: JsonOption = False,
) -> None:
    """Set a registered model's description."""
    model = client(ctx).update_model(name, text)
    if json_:
        print_json(model.to_dict())
    else:
        say(f"Updated the description of model {model.name!r}")


@app.command()
def tag(
    ctx: typer.Context,
    name: Name,
    key: Annotated[str, typer.Argument(help="Tag key.")],
    value: Annotated[str | None, typer.Argument(help="Tag value (omit with --delete).")] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the tag.")] = False,
) -> None:
    """Set a model tag (tag NAME KEY VALUE) or remove it (tag NAME KEY --delete)."""
    value_or_delete(value, delete, "VALUE")
    if value is None:
        client(ctx).delete_model_tag(name, key)
        say(f"Removed tag {key!r} from model {name!r}")
    else:
        client(ctx).set_model_tag(name, key, value)
        say(f"Tagged model {name!r}: {key}={value}")


def _stages(model: RegisteredModel) -> str:
    return ", ".join(f"{v.stage.value}: {v.version}" for v in model.latest_versions)
