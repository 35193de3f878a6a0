"""Initial schema: scans with their assets, relations, findings, errors, check runs; file cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _scan_fk() -> sa.Column[str]:
    return sa.Column("scan_id", sa.String(36), sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "scans",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("finished_at", sa.String(40), nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("tool_version", sa.String(40), nullable=False),
        sa.Column("collectors", sa.JSON, nullable=False),
        sa.Column("stats", sa.JSON, nullable=False),
        sa.Column("asset_count", sa.Integer, nullable=False),
        sa.Column("finding_count", sa.Integer, nullable=False),
        sa.Column("error_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_scans_started_at", "scans", ["started_at"])
    op.create_table(
        "assets",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        _scan_fk(),
        sa.Column("asset_id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("properties", sa.JSON, nullable=False),
        sa.Column("occurrences", sa.JSON, nullable=False),
    )
    op.create_index("ix_assets_asset_id", "assets", ["asset_id"])
    op.create_index("ix_assets_scan_kind", "assets", ["scan_id", "kind"])
    op.create_table(
        "relations",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        _scan_fk(),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
    )
    op.create_index("ix_relations_scan_id", "relations", ["scan_id"])
    op.create_table(
        "findings",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        _scan_fk(),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("asset_id", sa.String(80), nullable=False),
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("line", sa.Integer, nullable=True),
        sa.Column("frameworks", sa.JSON, nullable=False),
        sa.Column("remediation", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
    )
    op.create_index("ix_findings_fingerprint", "findings", ["fingerprint"])
    op.create_index("ix_findings_scan_severity", "findings", ["scan_id", "severity"])
    op.create_table(
        "scan_errors",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        _scan_fk(),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("collector", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_scan_errors_scan_id", "scan_errors", ["scan_id"])
    op.create_table(
        "check_runs",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        _scan_fk(),
        sa.Column("check_id", sa.String(40), nullable=False),
        sa.Column("assessed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("not_assessed", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_check_runs_scan_id", "check_runs", ["scan_id"])
    op.create_table(
        "file_cache",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("observations", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("file_cache", "check_runs", "scan_errors", "findings", "relations", "assets", "scans"):
        op.drop_table(table)
