"""model_versions: index (model_id, updated_at) for "most recently updated first" searches

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_model_versions_model_updated", "model_versions", ["model_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_model_versions_model_updated", table_name="model_versions")
