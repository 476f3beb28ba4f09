"""The tracking schema (experiments, runs, logged models, artifact index), on the shared metadata.

Created by Alembic revision 0002 (0003: metrics' datasets). Artifacts are index rows
(root, path) → digest; their bytes live in the blob store.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from registre.store.sql.tables import metadata

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("artifact_location", Text, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False, default="active"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(256), nullable=False, default=""),
    Column("user_id", String(256), nullable=False, default=""),
    Column("status", String(16), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger),
    Column("lifecycle_stage", String(32), nullable=False, default="active"),
    Index("ix_runs_experiment_id_start_time", "experiment_id", "start_time"),
)


def _run_child(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        Column("key", String(250), primary_key=True),
        Column("value", Text, nullable=False),
    )


run_params = _run_child("run_params")
run_tags = _run_child("run_tags")

# Every logged point; the latest value of each key is kept in run_latest_metrics.
run_metrics = Table(
    "run_metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Float, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False, default=0),
    # SQLite stores NaN as NULL: a NaN is kept as value 0 with is_nan set.
    Column("is_nan", Boolean, nullable=False, default=False),
    Column("model_id", String(64)),
    # The dataset the value was computed on (MLflow's per-metric dataset_name/dataset_digest).
    Column("dataset_name", String(500)),
    Column("dataset_digest", String(64)),
    Index("ix_run_metrics_run_id_key", "run_id", "key"),
    Index("ix_run_metrics_model_id", "model_id"),
)

run_latest_metrics = Table(
    "run_latest_metrics",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Float, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("is_nan", Boolean, nullable=False, default=False),
)

run_outputs = Table(
    "run_outputs",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", String(64), primary_key=True),
    Column("step", BigInteger, nullable=False, default=0),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", String(64), primary_key=True),
)

# Dataset inputs (mlflow.log_input), kept as the DatasetInput message the client sent.
run_datasets = Table(
    "run_datasets",
    metadata,
    Column("run_id", String(64), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(500), primary_key=True),
    Column("digest", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("body", JSON, nullable=False),
)

logged_models = Table(
    "logged_models",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(256), nullable=False),
    Column("source_run_id", String(64)),
    Column("model_type", String(256), nullable=False, default=""),
    Column("status", String(32), nullable=False),
    Column("status_message", Text, nullable=False, default=""),
    Column("lifecycle_stage", String(32), nullable=False, default="active"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_logged_models_experiment_id_name", "experiment_id", "name"),
    Index("ix_logged_models_source_run_id", "source_run_id"),
)


def _model_child(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column(
            "model_id",
            String(64),
            ForeignKey("logged_models.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("key", String(250), primary_key=True),
        Column("value", Text, nullable=False),
    )


logged_model_tags = _model_child("logged_model_tags")
logged_model_params = _model_child("logged_model_params")

# The artifact index. root_kind is "run" or "model" (root_id: its id), or "proxy" (root_id "")
# for the artifact proxy's own namespace: paths outside any run or logged model.
artifacts = Table(
    "artifacts",
    metadata,
    Column("root_kind", String(8), primary_key=True),
    Column("root_id", String(64), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_artifacts_digest", "digest"),
)

multipart_uploads = Table(
    "multipart_uploads",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("root_kind", String(8), nullable=False),
    Column("root_id", String(64), nullable=False),
    Column("experiment_id", String(32), nullable=False),
    Column("path", String(1024), nullable=False),
    Column("num_parts", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

multipart_parts = Table(
    "multipart_parts",
    metadata,
    Column(
        "upload_id",
        String(64),
        ForeignKey("multipart_uploads.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("part_number", Integer, primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
)
