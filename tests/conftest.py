"""Fixtures: a real database built by the migrations (SQLite always, PostgreSQL when
CADENCE_TEST_DATABASE_URL names one), a runtime with a frozen clock, an app client.

Isolation: each SQLite test gets a fresh copy of a migrated template file; each
PostgreSQL test starts from truncated tables in a database migrated once per run.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from app.clock import FrozenClock
from app.config import Settings
from app.db import make_engine, transaction
from app.migrate import upgrade
from app.models import Base
from app.runtime import Runtime
from app.users.models import Role
from app.users.service import create_token, get_or_create_user

warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")
from fastapi.testclient import TestClient  # noqa: E402

from app.main import create_app  # noqa: E402

PG_URL = os.environ.get("CADENCE_TEST_DATABASE_URL")
# CADENCE_OUTBOUND_ALLOW for every test server and worker: the fakes are on 127.0.0.1.
FAKES_ALLOWED = "127.0.0.1"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL is None and os.environ.get("CADENCE_REQUIRE_POSTGRES"):
        raise pytest.UsageError(
            "CADENCE_REQUIRE_POSTGRES is set but CADENCE_TEST_DATABASE_URL is not"
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _admin_engine(base_url: str) -> Engine:
    url = make_url(base_url).set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _worker_database(base_url: str) -> str:
    """This pytest-xdist worker's own database next to `base_url`, created empty.

    Workers run at once; each truncates tables between tests, so they cannot share one.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return base_url
    url = make_url(base_url)
    name = f"{url.database}_{worker}"
    admin = _admin_engine(base_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_worker_database(base_url: str, url: str) -> None:
    if url == base_url:
        return
    admin = _admin_engine(base_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_migrated() -> Iterator[str]:
    assert PG_URL is not None
    url = _worker_database(PG_URL)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    yield url
    _drop_worker_database(PG_URL, url)


# Children before parents. DELETE is much faster than TRUNCATE on the small tables a
# test leaves behind (TRUNCATE rewrites every table's files).
CLEAR_ORDER = (
    # connecting accounts
    "mastodon_apps",
    "connect_states",
    "channel_tokens",
    # team workflow
    "twophy_awards",
    "post_comments",
    "audit_entries",
    "guardrails",
    # planning
    "series",  # its occurrences keep their posts (series_id is set to null)
    "pause_switch",
    "blackouts",
    "slots",
    "autofill_claims",
    "alert_digests",
    # exchange
    # insights
    "digests",
    "delivery_metrics",
    "metric_schedules",
    "tracked_links",
    "calendar_feeds",
    "delivery_parts",
    "delivery_attempts",
    "alerts",  # cascades to the alert announcement posts
    "deliveries",
    "post_media",
    "post_objectives",
    "posts",
    "media",
    "channels",
    "objectives",
    "api_tokens",
    "login_attempts",
    "users",
)


def _truncate_all(url: str) -> None:
    assert set(CLEAR_ORDER) == set(Base.metadata.tables), "CLEAR_ORDER misses a table"
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in CLEAR_ORDER:
            conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(PG_URL is None, reason="CADENCE_TEST_DATABASE_URL is not set"),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "cadence.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_migrated")
    _truncate_all(url)
    return url


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> str:
    """For tests of what only PostgreSQL shows (several worker processes)."""
    if PG_URL is None:
        pytest.skip("CADENCE_TEST_DATABASE_URL is not set")
    url: str = request.getfixturevalue("pg_migrated")
    _truncate_all(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        secret_key="test-secret-key",
        media_dir=tmp_path / "media",
        key_file=tmp_path / "cadence.key",
        timezone="Europe/London",
        base_url="http://cadence.test",
        # The fake platforms listen on 127.0.0.1: allowed as an operator would.
        outbound_allow=FAKES_ALLOWED,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def runtime(settings: Settings, clock: FrozenClock) -> Iterator[Runtime]:
    rt = Runtime.build(settings, clock=clock)
    yield rt
    rt.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as c:
        yield c


def make_token(runtime: Runtime, role: Role, email: str | None = None) -> str:
    with transaction(runtime.sessions) as session:
        user = get_or_create_user(
            session, email=email or f"{role.value}@example.org", role=role, now=NOW
        )
        return create_token(session, user=user, now=NOW)


@pytest.fixture
def admin(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(runtime, Role.admin)}"}


@pytest.fixture
def editor(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(runtime, Role.editor)}"}


@pytest.fixture
def viewer(runtime: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(runtime, Role.viewer)}"}
