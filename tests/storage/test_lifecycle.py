"""The one write (replace + load + copies + data version in one transaction), the data version,
read-only connections and URLs (options passed through, passwords never shown)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sales_analytics import metrics
from sales_analytics.storage import DataVersion, StorageError, connect, parse_url, redact
from sales_analytics.synth import generate
from tests.conftest import PG_ADMIN_URL
from tests.storage.snapshot import state


@pytest.fixture(scope="module")
def frames():
    return generate(scale=0.005, seed=3).tables


def test_data_version_grows_with_every_write(backend_url, frames):
    with connect(backend_url) as db:
        assert db.data_version() is None
        metrics.load(db, frames, replace=True)
        v1 = db.data_version()
        metrics.refresh(db)
        v2 = db.data_version()
        metrics.load(db, frames, replace=True)
        v3 = db.data_version()
        assert isinstance(v1, DataVersion)
        assert (v1.version, v2.version, v3.version) == (1, 2, 3)
        assert v1.committed_at <= v2.committed_at <= v3.committed_at
        assert v1.committed_at.tzinfo is not None
        kinds = db.query("SELECT kind, rows FROM sa_data_version ORDER BY version")
        assert [k for k, _ in kinds] == ["replace", "refresh", "replace"]
        assert kinds[0][1] == sum(t.num_rows for t in frames.values())
        assert not db.changed_on_disk()  # this connection made the writes


def test_failed_replace_keeps_data_copies_indexes_and_version(backend_url, frames):
    with connect(backend_url) as db:
        metrics.load(db, frames, replace=True)
    before = state(backend_url)
    bad = dict(frames) | {"orders": pa.concat_tables([frames["orders"], frames["orders"].slice(0, 1)])}
    with connect(backend_url) as db, pytest.raises(StorageError) as err:
        metrics.load(db, bad, replace=True)
    assert str(err.value).startswith("replace failed, nothing was changed")
    assert state(backend_url) == before


def test_create_schema_replace_is_one_write(backend_url, frames):
    with connect(backend_url) as db:
        metrics.load(db, frames, replace=True)
        db.create_schema(replace=True)
        assert set(db.counts().values()) == {0}
        assert db.data_version().version == 2  # the version survives a replace: it only grows


def test_read_only_on_a_missing_duckdb_file_creates_nothing(tmp_path):
    target = tmp_path / "typo" / "nested" / "sales.duckdb"
    with pytest.raises(StorageError) as err:
        connect(f"duckdb:///{target}", read_only=True)
    assert str(err.value) == (
        f"no DuckDB database at {target}: create one with `sales-analytics build`"
    )
    assert list(tmp_path.iterdir()) == []


def test_writer_creates_the_file_on_its_first_write_only(tmp_path, frames):
    target = tmp_path / "new" / "sales.duckdb"
    with connect(f"duckdb:///{target}") as db:
        assert not db.has_schema() and not (tmp_path / "new").exists()
        metrics.load(db, frames)
        assert target.is_file() and db.counts()["orders"] == frames["orders"].num_rows


def test_redact_hides_passwords():
    url = "postgresql://ann:s3cr%40t@db.example.com:6543/shop?sslmode=require&application_name=x"
    assert redact(url) == (
        "postgresql://ann:***@db.example.com:6543/shop?sslmode=require&application_name=x"
    )
    assert redact("postgresql://h/db?password=hunter2&sslmode=disable") == (
        "postgresql://h/db?password=***&sslmode=disable"
    )
    assert redact("duckdb:///data/sales.duckdb") == "duckdb:///data/sales.duckdb"
    parsed = parse_url(url)
    assert "s3cr" not in repr(parsed) and parsed.password == "s3cr@t"


def test_url_options_reach_libpq():
    parsed = parse_url(
        "postgresql://ann:pw@h:5433/shop?sslmode=require&application_name=sa%20api"
        "&connect_timeout=3&options=-c%20statement_timeout%3D5000&target_session_attrs=read-write"
    )
    kwargs = parsed.connect_kwargs()
    assert kwargs["sslmode"] == "require" and kwargs["application_name"] == "sa api"
    assert kwargs["options"] == "-c statement_timeout=5000"
    assert kwargs["target_session_attrs"] == "read-write" and kwargs["connect_timeout"] == "3"
    assert "sslmode=require" in parsed.conninfo and "dbname=shop" in parsed.conninfo


@pytest.mark.postgres
def test_url_options_are_applied_on_postgres(pg_databases):
    url = pg_databases.new()
    with connect(f"{url}?application_name=sa_probe&options=-c%20statement_timeout%3D4321") as db:
        assert db.query("SHOW statement_timeout")[0][0] == "4321ms"
        assert db.query("SELECT current_setting('application_name')")[0][0] == "sa_probe"
        assert not db.changed_on_disk()


@pytest.mark.postgres
def test_wrong_password_or_user_is_one_line_without_the_password():
    base = PG_ADMIN_URL.split("://", 1)[1].rsplit("@", 1)[-1]  # host:port/db
    for url in (
        f"postgresql://nobody_here:Hunter2Secret@{base}",
        "postgresql://postgres:Hunter2Secret@127.0.0.1:1/postgres",
    ):
        with pytest.raises(StorageError) as err:
            connect(url)
        text = str(err.value)
        assert "\n" not in text and "Hunter2Secret" not in text
        assert text.startswith("cannot connect to PostgreSQL at ")
