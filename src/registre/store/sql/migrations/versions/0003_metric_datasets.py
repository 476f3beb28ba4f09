"""metrics: the dataset a value was computed on (dataset_name, dataset_digest)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_metrics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dataset_name", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("dataset_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run_metrics", schema=None) as batch_op:
        batch_op.drop_column("dataset_digest")
        batch_op.drop_column("dataset_name")
