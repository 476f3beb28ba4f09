"""The interface both SDK backends implement: in-process (the service) or remote (REST).

The method names and signatures are the service layer's (``registre.service.registry``), so
the embedded backend is the ``Registry`` itself and the remote one translates to HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO, Protocol

from registre.domain.entities import Event, FileEntry, ModelVersion, Page, RegisteredModel, Stage
from registre.store.blobs.base import StoredBlob


class Backend(Protocol):
    def close(self) -> None: ...

    # registered models
    def create_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel: ...
    def get_model(self, name: str) -> RegisteredModel: ...
    def search_models(
        self,
        filter: str | None = None,
        order_by: list[str] | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[RegisteredModel]: ...
    def update_model(self, name: str, description: str) -> RegisteredModel: ...
    def rename_model(self, name: str, new_name: str) -> RegisteredModel: ...
    def delete_model(self, name: str) -> None: ...
    def set_model_tag(self, name: str, key: str, value: str) -> None: ...
    def delete_model_tag(self, name: str, key: str) -> None: ...

    # files
    def upload_blob(
        self, source: BinaryIO | Iterable[bytes], expected_digest: str | None = None
    ) -> StoredBlob: ...
    def open_file(
        self, name: str, version: int | str, path: str
    ) -> tuple[FileEntry, Iterator[bytes]]: ...
    def list_files(self, name: str, version: int | str) -> list[FileEntry]: ...

    # versions
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
    ) -> ModelVersion: ...
    def get_version(self, name: str, version: int | str) -> ModelVersion: ...
    def list_versions(self, name: str) -> list[ModelVersion]: ...
    def search_versions(
        self,
        filter: str | None = None,
        order_by: list[str] | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[ModelVersion]: ...
    def update_version(self, name: str, version: int | str, description: str) -> ModelVersion: ...
    def delete_version(self, name: str, version: int | str) -> None: ...
    def set_version_tag(self, name: str, version: int | str, key: str, value: str) -> None: ...
    def delete_version_tag(self, name: str, version: int | str, key: str) -> None: ...
    def log_metrics(self, name: str, version: int | str, metrics: Mapping[str, float]) -> None: ...

    # lifecycle
    def transition_stage(
        self, name: str, version: int | str, stage: str | Stage, archive_existing: bool = False
    ) -> ModelVersion: ...
    def rollback(self, name: str, stage: str | Stage = Stage.PRODUCTION) -> ModelVersion: ...
    def set_alias(self, name: str, alias: str, version: int | str) -> ModelVersion: ...
    def delete_alias(self, name: str, alias: str) -> None: ...
    def resolve(self, name: str, ref: str | int) -> ModelVersion: ...
    def resolve_uri(self, uri: str) -> ModelVersion: ...
    def record_event(
        self,
        name: str,
        version: int | str | None,
        action: str,
        details: Mapping[str, Any] | None = None,
    ) -> Event: ...
    def history(
        self,
        name: str,
        version: int | str | None = None,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Event]: ...
