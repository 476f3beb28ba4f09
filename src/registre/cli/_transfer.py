"""Local files in, files out, with a progress bar of bytes moved (on stderr, terminals only)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from registre.cli._common import err_console
from registre.client.client import Client
from registre.domain.entities import FileEntry
from registre.store.blobs.base import CountingReader, StoredBlob, iter_chunks


class _CountingClient(Client):
    """The same Client, reporting every chunk it uploads or downloads.

    Overriding the two byte-moving methods lets ``register_files`` and ``download`` (and their
    digest checks) run unchanged.
    """

    def __init__(self, inner: Client, advance: Callable[[int], object]) -> None:
        self.backend = inner.backend
        self._advance = advance

    def upload_blob(
        self, source: BinaryIO | Iterable[bytes], expected_digest: str | None = None
    ) -> StoredBlob:
        counted: BinaryIO | Iterable[bytes]
        if hasattr(source, "read"):  # stays a seekable file: a server learns its size up front
            counted = cast(BinaryIO, CountingReader(cast(BinaryIO, source), self._advance))
        else:
            counted = self._counted(iter_chunks(source))
        return super().upload_blob(counted, expected_digest)

    def open_file(
        self, name: str, version: int | str, path: str
    ) -> tuple[FileEntry, Iterator[bytes]]:
        entry, stream = super().open_file(name, version, path)
        return entry, self._counted(stream)

    def _counted(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self._advance(len(chunk))
            yield chunk


@contextmanager
def progress(client: Client, total: int | None, label: str) -> Iterator[Client]:
    """Yield a Client whose transfers advance a progress bar (``total`` bytes, if known)."""
    errors = err_console()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield _CountingClient(client, lambda n: bar.advance(task, n))


def expand(paths: Sequence[Path]) -> list[tuple[str, Path]]:
    """Each PATH argument as (artifact path, local file): a file by its name, a directory by
    its tree."""
    found: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir():
            tree = sorted(p for p in path.rglob("*") if p.is_file())
            found.extend((p.relative_to(path).as_posix(), p) for p in tree)
        else:
            found.append((path.name, path))
    return found


def local_files(paths: Sequence[Path]) -> dict[str, Path]:
    """The files a version will hold, by artifact path; two arguments may not claim one path."""
    files: dict[str, Path] = {}
    for rel, local in expand(paths):
        if rel in files:
            raise typer.BadParameter(f"{rel!r} comes from both {files[rel]} and {local}")
        files[rel] = local
    return files


def total_size(paths: Iterable[Path]) -> int:
    return sum(p.stat().st_size for p in paths)
