"""applicants' ID and phone numbers sealed at rest: keyed-hash reference, AES-GCM seal, mask

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 15:00:00

The projections are rebuilt from the log after this migration (``db.PROJECTIONS_CHANGED``),
so the rows of the changed tables are emptied here rather than converted.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
"""Names SQLite's unnamed foreign keys so batch mode can drop the applicant one."""


def _old_fk() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "application_applicant_id_fkey"
    return "fk_application_applicant_id_applicant"


def upgrade() -> None:
    """Apply this migration."""
    for table in ("task", "applicationmaterial", "application", "applicant"):
        op.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table("application", naming_convention=_NAMES) as batch_op:
        batch_op.drop_constraint(_old_fk(), type_="foreignkey")
    op.drop_table("applicant")
    op.create_table(
        "applicant",
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("id_sealed", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("id_masked", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("id_kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("initials", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("phone_ref", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("phone_sealed", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("phone_masked", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("registered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("applicant") as batch_op:
        batch_op.create_index(batch_op.f("ix_applicant_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_applicant_initials"), ["initials"], unique=False)
        batch_op.create_index(batch_op.f("ix_applicant_phone_ref"), ["phone_ref"], unique=False)
    with op.batch_alter_table("application") as batch_op:
        batch_op.alter_column(
            "applicant_id",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=18),
            type_=sqlmodel.sql.sqltypes.AutoString(length=64),
            existing_nullable=False,
        )
        batch_op.create_foreign_key(
            "fk_application_applicant_id_applicant", "applicant", ["applicant_id"], ["ref"]
        )


def downgrade() -> None:
    """Undo this migration (the projections are rebuilt from the log afterwards)."""
    raise NotImplementedError("0011 is not reversible: rebuild from the log on the older version")
