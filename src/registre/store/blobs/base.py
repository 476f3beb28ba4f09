"""The blob store interface: immutable, content-addressed (sha256) bytes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from registre.domain.errors import IntegrityError, InvalidInput

CHUNK_SIZE = 1024 * 1024
DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    digest: str  # lowercase hex sha256
    size: int


@dataclass(frozen=True, slots=True)
class BlobInfo:
    digest: str
    size: int
    modified: float  # seconds since the epoch: when the blob was last written or re-uploaded


def check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise InvalidInput(f"invalid sha256 digest: {digest!r}")
    return digest


def iter_chunks(
    source: BinaryIO | Iterable[bytes], chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """Yield non-empty byte chunks from a file-like object or an iterable of bytes."""
    if hasattr(source, "read"):
        while chunk := source.read(chunk_size):
            yield chunk
    else:
        for chunk in source:
            if chunk:
                yield bytes(chunk)


class CountingReader:
    """A file-like reader that reports the size of every chunk read (for progress bars); it
    stays seekable so an HTTP client can still learn the length up front."""

    def __init__(self, raw: BinaryIO, advance: Callable[[int], object]) -> None:
        self._raw = raw
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._advance(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def verified(chunks: Iterable[bytes], digest: str, size: int | None = None) -> Iterator[bytes]:
    """Pass chunks through, raising IntegrityError at the end if they do not hash to ``digest``.

    The check runs before the last chunk is released, so a consumer never sees a complete,
    silently wrong stream.
    """
    hasher = hashlib.sha256()
    total = 0
    pending: bytes | None = None
    for chunk in chunks:
        if pending is not None:
            yield pending
        hasher.update(chunk)
        total += len(chunk)
        pending = chunk
    if hasher.hexdigest() != digest or (size is not None and total != size):
        raise IntegrityError(f"blob {digest} is corrupted: its bytes no longer match their digest")
    if pending is not None:
        yield pending


class BlobStore(Protocol):
    """Where file bytes live. Writes are atomic: a blob is visible only once complete."""

    def put(
        self, source: BinaryIO | Iterable[bytes], expected_digest: str | None = None
    ) -> StoredBlob:
        """Stream ``source`` in, hash it, and store it under its sha256 (once, however often)."""
        ...

    def exists(self, digest: str) -> bool: ...

    def size(self, digest: str) -> int:
        """Size in bytes; raises NotFound when absent."""
        ...

    def open(self, digest: str) -> Iterator[bytes]:
        """Stream the blob's bytes, verifying them against ``digest`` (IntegrityError if not)."""
        ...

    def delete(self, digest: str) -> None: ...

    def iter_digests(self) -> Iterator[str]:
        """Every stored digest."""
        ...

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every stored blob with its size and age (for garbage collection)."""
        ...
