"""The mlflow-artifacts proxy: streamed uploads into the blob store, verified downloads,
listings, and multipart uploads whose parts come back to this server.

The path after ``/artifacts/`` is decoded once by the HTTP layer and then only used as an
artifact-index key (``domain.tracking.parse_proxy_location`` refuses anything that could be
read differently later: ``..``, escapes, ``#``, backslashes, absolute paths, URI schemes).
Paths outside any run or logged model are files of the proxy's own namespace.
"""

from __future__ import annotations

import asyncio
import mimetypes
import posixpath
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from registre.domain.errors import InvalidInput
from registre.domain.tracking import ArtifactEntry, check_artifact_key
from registre.server.mlflow.errors import MlflowError
from registre.server.mlflow.params import Params
from registre.server.mlflow.routing import Call, Endpoint
from registre.server.responses import json_response
from registre.server.streams import coalesce, consume_in_thread, iterate_in_thread
from registre.service.tracking_artifacts import TrackingArtifacts

Message = dict[str, Any]
SMALL_UPLOAD = 1024 * 1024  # bytes: received whole before it is stored
SMALL_DOWNLOAD = 1024 * 1024  # bytes: read and verified whole before it is sent


async def upload(call: Call) -> Response:
    path = call.path["path"]
    artifacts = call.tracking.artifacts
    body = coalesce(call.request.stream(), call.max_upload)
    if _declared_size(call.request) <= SMALL_UPLOAD:
        # A small file (most of a model's): received whole, then checked and stored in one
        # trip to a thread (``put`` refuses a bad target before storing a byte).
        chunks = [chunk async for chunk in body]
        loop = asyncio.get_running_loop()
        entry = await loop.run_in_executor(call.executor, artifacts.put, path, chunks)
    else:
        await run_in_threadpool(artifacts.locate_writable, path)  # refuse before reading on
        entry = await consume_in_thread(
            body, lambda chunks: artifacts.put(path, chunks), call.executor
        )
    return json_response({}, headers={"ETag": f'"{entry.digest}"'})


def _declared_size(request: Request) -> int:
    """The body's Content-Length; unknown (chunked) counts as large."""
    length = request.headers.get("content-length", "")
    return int(length) if length.isascii() and length.isdigit() else SMALL_UPLOAD + 1


async def download(call: Call) -> Response:
    return await _send(call, call.path["path"])


async def _send(call: Call, key: str) -> Response:
    """The file at artifact key ``key`` as an attachment, typed like the official server does."""
    loop = asyncio.get_running_loop()
    artifacts = call.tracking.artifacts
    entry, body = await loop.run_in_executor(call.executor, _open, artifacts, key)
    name = posixpath.basename(key)
    headers = {
        "Content-Length": str(entry.size),
        "ETag": f'"{entry.digest}"',
        "Digest": f"sha-256={entry.digest}",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": _attachment(name),
        "Content-Type": mime_type(name),  # as is: no "; charset=" added
    }
    if isinstance(body, bytes):
        return Response(body, headers=headers)
    return StreamingResponse(iterate_in_thread(body, call.executor), headers=headers)


def _open(artifacts: TrackingArtifacts, key: str) -> tuple[ArtifactEntry, bytes | Iterator[bytes]]:
    """The entry and its bytes: a small file read (and verified) whole, in this one trip to
    a thread, so a damaged one is a clean error before anything is sent; a larger one as a
    stream verified on the way (cut short, without its last chunk, if damaged)."""
    entry, chunks = artifacts.open(key)
    if entry.size <= SMALL_DOWNLOAD:
        return entry, b"".join(chunks)
    return entry, chunks


# MLflow's text extensions (served as text/plain), its MLmodel and mlproject file names
# included (the official server spells the latter in lower case; both are served as text).
_TEXT = {
    "txt", "log", "err", "cfg", "conf", "cnf", "cf", "ini", "properties", "prop", "hocon",
    "toml", "yaml", "yml", "xml", "json", "js", "py", "py3", "csv", "tsv", "md", "rst", "ipynb",
    "MLmodel", "mlproject", "MLproject",
}  # fmt: skip
# Types a browser would render or run: never sent as such, even as an attachment with nosniff.
_ACTIVE = {"text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript",
           "application/javascript", "application/xml", "text/xml"}  # fmt: skip


def mime_type(name: str) -> str:
    """The official server's guess (``mlflow.utils.mime_type_utils``), minus active content."""
    extension = posixpath.splitext(name)[1].removeprefix(".") or name
    if extension in _TEXT:
        return "text/plain"
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return "text/plain" if guessed in _ACTIVE else guessed


def _attachment(name: str) -> str:
    """RFC 6266 ``Content-Disposition``, with an RFC 5987 ``filename*`` for non-ASCII names."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c for c in fallback if c.isprintable()) or "download"
    if all(c.isalnum() or c in "!#$&+-.^_`|~" for c in fallback):
        value = f"attachment; filename={fallback}"
    else:
        escaped = fallback.replace("\\", "\\\\").replace('"', '\\"')
        value = f'attachment; filename="{escaped}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='!#$&+-.^_`|~')}"
    return value


def _key_below(root_uri: str, path: str) -> str:
    """The artifact key of ``path`` below an ``mlflow-artifacts:/`` root (``Invalid path`` as the
    official server says, for anything that is not a plain relative path)."""
    try:
        clean = check_artifact_key(path)
    except InvalidInput:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Invalid path") from None
    return f"{root_uri.removeprefix('mlflow-artifacts:/').strip('/')}/{clean}"


def _ui_download(root: Callable[[Call], str], name: str) -> Callable[[Call], Any]:
    async def handler(call: Call) -> Response:
        path = call.params.string(name)
        if not path:
            raise MlflowError("BAD_REQUEST", f'Request must include the "{name}" query parameter.')
        if path.startswith("/") or "\\" in path or ".." in path.split("/"):
            raise MlflowError("INVALID_PARAMETER_VALUE", "Invalid path")
        uri = await run_in_threadpool(root, call)
        return await _send(call, _key_below(uri, path))

    return handler


MAX_UI_UPLOAD = 10 * 1024 * 1024  # the official server's limit for the UI's uploads


async def upload_artifact(call: Call) -> Response:
    """The web UI's small upload: the request body becomes ``path`` in the run's artifacts."""
    p = call.params
    run_id = p.string("run_uuid") or p.string("run_id")
    if not run_id:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Request must specify run_uuid.")
    path = p.string("path")
    if not path:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Request must specify path.")
    if path.startswith("/") or "\\" in path or ".." in path.split("/"):
        raise MlflowError("INVALID_PARAMETER_VALUE", "Invalid path")
    data = bytearray()
    async for part in call.request.stream():
        data += part
        if len(data) > MAX_UI_UPLOAD:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                f"Artifact size is too large. Max size is {MAX_UI_UPLOAD} bytes.",
            )
    if not data:
        raise MlflowError("INVALID_PARAMETER_VALUE", "Request must specify data.")
    root = await run_in_threadpool(lambda: call.tracking.get_run(run_id).artifact_uri)
    key = _key_below(root, path)
    await run_in_threadpool(call.tracking.artifacts.put, key, [bytes(data)])
    return json_response({})


def _run_root(call: Call) -> str:
    return call.tracking.get_run(call.params.run_id()).artifact_uri


def _version_root(call: Call) -> str:
    p = call.params
    version = call.registry.get_version(p.string("name", required=True), p.string("version"))
    return call.tracking.sources.download_uri(version)


def _logged_model_root(call: Call) -> str:
    return call.tracking.get_logged_model(call.path["model_id"]).artifact_uri


def list_artifacts(call: Call) -> Message:
    path = call.params.string("path")
    try:
        listing = call.tracking.artifacts.list(path)
    except InvalidInput:
        check_artifact_key(path, allow_root=True)  # an unsafe path stays an error
        return {}  # a safe but reserved path (a URI-like one): nothing to list there
    return {"files": [_file(f.path, f.is_dir, f.size) for f in listing]} if listing else {}


def delete(call: Call) -> Message:
    call.tracking.artifacts.delete(call.path["path"])
    return {}


def create_upload(call: Call) -> Message:
    p = call.params
    num_parts = p.integer("num_parts", 1) or 1
    upload_id = call.tracking.artifacts.create_upload(
        call.path["path"], p.string("path", required=True), num_parts
    )
    # Parts come back here, to an unguessable URL (the client sends them without credentials).
    url = str(call.request.url.replace(query=""))
    base = url[: url.index("/mpu/create/")]
    credentials = [
        {"url": f"{base}/mpu/upload/{upload_id}/{n}", "part_number": n, "headers": {}}
        for n in range(1, num_parts + 1)
    ]
    return {"upload_id": upload_id, "credentials": credentials}


async def upload_part(call: Call) -> Response:
    number = Params(call.path).integer("part_number") or 0
    upload_id = call.path["upload_id"]
    body = coalesce(call.request.stream(), call.max_upload)
    digest = await consume_in_thread(
        body, lambda chunks: call.tracking.artifacts.put_part(upload_id, number, chunks),
        call.executor,
    )  # fmt: skip
    return json_response({}, headers={"ETag": f'"{digest}"'})


def complete_upload(call: Call) -> Message:
    p = call.params
    parts = [
        (Params(part).integer("part_number") or 0, Params(part).string("etag"))
        for part in p.objects("parts")
    ]
    call.tracking.artifacts.complete_upload(
        call.path["path"], p.string("path", required=True),
        p.string("upload_id", required=True), parts,
    )  # fmt: skip
    return {}


def abort_upload(call: Call) -> Message:
    p = call.params
    call.tracking.artifacts.abort_upload(
        call.path["path"], p.string("path", required=True), p.string("upload_id", required=True)
    )
    return {}


def presigned(call: Call) -> Message:
    raise MlflowError("NOT_IMPLEMENTED", "presigned downloads are not offered; download directly")


def server_info(call: Call) -> Message:
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": True,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }


def _file(path: str, is_dir: bool, size: int | None) -> Message:
    item: Message = {"path": path, "is_dir": is_dir}
    if not is_dir and size is not None:
        item["file_size"] = size
    return item


ENDPOINTS = [
    Endpoint("GET", "/artifacts", list_artifacts),
    Endpoint("PUT", "/artifacts/{path:path}", upload, body="stream"),
    Endpoint("GET", "/artifacts/{path:path}", download, body="stream"),
    Endpoint("DELETE", "/artifacts/{path:path}", delete),
    Endpoint("POST", "/mpu/create/{path:path}", create_upload),
    Endpoint("PUT", "/mpu/upload/{upload_id}/{part_number}", upload_part, body="stream"),
    Endpoint("POST", "/mpu/complete/{path:path}", complete_upload),
    Endpoint("POST", "/mpu/abort/{path:path}", abort_upload),
    Endpoint("GET", "/presigned/{path:path}", presigned),
]
INFO_ENDPOINTS = [Endpoint("GET", "/server-info", server_info)]
# The web UI's downloads (no prefix; the logged-model one is under /ajax-api/2.0/mlflow).
UI_ENDPOINTS = [
    Endpoint("GET", "/get-artifact", _ui_download(_run_root, "path"), body="stream"),
    Endpoint("GET", "/model-versions/get-artifact", _ui_download(_version_root, "path"),
             body="stream"),
    # The official server (Werkzeug) merges slashes; the UI and its tests may send a double one.
    Endpoint("GET", "//model-versions/get-artifact", _ui_download(_version_root, "path"),
             body="stream"),
]  # fmt: skip
AJAX_ENDPOINTS = [
    Endpoint("POST", "/upload-artifact", upload_artifact, body="stream"),
    Endpoint("GET", "/logged-models/{model_id}/artifacts/files",
             _ui_download(_logged_model_root, "artifact_file_path"), body="stream"),
]  # fmt: skip
