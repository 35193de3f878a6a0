"""Scan history: SQLite by default, PostgreSQL by URL, schema migrated with Alembic."""

from aispm.store.db import ScanNotFound, ScanSummary, Store, StoreError, default_url

__all__ = ["ScanNotFound", "ScanSummary", "Store", "StoreError", "default_url"]
