"""The models and the migrations describe the same schema, on both backends."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.db import make_engine
from app.models import Base


def test_models_match_migrations(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_the_name_key_migration_fills_the_key_and_keeps_old_clashes_apart(tmp_path: Path) -> None:
    from sqlalchemy import text

    from app.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0003")
        with engine.begin() as conn:
            for id_, name in (("a" * 32, "Ärger"), ("b" * 32, "ärger"), ("c" * 32, "Events")):
                conn.execute(
                    text(
                        "INSERT INTO objectives (id, name, description, color,"
                        " min_posts_per_day, active_weekdays, timezone, archived,"
                        " created_at, updated_at) VALUES (:id, :name, '', '#000000', 1,"
                        " '[0]', 'UTC', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                    ),
                    {"id": id_, "name": name},
                )
        upgrade(engine)
        with engine.connect() as conn:
            keys = dict(conn.execute(text("SELECT name, name_key FROM objectives")).all())
    finally:
        engine.dispose()
    assert keys == {"Ärger": "ärger", "ärger": f"ärger ({'b' * 32})", "Events": "events"}
