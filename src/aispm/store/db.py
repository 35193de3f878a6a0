"""The store: every scan kept whole, in an embedded SQLite file or in PostgreSQL.

``Store.open()`` picks the database from, in order: the URL given (``--db``), ``AISPM_DATABASE_URL``,
then a SQLite file in the per-user data directory. The schema is brought to the newest Alembic
revision on open. What is stored is exactly what the scan produced: collectors redact secrets
before they become assets, so the store never sees them in clear.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from aispm.model import (
    Asset,
    AssetKind,
    CheckRun,
    ErrorKind,
    Finding,
    Location,
    Relation,
    RelationKind,
    ScanError,
    ScanInfo,
    ScanResult,
    Scope,
    Severity,
)
from aispm.store.tables import (
    AssetRow,
    CheckRunRow,
    FileCacheRow,
    FileDigestRow,
    FindingRow,
    RelationRow,
    ScanErrorRow,
    ScanRow,
)

ENV_URL = "AISPM_DATABASE_URL"
#: The newest migration in migrations/versions (a test checks the two agree). Knowing it here lets
#: an up-to-date store open without importing Alembic at all.
HEAD_REVISION = "0002"
_MIGRATIONS = Path(__file__).parent / "migrations"
_BATCH = 500


class StoreError(Exception):
    """The store cannot be opened, read or written."""


class ScanNotFound(StoreError):
    pass


@dataclass(frozen=True, slots=True)
class ScanSummary:
    id: str
    started_at: str
    finished_at: str
    targets: tuple[str, ...]
    assets: int
    findings: int
    errors: int


def default_url() -> str:
    """The URL used when none is given: ``AISPM_DATABASE_URL`` or the per-user SQLite file."""
    env = os.environ.get(ENV_URL)
    if env:
        return env
    path = Path(user_data_dir("aispm", appauthor=False)) / "aispm.db"
    return f"sqlite:///{path}"


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` and a bare file path; pick the drivers we ship with."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open (creating and migrating as needed) the store at ``url``."""
        raw = url or default_url()
        try:
            sa_url = make_url(normalize_url(raw))
        except ArgumentError as exc:
            raise StoreError(f"not a database URL: {raw!r}") from exc
        if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            engine = create_engine(sa_url)
        except ModuleNotFoundError as exc:
            raise StoreError(
                f"no driver for {sa_url.get_backend_name()}: install aispm[postgres] ({exc.name} missing)"
            ) from exc
        except (ArgumentError, NoSuchModuleError) as exc:
            raise StoreError(f"unsupported database URL {raw!r}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine)
        store.migrate()
        return store

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it is already there)."""
        try:
            with self.engine.begin() as conn:
                if _current_revision(conn) == HEAD_REVISION:
                    return
                from alembic import command
                from alembic.config import Config

                cfg = Config()
                cfg.set_main_option("script_location", str(_MIGRATIONS))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except (OperationalError, SQLAlchemyError) as exc:
            raise StoreError(f"cannot open the store at {self.engine.url.render_as_string()}: {exc}") from exc

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        try:
            with self._session.begin() as s:
                yield s
        except SQLAlchemyError as exc:
            raise StoreError(str(exc)) from exc

    # -- scans -------------------------------------------------------------------------------

    def save(self, result: ScanResult) -> None:
        """Keep a whole scan."""
        i = result.info
        sid = i.id
        with self._tx() as s:
            s.add(
                ScanRow(
                    id=sid,
                    started_at=i.started_at,
                    finished_at=i.finished_at,
                    targets=list(i.targets),
                    tool_version=i.tool_version,
                    collectors=list(i.collectors),
                    stats=dict(i.stats),
                    asset_count=len(result.assets),
                    finding_count=len(result.findings),
                    error_count=len(result.errors),
                )
            )
            s.flush()
            s.add_all(
                AssetRow(
                    scan_id=sid,
                    asset_id=a.id,
                    kind=a.kind.value,
                    name=a.name,
                    path=a.location.path if a.location else None,
                    line=a.location.line if a.location else None,
                    scope=a.scope.value,
                    properties=dict(a.properties),
                    occurrences=[o.to_dict() for o in a.occurrences],
                )
                for a in result.assets
            )
            s.add_all(
                RelationRow(scan_id=sid, source=r.source, target=r.target, kind=r.kind.value)
                for r in result.relations
            )
            s.add_all(
                FindingRow(
                    scan_id=sid,
                    fingerprint=f.fingerprint,
                    check_id=f.check_id,
                    severity=f.severity.value,
                    title=f.title,
                    message=f.message,
                    asset_id=f.asset_id,
                    path=f.location.path if f.location else None,
                    line=f.location.line if f.location else None,
                    frameworks=list(f.frameworks),
                    remediation=f.remediation,
                    evidence=dict(f.evidence),
                )
                for f in result.findings
            )
            s.add_all(
                ScanErrorRow(
                    scan_id=sid, path=e.path, collector=e.collector, kind=e.kind.value, message=e.message
                )
                for e in result.errors
            )
            s.add_all(
                CheckRunRow(
                    scan_id=sid,
                    check_id=c.check_id,
                    assessed=c.assessed,
                    failed=c.failed,
                    not_assessed=c.not_assessed,
                    reason=c.reason,
                )
                for c in result.check_runs
            )

    def scans(self, limit: int | None = None) -> list[ScanSummary]:
        """Scan history, newest first."""
        with self._tx() as s:
            q = select(ScanRow).order_by(ScanRow.started_at.desc(), ScanRow.id)
            if limit:
                q = q.limit(limit)
            return [
                ScanSummary(
                    r.id,
                    r.started_at,
                    r.finished_at,
                    tuple(r.targets),
                    r.asset_count,
                    r.finding_count,
                    r.error_count,
                )
                for r in s.scalars(q)
            ]

    def resolve_id(self, scan_id: str | None) -> str:
        """The full id of the scan named by ``scan_id`` (a unique prefix works), or the latest."""
        with self._tx() as s:
            if scan_id is None:
                found = s.scalar(select(ScanRow.id).order_by(ScanRow.started_at.desc(), ScanRow.id).limit(1))
                if found is None:
                    raise ScanNotFound("no scans stored yet: run `aispm scan PATH` first")
                return found
            matches = list(s.scalars(select(ScanRow.id).where(ScanRow.id.startswith(scan_id)).limit(2)))
        if not matches:
            raise ScanNotFound(f"no scan with id {scan_id!r}")
        if len(matches) > 1:
            raise ScanNotFound(f"scan id prefix {scan_id!r} is ambiguous")
        return matches[0]

    def load(self, scan_id: str | None = None) -> ScanResult:
        """A stored scan, exactly as it was saved (``None``: the latest)."""
        sid = self.resolve_id(scan_id)
        with self._tx() as s:
            row = s.get(ScanRow, sid)
            assert row is not None
            info = ScanInfo(
                id=row.id,
                started_at=row.started_at,
                finished_at=row.finished_at,
                targets=tuple(row.targets),
                tool_version=row.tool_version,
                collectors=tuple(row.collectors),
                stats=dict(row.stats),
            )
            assets = tuple(
                Asset(
                    id=a.asset_id,
                    kind=AssetKind(a.kind),
                    name=a.name,
                    location=Location(a.path, a.line) if a.path is not None else None,
                    properties=dict(a.properties),
                    scope=Scope(a.scope),
                    occurrences=tuple(Location.from_dict(o) for o in a.occurrences),
                )
                for a in s.scalars(select(AssetRow).where(AssetRow.scan_id == sid).order_by(AssetRow.pk))
            )
            relations = tuple(
                Relation(r.source, r.target, RelationKind(r.kind))
                for r in s.scalars(
                    select(RelationRow).where(RelationRow.scan_id == sid).order_by(RelationRow.pk)
                )
            )
            findings = tuple(
                Finding(
                    fingerprint=f.fingerprint,
                    check_id=f.check_id,
                    severity=Severity(f.severity),
                    title=f.title,
                    message=f.message,
                    asset_id=f.asset_id,
                    location=Location(f.path, f.line) if f.path is not None else None,
                    frameworks=tuple(f.frameworks),
                    remediation=f.remediation,
                    evidence=dict(f.evidence),
                )
                for f in s.scalars(
                    select(FindingRow).where(FindingRow.scan_id == sid).order_by(FindingRow.pk)
                )
            )
            errors = tuple(
                ScanError(e.path, e.collector, ErrorKind(e.kind), e.message)
                for e in s.scalars(
                    select(ScanErrorRow).where(ScanErrorRow.scan_id == sid).order_by(ScanErrorRow.pk)
                )
            )
            runs = tuple(
                CheckRun(c.check_id, c.assessed, c.failed, c.not_assessed, c.reason)
                for c in s.scalars(
                    select(CheckRunRow).where(CheckRunRow.scan_id == sid).order_by(CheckRunRow.pk)
                )
            )
        return ScanResult(info, assets, relations, findings, errors, runs)

    def delete(self, scan_id: str) -> None:
        sid = self.resolve_id(scan_id)
        with self._tx() as s:
            for table in (AssetRow, RelationRow, FindingRow, ScanErrorRow, CheckRunRow):
                s.execute(delete(table).where(table.scan_id == sid))
            s.execute(delete(ScanRow).where(ScanRow.id == sid))

    def count_scans(self) -> int:
        with self._tx() as s:
            return int(s.scalar(select(func.count()).select_from(ScanRow)) or 0)

    # -- per-file observation cache (pipeline.ObservationCache) ------------------------------

    def get_many(self, keys: Sequence[str]) -> Mapping[str, list[dict[str, Any]]]:
        return self._lookup(FileCacheRow.key, FileCacheRow.observations, keys)

    def put_many(self, entries: Mapping[str, list[dict[str, Any]]]) -> None:
        self._replace(FileCacheRow.key, [FileCacheRow(key=k, observations=v) for k, v in entries.items()])

    def get_digests(self, stat_keys: Sequence[str]) -> Mapping[str, str]:
        return self._lookup(FileDigestRow.stat_key, FileDigestRow.digest, stat_keys)

    def put_digests(self, entries: Mapping[str, str]) -> None:
        self._replace(
            FileDigestRow.stat_key, [FileDigestRow(stat_key=k, digest=v) for k, v in entries.items()]
        )

    def _lookup(self, key: Any, value: Any, keys: Sequence[str]) -> dict[str, Any]:
        """``{key: value}`` of the cache rows whose ``key`` column is among ``keys``, in batches.

        Plain column rows, not ORM objects: a rescan loads one row per file.
        """
        out: dict[str, Any] = {}
        with self._tx() as s:
            for i in range(0, len(keys), _BATCH):
                rows = s.execute(select(key, value).where(key.in_(keys[i : i + _BATCH])))
                out.update((k, v) for k, v in rows)
        return out

    def _replace(self, key: Any, rows: Sequence[Any]) -> None:
        """Insert ``rows`` of one cache table, replacing those with the same ``key`` column value."""
        keys = [getattr(r, key.key) for r in rows]
        with self._tx() as s:
            for i in range(0, len(keys), _BATCH):
                s.execute(delete(key.class_).where(key.in_(keys[i : i + _BATCH])))
            s.add_all(rows)

    def clear_cache(self) -> None:
        with self._tx() as s:
            s.execute(delete(FileCacheRow))
            s.execute(delete(FileDigestRow))


def _current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
