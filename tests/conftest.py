"""Shared fixtures. PostgreSQL: a real server, started from Debian's packages where none runs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests: no per-example deadline (a loaded 2-core CI box is slow, not wrong); under CI the
# examples are derandomized so a run is reproducible, while local runs keep exploring.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("dev"), derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

PG_URL_ENV = "AISPM_TEST_POSTGRES_URL"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _try_start_debian_cluster() -> str | None:
    """Start the Debian cluster if its tools are installed; the reason it could not, else None."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return "PostgreSQL is not installed (Debian package postgresql); .ci/run installs it"
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        return "no PostgreSQL cluster configured under /etc/postgresql"
    proc = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        capture_output=True,
        text=True,
        check=False,
    )
    for _ in range(50):
        if _reachable("127.0.0.1", 5432):
            return None
        time.sleep(0.2)
    return f"could not start PostgreSQL: {proc.stderr.strip() or proc.stdout.strip()}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """URL of a reachable PostgreSQL server's maintenance database."""
    url = os.environ.get(PG_URL_ENV, PG_DEFAULT)
    if not _reachable("127.0.0.1", 5432) and PG_URL_ENV not in os.environ:
        reason = _try_start_debian_cluster()
        if reason:
            pytest.skip(reason)
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the real server, dropped afterwards."""
    import psycopg

    name = f"aispm_test_{uuid.uuid4().hex[:12]}"
    base = postgres_server
    try:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {base} refused the connection: {exc}")
    url = base.rsplit("/", 1)[0] + "/" + name
    yield url
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'aispm.db'}"
