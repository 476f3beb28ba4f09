"""One settings object, read from ``REGISTRE_*`` environment variables and CLI flags."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where Registre keeps its data and how its server listens.

    Defaults give an embedded registry under ``./registre-data`` (SQLite + local files).
    """

    model_config = SettingsConfigDict(env_prefix="REGISTRE_", extra="ignore")

    home: Path = Field(default=Path("registre-data"), description="Data directory for defaults")
    database_url: str = Field(
        default="", description="SQLAlchemy URL (sqlite:/// or postgresql://)"
    )
    artifact_root: str = Field(
        default="", description="Blob store: a directory or s3://bucket/prefix"
    )
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    max_upload_bytes: int = Field(default=50 * 1024**3, description="Largest single file accepted")
    log_level: str = "info"

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'registre.db').resolve()}"
        if not self.artifact_root:
            self.artifact_root = str((self.home / "artifacts").resolve())
        return self


def load_settings(**overrides: object) -> Settings:
    """Environment first, then explicit overrides (CLI flags) that are not None."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
