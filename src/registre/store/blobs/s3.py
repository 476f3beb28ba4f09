"""Blobs in S3-compatible object storage: ``<prefix>/sha256/ab/<digest>``, via temp key + copy."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

import obstore
from obstore.exceptions import NotFoundError
from obstore.store import S3Store

from registre.domain.errors import IntegrityError, InvalidInput, NotFound
from registre.store.blobs.base import (
    CHUNK_SIZE,
    DIGEST_RE,
    BlobInfo,
    StoredBlob,
    check_digest,
    iter_chunks,
    verified,
)

if TYPE_CHECKING:
    from obstore.store import ClientConfig

# Each in-flight multipart part is buffered in memory: peak ~ PART_SIZE * (CONCURRENCY + 1).
# S3 allows 10,000 parts, so 8 MiB parts cap a single blob at ~78 GiB.
PART_SIZE = 8 * 1024 * 1024
CONCURRENCY = 4
# A single server-side CopyObject is limited to 5 GiB; larger blobs are re-streamed instead.
_COPY_LIMIT = 5 * 1024**3
# The client's ``timeout`` bounds a whole request *including its streamed body*, so the 30 s
# default would cut off any large download; stalled connects still fail fast (5 s default).
_DEFAULT_CLIENT_OPTIONS: dict[str, Any] = {"timeout": "24h"}
_MISSING = (FileNotFoundError, NotFoundError)


class S3BlobStore:
    """Content-addressed blobs in an S3 bucket (AWS, MinIO, R2, Ceph, moto, ...).

    Example: ``S3BlobStore.from_url("s3://models/registre", endpoint_url="http://localhost:9000")``
    """

    def __init__(
        self,
        store: S3Store,
        *,
        part_size: int = PART_SIZE,
        concurrency: int = CONCURRENCY,
        description: str = "",
    ) -> None:
        if part_size < 5 * 1024 * 1024:
            raise InvalidInput("S3 multipart parts must be at least 5 MiB")
        self._store = store
        self._part_size = part_size
        self._concurrency = concurrency
        self._description = description

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        allow_http: bool | None = None,
        client_options: ClientConfig | None = None,
        env: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> S3BlobStore:
        """Open ``s3://bucket[/prefix]``; unset arguments fall back to the standard AWS_* env vars.

        Example: ``S3BlobStore.from_url("s3://bucket/prefix")`` with ``AWS_ENDPOINT_URL`` set.
        """
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise InvalidInput(f"not an s3://bucket[/prefix] URL: {url!r}")
        bucket = parts.netloc
        prefix = parts.path.strip("/")
        environ = os.environ if env is None else env

        endpoint = (
            endpoint_url
            or environ.get("AWS_ENDPOINT_URL_S3")
            or environ.get("AWS_ENDPOINT_URL")
            or None
        )
        config: dict[str, Any] = {}
        if endpoint:
            config["endpoint"] = endpoint
        region = region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
        if region:
            config["region"] = region
        key_id = access_key_id or environ.get("AWS_ACCESS_KEY_ID")
        secret = secret_access_key or environ.get("AWS_SECRET_ACCESS_KEY")
        if key_id and secret:
            config["access_key_id"] = key_id
            config["secret_access_key"] = secret
            token = session_token or environ.get("AWS_SESSION_TOKEN")
            if token:
                config["session_token"] = token
        config.update(kwargs)

        options: dict[str, Any] = {**_DEFAULT_CLIENT_OPTIONS, **(client_options or {})}
        if allow_http is None:
            allow_http = endpoint is not None and endpoint.lower().startswith("http://")
        if allow_http:
            options["allow_http"] = True

        store = S3Store(
            bucket,
            prefix=prefix or None,
            client_options=options,  # type: ignore[arg-type]
            **config,
        )
        where = f"s3://{bucket}/{prefix}".rstrip("/")
        if endpoint:
            where += f" at {endpoint}"
        return cls(store, description=where)

    def __repr__(self) -> str:
        return f"S3BlobStore({self._description!r})"

    def _key(self, digest: str) -> str:
        check_digest(digest)
        return f"sha256/{digest[:2]}/{digest}"

    def put(
        self, source: BinaryIO | Iterable[bytes], expected_digest: str | None = None
    ) -> StoredBlob:
        if expected_digest is not None:
            check_digest(expected_digest)
        hasher = hashlib.sha256()
        size = 0

        def hashed(chunks: Iterable[bytes]) -> Iterator[bytes]:
            nonlocal size
            for chunk in chunks:
                hasher.update(chunk)
                size += len(chunk)
                yield chunk

        tmp_key = f"tmp/{uuid.uuid4().hex}"
        try:
            self._upload(tmp_key, hashed(iter_chunks(source)))
            digest = hasher.hexdigest()
            if expected_digest is not None and digest != expected_digest:
                raise IntegrityError(
                    f"uploaded bytes hash to {digest}, not the announced {expected_digest}"
                )
            final = self._key(digest)
            if size <= _COPY_LIMIT:
                # Copying over an existing blob is harmless (same bytes) and refreshes its
                # age, which garbage collection's grace period relies on.
                obstore.copy(self._store, tmp_key, final)
            elif not self._exists_key(final):
                self._upload(final, verified(self._read(tmp_key), digest, size))
            return StoredBlob(digest, size)
        finally:
            # Best effort: the temp key is never referenced, so a leftover is only garbage.
            with contextlib.suppress(Exception):
                obstore.delete(self._store, tmp_key)

    def _upload(self, key: str, chunks: Iterator[bytes]) -> None:
        # Small blobs (the common case: configs, metadata) go up in one request; anything
        # larger than a part streams through a multipart upload, which obstore aborts if the
        # source raises, so no partial object ever becomes visible.
        head: list[bytes] = []
        buffered = 0
        for chunk in chunks:
            head.append(chunk)
            buffered += len(chunk)
            if buffered >= self._part_size:
                obstore.put(
                    self._store,
                    key,
                    itertools.chain(head, chunks),
                    use_multipart=True,
                    chunk_size=self._part_size,
                    max_concurrency=self._concurrency,
                )
                return
        obstore.put(self._store, key, b"".join(head), use_multipart=False)

    def _exists_key(self, key: str) -> bool:
        try:
            obstore.head(self._store, key)
        except _MISSING:
            return False
        return True

    def _read(self, key: str) -> Iterator[bytes]:
        try:
            result = obstore.get(self._store, key)
        except _MISSING:
            raise NotFound(f"blob {key.rsplit('/', 1)[-1]} does not exist") from None
        return (bytes(chunk) for chunk in result.stream(min_chunk_size=CHUNK_SIZE))

    def exists(self, digest: str) -> bool:
        return self._exists_key(self._key(digest))

    def size(self, digest: str) -> int:
        try:
            return int(obstore.head(self._store, self._key(digest))["size"])
        except _MISSING:
            raise NotFound(f"blob {digest} does not exist") from None

    def open(self, digest: str) -> Iterator[bytes]:
        return verified(self._read(self._key(digest)), digest)

    def delete(self, digest: str) -> None:
        obstore.delete(self._store, self._key(digest))

    def iter_digests(self) -> Iterator[str]:
        return (info.digest for info in self.iter_blobs())

    def iter_blobs(self) -> Iterator[BlobInfo]:
        for batch in obstore.list(self._store, "sha256/", chunk_size=1000):
            for meta in batch:
                parts = meta["path"].split("/")
                if len(parts) == 3 and DIGEST_RE.match(parts[2]) and parts[1] == parts[2][:2]:
                    yield BlobInfo(parts[2], meta["size"], meta["last_modified"].timestamp())
