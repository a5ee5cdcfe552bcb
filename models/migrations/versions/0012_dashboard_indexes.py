"""dashboard indexes: the oldest open tasks and the recent decisions, without a table scan

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 18:30:00

Both are partial indexes (SQLite and PostgreSQL alike): the oldest-tasks list walks the open
tasks in opening order, and the handling-time figures read the decisions of the last weeks,
each a small part of a county's task table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

QUEUED = "state IN ('open', 'supplement')"
DECIDED = "state IN ('approved', 'rejected')"


def upgrade() -> None:
    """Apply this migration."""
    op.create_index(
        "ix_task_open_opened",
        "task",
        ["opened_at", "id"],
        sqlite_where=sa.text(QUEUED),
        postgresql_where=sa.text(QUEUED),
    )
    op.create_index(
        "ix_task_decided_at",
        "task",
        ["decided_at", "department_code", "opened_at"],
        sqlite_where=sa.text(DECIDED),
        postgresql_where=sa.text(DECIDED),
    )


def downgrade() -> None:
    """Undo this migration."""
    op.drop_index("ix_task_decided_at", table_name="task")
    op.drop_index("ix_task_open_opened", table_name="task")
