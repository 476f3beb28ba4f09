"""Bring models from another registry into Registre (``registre import-mlflow``)."""

from registre.migrate.mlflow_import import ImportPlan, MlflowImport, import_mlflow
from registre.migrate.mlflow_source import MlflowSource, SourceError
from registre.migrate.report import ImportProgress, ImportReport, NoProgress, Problem

__all__ = [
    "ImportPlan",
    "ImportProgress",
    "ImportReport",
    "MlflowImport",
    "MlflowSource",
    "NoProgress",
    "Problem",
    "SourceError",
    "import_mlflow",
]
