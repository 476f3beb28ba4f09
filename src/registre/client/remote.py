"""The SDK's remote backend: the ``Backend`` interface spoken over the native REST API.

It returns the same entities and raises the same ``registre.domain.errors`` classes as the
embedded backend, so code written against ``Client`` does not care where the registry runs.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx
import orjson

from registre.client import _decode
from registre.domain import names
from registre.domain.entities import Event, FileEntry, ModelVersion, Page, RegisteredModel, Stage
from registre.domain.errors import (
    AlreadyExists,
    Conflict,
    IntegrityError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RegistreError,
    StorageFull,
    Unavailable,
    UnsafeModel,
)
from registre.service.context import current_actor
from registre.store.blobs.base import StoredBlob, iter_chunks, verified

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = 60.0
_ERRORS: dict[str, type[RegistreError]] = {
    cls.code: cls
    for cls in (
        NotFound,
        AlreadyExists,
        InvalidInput,
        Conflict,
        PayloadTooLarge,
        IntegrityError,
        PermissionDenied,
        UnsafeModel,
        Unavailable,
        StorageFull,
    )
}
_ERRORS["INVALID_REQUEST"] = InvalidInput
_ERRORS["ENDPOINT_NOT_FOUND"] = NotFound


class ServerUnavailable(Unavailable):
    """The server could not be reached (refused, unresolvable, timed out)."""

    code = "SERVER_UNAVAILABLE"


class RemoteBackend:
    """Talks to a Registre server; ``Client("http://host:5000")`` creates one.

    ``user`` names the actor recorded in the history (default: the same as in embedded mode,
    i.e. ``acting_as(...)`` or the local login name).

    >>> backend = RemoteBackend("http://localhost:5000", user="alice")
    >>> backend.resolve_uri("models:/Iris/Production").version
    3
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        user: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.user = user
        self._http = httpx.Client(
            base_url=self.base_url + API_PREFIX,
            timeout=timeout,
            headers={"User-Agent": "registre-python"},
        )

    def __repr__(self) -> str:
        return f"RemoteBackend({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RemoteBackend:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- registered models --------------------------------------------------------------
    def create_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        body = {"name": name, "description": description, "tags": dict(tags or {})}
        return _decode.registered_model(self._json("POST", "/models", body))

    def get_model(self, name: str) -> RegisteredModel:
        return _decode.registered_model(self._json("GET", _model(name)))

    def search_models(
        self,
        filter: str | None = None,
        order_by: list[str] | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]:
        params = _search_params(filter, order_by, max_results, page_token)
        data = self._json("GET", "/models", params=params)
        return _decode.page(data, "models", _decode.registered_model)

    def update_model(self, name: str, description: str) -> RegisteredModel:
        data = self._json("PATCH", _model(name), {"description": description})
        return _decode.registered_model(data)

    def rename_model(self, name: str, new_name: str) -> RegisteredModel:
        data = self._json("POST", f"{_model(name)}/rename", {"new_name": new_name})
        return _decode.registered_model(data)

    def delete_model(self, name: str) -> None:
        self._json("DELETE", _model(name))

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self._json("PUT", f"{_model(name)}/tags/{_path(key)}", {"value": value})

    def delete_model_tag(self, name: str, key: str) -> None:
        self._json("DELETE", f"{_model(name)}/tags/{_path(key)}")

    # ---- files --------------------------------------------------------------------------
    def upload_blob(
        self, source: BinaryIO | Iterable[bytes], expected_digest: str | None = None
    ) -> StoredBlob:
        headers = {"Content-Type": "application/octet-stream"}
        if expected_digest is not None:
            headers["X-Registre-Sha256"] = expected_digest
        size = _remaining_size(source)
        if size is not None:
            # Lets the server refuse an oversized file before any byte is sent.
            headers["Content-Length"] = str(size)
        hasher = hashlib.sha256()

        def body() -> Iterator[bytes]:
            for chunk in iter_chunks(source):
                hasher.update(chunk)
                yield chunk

        data = self._json("POST", "/blobs", content=body(), headers=headers)
        blob = StoredBlob(data["digest"], int(data["size"]))
        if blob.digest != hasher.hexdigest():
            raise IntegrityError(
                f"the server stored bytes hashing to {blob.digest}, "
                f"but the bytes sent hash to {hasher.hexdigest()}"
            )
        return blob

    def open_file(
        self, name: str, version: int | str, path: str
    ) -> tuple[FileEntry, Iterator[bytes]]:
        path = names.check_artifact_path(path)
        url = f"{_version(name, version)}/files/{_path(path)}"
        response = self._send("GET", url, stream=True)
        try:
            digest = response.headers["x-registre-sha256"]
            size = int(response.headers["content-length"])
        except (KeyError, ValueError):
            response.close()
            raise RegistreError(f"the server sent {path!r} without its digest or size") from None
        entry = FileEntry(path, digest, size)
        return entry, verified(_body(response, entry), digest, size)

    def list_files(self, name: str, version: int | str) -> list[FileEntry]:
        data = self._json("GET", f"{_version(name, version)}/files")
        return [_decode.file_entry(f) for f in data["files"]]

    # ---- versions -----------------------------------------------------------------------
    def register_version(
        self,
        name: str,
        files: Iterable[FileEntry] = (),
        *,
        source: str = "",
        run_id: str | None = None,
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        create_model: bool = True,
        number: int | None = None,
    ) -> ModelVersion:
        body: dict[str, Any] = {
            "files": [{"path": f.path, "digest": f.digest, "size": f.size} for f in files],
            "source": source,
            "run_id": run_id,
            "metrics": dict(metrics or {}),
            # The embedded registry stores str(value); do the same before JSON limits types.
            "params": {k: v if isinstance(v, str) else str(v) for k, v in (params or {}).items()},
            "tags": dict(tags or {}),
            "description": description,
            "create_model": create_model,
        }
        if number is not None:
            body["number"] = number
        return _decode.model_version(self._json("POST", f"{_model(name)}/versions", body))

    def get_version(self, name: str, version: int | str) -> ModelVersion:
        return _decode.model_version(self._json("GET", _version(name, version)))

    def list_versions(self, name: str) -> list[ModelVersion]:
        data = self._json("GET", f"{_model(name)}/versions")
        return [_decode.model_version(v) for v in data["versions"]]

    def search_versions(
        self,
        filter: str | None = None,
        order_by: list[str] | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]:
        params = _search_params(filter, order_by, max_results, page_token)
        data = self._json("GET", "/versions", params=params)
        return _decode.page(data, "versions", _decode.model_version)

    def update_version(self, name: str, version: int | str, description: str) -> ModelVersion:
        data = self._json("PATCH", _version(name, version), {"description": description})
        return _decode.model_version(data)

    def delete_version(self, name: str, version: int | str) -> None:
        self._json("DELETE", _version(name, version))

    def set_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        self._json("PUT", f"{_version(name, version)}/tags/{_path(key)}", {"value": value})

    def delete_version_tag(self, name: str, version: int | str, key: str) -> None:
        self._json("DELETE", f"{_version(name, version)}/tags/{_path(key)}")

    def log_metrics(self, name: str, version: int | str, metrics: Mapping[str, float]) -> None:
        self._json("POST", f"{_version(name, version)}/metrics", {"metrics": dict(metrics)})

    # ---- lifecycle ----------------------------------------------------------------------
    def transition_stage(
        self, name: str, version: int | str, stage: str | Stage, archive_existing: bool = False
    ) -> ModelVersion:
        body = {"stage": str(stage), "archive_existing": archive_existing}
        return _decode.model_version(self._json("POST", f"{_version(name, version)}/stage", body))

    def rollback(self, name: str, stage: str | Stage = Stage.PRODUCTION) -> ModelVersion:
        data = self._json("POST", f"{_model(name)}/rollback", {"stage": str(stage)})
        return _decode.model_version(data)

    def set_alias(self, name: str, alias: str, version: int | str) -> ModelVersion:
        names.check_alias(alias)
        data = self._json("PUT", f"{_model(name)}/aliases/{_segment(alias)}", {"version": version})
        return _decode.model_version(data)

    def delete_alias(self, name: str, alias: str) -> None:
        self._json("DELETE", f"{_model(name)}/aliases/{_segment(alias)}")

    def resolve(self, name: str, ref: str | int) -> ModelVersion:
        data = self._json("GET", f"{_model(name)}/resolve/{_segment(str(ref).strip())}")
        return _decode.model_version(data)

    def resolve_uri(self, uri: str) -> ModelVersion:
        return _decode.model_version(self._json("GET", "/resolve", params={"uri": uri}))

    def record_event(
        self,
        name: str,
        version: int | str | None,
        action: str,
        details: Mapping[str, Any] | None = None,
    ) -> Event:
        body = {"action": action, "version": version, "details": dict(details or {})}
        return _decode.event(self._json("POST", f"{_model(name)}/events", body))

    def history(
        self,
        name: str,
        version: int | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Event]:
        params = _drop_none(
            {"version": version, "max_results": max_results, "page_token": page_token}
        )
        data = self._json("GET", f"{_model(name)}/history", params=params)
        return _decode.page(data, "events", _decode.event)

    # ---- transport ----------------------------------------------------------------------
    def _json(
        self,
        method: str,
        url: str,
        body: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if body is not None:
            content = orjson.dumps(body, default=_jsonable)
            headers = {"Content-Type": "application/json"}
        response = self._send(method, url, params=params, content=content, headers=headers)
        return orjson.loads(response.content) if response.content else None

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        # UTF-8 bytes: httpx would refuse a non-ASCII str (and the server decodes UTF-8).
        all_headers = {k.encode(): v.encode() for k, v in (headers or {}).items()}
        all_headers[b"X-Registre-User"] = (self.user or current_actor()).encode()
        request = self._http.build_request(
            method, url, params=params, content=content, headers=all_headers
        )
        try:
            response = self._http.send(request, stream=stream)
        except httpx.ConnectError as exc:
            raise ServerUnavailable(
                f"cannot connect to the Registre server at {self.base_url}: {exc}"
            ) from None
        except httpx.TransportError as exc:
            raise ServerUnavailable(
                f"{method} {self.base_url}{request.url.path} failed: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 400:
            if stream:
                response.read()
                response.close()
            raise _error_from(response)
        return response


def _error_from(response: httpx.Response) -> RegistreError:
    try:
        detail = orjson.loads(response.content)["error"]
        code, message = str(detail["code"]), str(detail["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        text = response.text.strip().replace("\n", " ")[:200]
        return RegistreError(
            f"HTTP {response.status_code} from {response.request.method} "
            f"{response.request.url}: {text or response.reason_phrase}"
        )
    cls = _ERRORS.get(code)
    if cls is not None:
        return cls(message)
    error = RegistreError(message)
    error.code = code  # keep the server's code (e.g. INTERNAL_ERROR) for callers that branch
    error.status = response.status_code
    return error


def _body(response: httpx.Response, entry: FileEntry) -> Iterator[bytes]:
    received = 0
    try:
        for chunk in response.iter_raw():
            received += len(chunk)
            yield chunk
    except httpx.TransportError as exc:
        # The server drops the connection when the stored bytes fail their check mid-stream.
        raise IntegrityError(
            f"the download of {entry.path!r} was cut off after {received} of {entry.size} "
            f"bytes ({type(exc).__name__}); nothing complete was received"
        ) from None
    finally:
        response.close()


def _segment(value: object) -> str:
    text = quote(str(value), safe="")
    if not text:
        raise InvalidInput("an empty name cannot be used in a URL")
    # URL normalisation would drop "." and ".." segments before they reach the server.
    return text.replace(".", "%2E") if text in (".", "..") else text


def _path(value: str) -> str:
    return "/".join(_segment(part) for part in value.split("/"))


def _model(name: str) -> str:
    return f"/models/{_segment(names.check_model_name(name))}"


def _version(name: str, version: int | str) -> str:
    return f"{_model(name)}/versions/{names.check_version(version)}"


def _search_params(
    filter: str | None,
    order_by: list[str] | str | None,
    max_results: int | None,
    page_token: str | None,
) -> dict[str, Any]:
    orders = [order_by] if isinstance(order_by, str) else order_by
    return _drop_none(
        {"filter": filter, "order_by": orders, "max_results": max_results, "page_token": page_token}
    )


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _remaining_size(source: object) -> int | None:
    """Bytes left in a seekable file object, or None (then the body is sent chunked)."""
    seek, tell = getattr(source, "seek", None), getattr(source, "tell", None)
    if seek is None or tell is None or not hasattr(source, "read"):
        return None
    try:
        here = tell()
        end = seek(0, io.SEEK_END)
        seek(here)
    except (OSError, ValueError, AttributeError):
        return None
    return max(int(end) - int(here), 0)


def _jsonable(value: Any) -> Any:
    # numpy scalars and the like: their Python value; anything else: its text, which the
    # server then accepts or rejects exactly as the embedded registry would.
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    return str(value)
