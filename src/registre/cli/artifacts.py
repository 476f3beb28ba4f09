"""``registre artifacts``: the files of a version, and raw content-addressed uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registre.cli._common import JsonOption, client, new_table, print_json, print_table
from registre.cli._transfer import expand, progress, total_size

app = typer.Typer(help="List, download and upload model files.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Registered model name.")]
Version = Annotated[str, typer.Argument(help="Version number.")]


@app.command("ls")
def ls(ctx: typer.Context, name: Name, version: Version, json_: JsonOption = False) -> None:
    """List a version's files: path, size, sha256."""
    files = client(ctx).list_files(name, version)
    if json_:
        print_json([{"path": f.path, "size": f.size, "digest": f.digest} for f in files])
        return
    table = new_table("Path", "Size", "SHA-256", fold=["Path", "SHA-256"])
    table.columns[1].justify = "right"
    for entry in files:
        table.add_row(entry.path, str(entry.size), entry.digest)
    print_table(table)


@app.command()
def get(
    ctx: typer.Context,
    name: Name,
    version: Version,
    path: Annotated[
        str | None, typer.Argument(help="One file or directory of the version (default: all).")
    ] = None,
    dest: Annotated[Path, typer.Option("--dest", help="Directory to write into.")] = Path("."),
) -> None:
    """Download files, checking each against its recorded sha256; prints the paths written."""
    registry = client(ctx)
    # Client.download picks the files and checks them; the bar's size is known for "all".
    total = None if path else sum(f.size or 0 for f in registry.list_files(name, version))
    with progress(registry, total, "downloading") as downloading:
        written = downloading.download(name, version, dest, path)
    for target in written:
        typer.echo(str(target))


@app.command()
def put(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(exists=True, help="Files or directories to upload.")
    ],
    json_: JsonOption = False,
) -> None:
    """Upload files as content-addressed blobs; prints "SHA256  SIZE  PATH" for each."""
    files = [local for _, local in expand(paths)]
    with progress(client(ctx), total_size(files), "uploading") as uploading:
        stored = []
        for local in files:
            with local.open("rb") as handle:
                stored.append((local, uploading.upload_blob(handle)))
    if json_:
        print_json([{"path": str(p), "size": b.size, "digest": b.digest} for p, b in stored])
        return
    for local, blob in stored:
        typer.echo(f"{blob.digest}  {blob.size}  {local}")
