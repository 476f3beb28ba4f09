"""Content-addressed blob stores: a local directory or S3-compatible object storage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from registre.domain.errors import InvalidInput
from registre.store.blobs.base import BlobStore, StoredBlob
from registre.store.blobs.local import LocalBlobStore

if TYPE_CHECKING:
    from registre.store.blobs.s3 import S3BlobStore

__all__ = ["BlobStore", "LocalBlobStore", "S3BlobStore", "StoredBlob", "open_blob_store"]


def open_blob_store(location: str) -> BlobStore:
    """Open the blob store at ``location``: ``s3://bucket/prefix``, ``file:///dir`` or a path.

    Example: ``open_blob_store("s3://models/registre")`` (endpoint and keys from AWS_* env vars).
    """
    if not location:
        raise InvalidInput("empty blob store location")
    if location.startswith("s3://"):
        from registre.store.blobs.s3 import S3BlobStore

        return S3BlobStore.from_url(location)
    if location.startswith("file:"):
        parts = urlsplit(location)
        if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
            raise InvalidInput(f"only local file:///path URLs are supported, not {location!r}")
        if not parts.path:
            raise InvalidInput(f"file URL without a path: {location!r}")
        return LocalBlobStore(unquote(parts.path))
    scheme, sep, _ = location.partition("://")
    if sep and scheme.isalnum() and len(scheme) > 1:
        raise InvalidInput(f"unsupported blob store URL scheme {scheme!r} in {location!r}")
    return LocalBlobStore(location)


def __getattr__(name: str) -> Any:
    # obstore loads a large native extension; only pay for it when S3 is actually used.
    if name == "S3BlobStore":
        from registre.store.blobs.s3 import S3BlobStore

        return S3BlobStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
