"""File routes: blob upload and existence checks, a version's file list, verified downloads."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from registre.domain.entities import FileEntry
from registre.domain.errors import IntegrityError, PayloadTooLarge
from registre.server.deps import RegistryDep, blob_executor_of, registry_of, settings_of
from registre.server.errors import StreamAborted
from registre.server.responses import ERROR_RESPONSES, error_response, json_response
from registre.server.schemas import BlobOut, FileList
from registre.server.streams import coalesce, consume_in_thread, iterate_in_thread
from registre.store.blobs.base import StoredBlob

logger = logging.getLogger("registre.server")

# Up to this size a download is read and verified before its first byte is sent, so a
# corrupted blob gives a clean JSON error; larger ones are verified while streaming.
VERIFY_FIRST_MAX = 64 * 1024 * 1024

router = APIRouter(responses=ERROR_RESPONSES)


@router.post(
    "/blobs",
    status_code=201,
    response_model=BlobOut,
    responses={413: ERROR_RESPONSES[400] | {"description": "Larger than max_upload_bytes"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
    summary="Upload one file's bytes; reference its digest when registering a version",
)
async def upload_blob(
    request: Request,
    x_registre_sha256: Annotated[str | None, Header(description="Expected sha256")] = None,
) -> Response:
    limit = settings_of(request).max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the upload ({declared} bytes) exceeds the limit of {limit} bytes")
    expected = x_registre_sha256.strip().lower() if x_registre_sha256 else None
    registry = registry_of(request)

    def store(chunks: Iterator[bytes]) -> StoredBlob:
        return registry.upload_blob(chunks, expected)

    try:
        blob = await consume_in_thread(
            coalesce(request.stream(), limit), store, blob_executor_of(request)
        )
    except IntegrityError as exc:
        # The bytes disagree with the digest the client announced: the client's error.
        return error_response(400, exc.code, exc.message)
    return json_response({"digest": blob.digest, "size": blob.size}, 201)


@router.head(
    "/blobs/{digest}",
    summary="200 with Content-Length if the blob is stored, else 404",
    responses={200: {"description": "The blob is stored"}},
)
async def head_blob(digest: str, registry: RegistryDep) -> Response:
    size = await run_in_threadpool(registry.blob_size, digest)
    return Response(status_code=200, headers={"content-length": str(size), "etag": f'"{digest}"'})


@router.get(
    "/models/{name}/versions/{version}/files",
    response_model=FileList,
    summary="The files of a version (path, sha256, size)",
)
def list_files(name: str, version: str, registry: RegistryDep) -> Response:
    files = registry.list_files(name, version)
    return json_response({"files": [_file_dict(f) for f in files]})


@router.get(
    "/models/{name}/versions/{version}/files/{path:path}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The bytes"}},
    summary="Download one file, verified against its sha256",
)
async def download_file(name: str, version: str, path: str, request: Request) -> Response:
    registry = registry_of(request)
    entry, chunks = await run_in_threadpool(registry.open_file, name, version, path)
    assert entry.size is not None  # a registered version's files always carry their size
    headers = {
        "content-length": str(entry.size),
        "etag": f'"{entry.digest}"',
        "x-registre-sha256": entry.digest,
    }
    if entry.size <= VERIFY_FIRST_MAX:
        # Raises IntegrityError before anything is sent: a clean JSON 500.
        loop = asyncio.get_running_loop()
        verified = await loop.run_in_executor(blob_executor_of(request), list, chunks)
        body: AsyncIterator[bytes] = _replay(verified)
    else:
        stream = iterate_in_thread(chunks, blob_executor_of(request))
        body = _abort_on_corruption(stream, entry)
    return StreamingResponse(body, headers=headers, media_type="application/octet-stream")


async def _replay(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _abort_on_corruption(
    chunks: AsyncIterator[bytes], entry: FileEntry
) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    except IntegrityError as exc:
        logger.error("aborted the download of %s: %s", entry.path, exc)
        raise StreamAborted(str(exc)) from exc


def _file_dict(entry: FileEntry) -> dict[str, object]:
    return {"path": entry.path, "digest": entry.digest, "size": entry.size}
