"""SQLAlchemy tables of the store. Every scan is kept whole; later views read it back unchanged.

The schema is owned by the Alembic migrations in ``migrations/versions``; these classes must agree
with the newest migration (a test compares them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ScanRow(Base):
    __tablename__ = "scans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[str] = mapped_column(String(40), index=True)
    finished_at: Mapped[str] = mapped_column(String(40))
    targets: Mapped[list[str]] = mapped_column(JSON)
    tool_version: Mapped[str] = mapped_column(String(40))
    collectors: Mapped[list[str]] = mapped_column(JSON)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON)
    asset_count: Mapped[int] = mapped_column(Integer)
    finding_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)


class AssetRow(Base):
    __tablename__ = "assets"
    __table_args__ = (Index("ix_assets_scan_kind", "scan_id", "kind"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    asset_id: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    path: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(20))
    properties: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurrences: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class RelationRow(Base):
    __tablename__ = "relations"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(80))
    target: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_scan_severity", "scan_id", "severity"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    check_id: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    asset_id: Mapped[str] = mapped_column(String(80))
    path: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    frameworks: Mapped[list[str]] = mapped_column(JSON)
    remediation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)


class ScanErrorRow(Base):
    __tablename__ = "scan_errors"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(Text)
    collector: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)


class CheckRunRow(Base):
    __tablename__ = "check_runs"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scan_id: Mapped[str] = mapped_column(ForeignKey("scans.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[str] = mapped_column(String(40))
    assessed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    not_assessed: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class FileCacheRow(Base):
    """Per-file observations keyed by content hash and collector versions (see pipeline._cache_keys)."""

    __tablename__ = "file_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    observations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class FileDigestRow(Base):
    """What a file's content digest was when it had this stat stamp (see pipeline._stat_key).

    Lets a rescan of an unchanged tree find its cached observations without reading the files,
    as git's index does; a changed stamp (size, mtime, ctime, inode) means the file is read again.
    """

    __tablename__ = "file_digests"

    stat_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
