"""The metadata schema (SQLAlchemy Core). Alembic migrations under ``migrations/`` create it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Read document: {"tags": {...}, "aliases": {alias: version}} (see versions.doc).
    Column("doc", Text, nullable=False, default="{}"),
    # Last version number handed out. Bumped with UPDATE ... RETURNING inside the transaction
    # that inserts the version, so concurrent registrations serialise on this row: 1..N, no gaps.
    Column("last_version", Integer, nullable=False, default=0),
)

model_tags = Table(
    "model_tags",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

versions = Table(
    "model_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("stage", String(20), nullable=False, default="None"),
    Column("status", String(32), nullable=False, default="READY"),
    Column("description", Text, nullable=False, default=""),
    Column("source", Text, nullable=False, default=""),
    Column("run_id", String(64)),
    Column("created_by", String(256)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    # Read document: tags, metrics, params, aliases and files as one JSON text, rewritten in the
    # same transaction as the rows it mirrors. Reads take one row; the normalised tables below
    # stay the source of truth and serve search.
    Column("doc", Text, nullable=False, default="{}"),
    UniqueConstraint("model_id", "version"),
    Index("ix_model_versions_stage", "stage", "model_id"),
    Index("ix_model_versions_run_id", "run_id"),
    Index("ix_model_versions_created_at", "created_at"),
    # MLflow clients search a model's versions most recently updated first by default.
    Index("ix_model_versions_model_updated", "model_id", "updated_at"),
)

version_tags = Table(
    "version_tags",
    metadata,
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Index("ix_version_tags_key_value", "key", "value"),
)

version_metrics = Table(
    "version_metrics",
    metadata,
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Float, nullable=False),
    Index("ix_version_metrics_key_value", "key", "value"),
)

version_params = Table(
    "version_params",
    metadata,
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

version_files = Table(
    "version_files",
    metadata,
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Index("ix_version_files_digest", "digest"),
)

aliases = Table(
    "aliases",
    metadata,
    Column("model_id", Integer, ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(255), primary_key=True),
    Column(
        "version_id", Integer, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False
    ),
    Index("ix_aliases_version_id", "version_id"),
)

# The history: one row per mutation, written in the mutation's transaction. Model names are
# stored by value so the history survives renames and deletions.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("action", String(64), nullable=False),
    Column("model", String(256), nullable=False),
    Column("version", Integer),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_events_model_version", "model", "version"),
)
