"""queue page index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 08:31:14.643300
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_department_due", ["department_code", "due_date", "id"], unique=False
        )


def downgrade() -> None:
    """Undo this migration."""

    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_department_due")
