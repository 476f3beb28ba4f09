"""What every command shares: global options, the Client, output, and the one error mapping."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import click
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup
from typer.exceptions import TyperException

from registre.client.client import Client
from registre.config import Settings, load_settings
from registre.domain.errors import RegistreError

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (nothing else on stdout).")]


@dataclass
class State:
    """The root options; a command asks for the Client, which is opened on first use."""

    url: str | None = None
    home: Path | None = None
    database_url: str | None = None
    artifact_root: str | None = None
    user: str | None = None
    client: Client | None = field(default=None, repr=False)

    def settings(self, **overrides: object) -> Settings:
        return load_settings(
            home=self.home,
            database_url=self.database_url,
            artifact_root=self.artifact_root,
            **overrides,
        )


def state(ctx: typer.Context) -> State:
    return ctx.find_root().ensure_object(State)


def client(ctx: typer.Context) -> Client:
    """The Client for this invocation: remote with ``--url``, else embedded (closed on exit)."""
    current = state(ctx)
    if current.client is None:
        current.client = _open_client(current)
        ctx.find_root().call_on_close(current.client.close)
    return current.client


def _open_client(current: State) -> Client:
    from registre.service.context import set_actor

    set_actor(current.user)  # None: the OS user, embedded or sent to the server
    if current.url:
        from registre.client.remote import RemoteBackend

        backend: Any = RemoteBackend(current.url, user=current.user)
    else:
        from registre.service.registry import Registry

        settings = current.settings()
        backend = Registry.open(settings.database_url, settings.artifact_root)
    return Client.from_backend(backend)


# ---- output -------------------------------------------------------------------------------
def console() -> Console:
    # Made per call so that COLUMNS and the current sys.stdout (CliRunner swaps it) apply.
    return Console(highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def new_table(*headers: str, fold: Sequence[str] = ()) -> Table:
    """A table whose short columns stay on one line and whose ``fold`` columns (names, paths,
    digests) wrap when narrow, without losing characters."""
    table = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in table.columns:
        if column.header in fold:
            column.overflow = "fold"
            column.min_width = len(str(column.header))
        else:
            column.no_wrap = True
    return table


def print_table(table: Table) -> None:
    console().print(table)


def print_fields(rows: Iterable[tuple[str, str]]) -> None:
    """A two-column ``label  value`` listing for one entity."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    console().print(grid)


def say(message: str) -> None:
    """A confirmation for humans, on stdout (markup-free: names may contain brackets)."""
    console().print(message, markup=False)


def more_results(token: str | None) -> None:
    if token:
        err_console().print(f"more results: --page-token {token}", markup=False)


def local_time(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000).isoformat(timespec="seconds")


def inline(mapping: dict[str, Any]) -> str:
    """``a=1, b=x`` for tags, metrics and params in a table cell."""
    return ", ".join(f"{k}={text(v)}" for k, v in mapping.items())


def text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# ---- input --------------------------------------------------------------------------------
def pairs(values: Sequence[str] | None, option: str) -> dict[str, str]:
    """``["k=v", ...]`` → ``{"k": "v"}``; the values' meaning is the service's to check."""
    parsed: dict[str, str] = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint=option)
        parsed[key] = value
    return parsed


def numbers(values: Sequence[str] | None, option: str) -> dict[str, Any]:
    """Like :func:`pairs`, with numeric text as floats; other text goes on for the service
    to reject with its own message."""
    parsed: dict[str, Any] = {}
    for key, value in pairs(values, option).items():
        try:
            parsed[key] = float(value)
        except ValueError:
            parsed[key] = value
    return parsed


def value_or_delete(value: str | None, delete: bool, what: str) -> None:
    """Commands like ``tag NAME KEY VALUE`` / ``tag NAME KEY --delete`` take exactly one."""
    if delete and value is not None:
        raise typer.BadParameter(f"give either {what} or --delete, not both")
    if not delete and value is None:
        raise typer.BadParameter(f"missing {what} (or pass --delete)")


# ---- errors -------------------------------------------------------------------------------
def fail(message: str, exit_code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(exit_code)


class RegistreGroup(TyperGroup):
    """The root group: maps every expected error to one stderr line and an exit code."""

    def invoke(self, ctx: Any) -> Any:  # Any: Typer's context class is private
        try:
            return super().invoke(ctx)
        except RegistreError as err:
            fail(err.message, err.exit_code)
        except KeyboardInterrupt:  # older Typer versions print "Aborted!" and exit 1
            raise typer.Exit(130) from None
        except BrokenPipeError:
            raise  # Typer handles a closed pipe (`registre ... | head`) itself
        except OSError as err:
            where = f": {err.filename}" if err.filename else ""
            fail(f"{err.strerror or err}{where}", 1)
        except (typer.Exit, typer.Abort, TyperException, click.exceptions.ClickException):
            raise  # usage errors and exits: Typer reports them (exit 2 for bad usage)
        except Exception as err:
            # A bug or an unexpected environment (e.g. a database from an incompatible
            # build): one line, the traceback only on request.
            if os.environ.get("REGISTRE_DEBUG"):
                raise
            summary = str(err).splitlines()[0] if str(err) else ""
            fail(
                f"unexpected {type(err).__name__}: {summary[:300]} "
                "(set REGISTRE_DEBUG=1 for the traceback)",
                1,
            )
