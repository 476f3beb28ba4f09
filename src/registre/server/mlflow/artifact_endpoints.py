"""The mlflow-artifacts proxy: streamed uploads into the blob store, verified downloads,
listings, and multipart uploads whose parts come back to this server.

The path after ``/artifacts/`` is decoded once by the HTTP layer and then only used as an
artifact-index key (``domain.tracking.parse_artifact_location`` refuses anything that could be
read differently later: ``..``, escapes, ``#``, backslashes, absolute paths).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from registre.domain.errors import InvalidInput
from registre.domain.tracking import check_artifact_key
from registre.server.mlflow.errors import MlflowError
from registre.server.mlflow.params import Params
from registre.server.mlflow.routing import Call, Endpoint, json_response
from registre.server.streams import coalesce, consume_in_thread, iterate_in_thread

Message = dict[str, Any]


async def upload(call: Call) -> Response:
    path = call.path["path"]
    artifacts = call.tracking.artifacts
    await run_in_threadpool(artifacts.locate_writable, path)  # refuse before reading the body
    body = coalesce(call.request.stream(), call.max_upload)
    entry = await consume_in_thread(body, lambda chunks: artifacts.put(path, chunks), call.executor)
    return json_response({}, headers={"ETag": f'"{entry.digest}"'})


async def download(call: Call) -> Response:
    entry, chunks = await run_in_threadpool(call.tracking.artifacts.open, call.path["path"])
    headers = {
        "Content-Length": str(entry.size),
        "ETag": f'"{entry.digest}"',
        "Digest": f"sha-256={entry.digest}",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(
        iterate_in_thread(chunks, call.executor), headers=headers,
        media_type="application/octet-stream",
    )  # fmt: skip


def list_artifacts(call: Call) -> Message:
    path = call.params.string("path")
    try:
        listing = call.tracking.artifacts.list(path)
    except InvalidInput:
        check_artifact_key(path, allow_root=True)  # an unsafe path stays an error
        return {}  # a safe path above any run or model: nothing to list here
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
