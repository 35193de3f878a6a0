"""The store against a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from aispm.model import AssetKind
from aispm.pipeline import ScanOptions, scan
from aispm.store import ScanNotFound, Store, StoreError
from aispm.store.tables import Base
from tests.helpers import LineCollector, ModelsAreBad


def _result(tmp_path: Path, text: str = "use openai\nmodel org/a\nboom\n") -> object:
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    (root / "x.ai").write_text(text)
    return scan([root], ScanOptions(collectors=[LineCollector()], checks=[ModelsAreBad()]))


def _round_trip(url: str, tmp_path: Path) -> None:
    store = Store.open(url)
    first = _result(tmp_path)
    store.save(first)
    loaded = store.load(first.info.id)
    assert loaded == first  # every record comes back exactly
    assert loaded.errors and loaded.findings and loaded.check_runs
    second = _result(tmp_path, "model org/b\n")
    store.save(second)
    history = store.scans()
    assert [s.id for s in history] == [second.info.id, first.info.id]
    assert history[1].errors == 1 and history[1].findings == 1
    assert store.load().info.id == second.info.id  # latest by default
    assert store.load(first.info.id[:8]).info.id == first.info.id  # unique prefix
    with pytest.raises(ScanNotFound):
        store.load("zzzz")
    store.delete(first.info.id)
    assert store.count_scans() == 1
    store.close()
    # reopening runs no migration and keeps everything
    again = Store.open(url)
    assert again.load().info.id == second.info.id
    again.close()


def test_sqlite_file_round_trip_and_history(tmp_path: Path, sqlite_url: str) -> None:
    _round_trip(sqlite_url, tmp_path)
    assert (tmp_path / "aispm.db").stat().st_size > 0


def test_bare_path_is_a_sqlite_file(tmp_path: Path) -> None:
    store = Store.open(str(tmp_path / "sub" / "my.db"))
    assert store.engine.dialect.name == "sqlite"
    assert (tmp_path / "sub" / "my.db").exists()
    store.close()


@pytest.mark.postgres
def test_postgresql_round_trip_and_history(tmp_path: Path, postgres_url: str) -> None:
    _round_trip(postgres_url, tmp_path)


@pytest.mark.postgres
def test_postgresql_schema_matches_the_tables(postgres_url: str) -> None:
    store = Store.open(postgres_url)
    insp = inspect(store.engine)
    for table in Base.metadata.sorted_tables:
        cols = {c["name"] for c in insp.get_columns(table.name)}
        assert cols == {c.name for c in table.columns}, table.name
    store.close()


def test_migrated_sqlite_schema_matches_the_tables(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    insp = inspect(store.engine)
    assert set(insp.get_table_names()) >= {t.name for t in Base.metadata.sorted_tables}
    for table in Base.metadata.sorted_tables:
        assert {c["name"] for c in insp.get_columns(table.name)} == {c.name for c in table.columns}
    store.close()


def test_unreachable_or_bad_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        Store.open("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError):
        Store.open("notascheme://")


def test_cache_round_trip(sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    store.put_many({"k1": [{"t": "x"}], "k2": []})
    store.put_many({"k1": [{"t": "y"}]})
    assert store.get_many(["k1", "k2", "k3"]) == {"k1": [{"t": "y"}], "k2": []}
    store.clear_cache()
    assert store.get_many(["k1"]) == {}
    store.close()


def test_assets_kinds_survive(tmp_path: Path, sqlite_url: str) -> None:
    store = Store.open(sqlite_url)
    r = _result(tmp_path)
    store.save(r)
    kinds = {a.kind for a in store.load().assets}
    assert AssetKind.MODEL in kinds and AssetKind.AI_SDK_USAGE in kinds
    store.close()


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from aispm.store import db

    cfg = Config()
    cfg.set_main_option("script_location", str(db._MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_current_head() == db.HEAD_REVISION
