"""Passwords never reach any output, and read commands never create files or folders.

The test server trusts every local connection, so a URL with any password connects; a wrong port
or an unknown user provokes the errors. Every captured output is searched for the password.
"""

from __future__ import annotations

import logging

import pytest
from typer.testing import CliRunner

from sales_analytics import metrics
from sales_analytics.cli import app
from sales_analytics.storage import connect
from sales_analytics.synth import generate
from tests.conftest import PG_ADMIN_URL

SECRET = "Sup3rS3cretPassw0rd"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def with_password(url: str, user: str | None = None) -> str:
    scheme, rest = url.split("://", 1)
    userinfo, _, hostpart = rest.rpartition("@")
    name = user or userinfo.split(":", 1)[0] or "postgres"
    return f"{scheme}://{name}:{SECRET}@{hostpart}"


@pytest.mark.postgres
def test_password_never_in_any_output(pg_databases, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    url = with_password(pg_databases.new())
    empty = run("info", "-d", url)  # no schema yet
    assert empty.exit_code == 1 and "***" in empty.output
    with connect(url) as db:
        metrics.load(db, generate(scale=0.005, seed=1).tables)
        assert SECRET not in repr(db) and SECRET not in db.display_url
    host = url.rsplit("@", 1)[1].split("/", 1)[0]
    outputs = [
        empty,
        run("info", "-d", url),
        run("analyze", "-d", url, "--out", str(tmp_path / "out")),
        run("info", "-d", url.replace(host, "127.0.0.1:1")),  # nothing listens there
        run("analyze", "-d", with_password(url, user="no_such_user_x"), "--out", str(tmp_path)),
        run("refresh", "-d", url.replace("postgresql", "mysql")),  # unsupported scheme
        run("info", "-d", url.replace(host, f"{host.split(':')[0]}:notaport")),
    ]
    assert outputs[1].exit_code == 0 and f"postgres:***@{host}" in outputs[1].output
    assert outputs[2].exit_code == 0
    for result in outputs[3:]:
        assert result.exit_code == 1
        assert len(result.output.strip().splitlines()) == 1, result.output
    for result in outputs:
        assert SECRET not in result.output
        assert SECRET not in "".join(map(str, result.exception.args)) if result.exception else True
    assert SECRET not in caplog.text
    assert not any(SECRET in p.read_text(errors="ignore") for p in tmp_path.rglob("*") if p.is_file())


@pytest.mark.parametrize("command", ["info", "analyze", "report", "train", "dashboard"])
def test_read_commands_on_a_missing_duckdb_path_create_nothing(tmp_path, command):
    (tmp_path / "db").mkdir()
    target = tmp_path / "db" / "typo" / "sales.duckdb"
    args = [command, "-d", f"duckdb:///{target}"]
    if command == "analyze":  # its output folder is its own business (made before it reads)
        args += ["--out", str(tmp_path / "out")]
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        f"error: no DuckDB database at {target}: create one with `sales-analytics build`"
    )
    assert list((tmp_path / "db").iterdir()) == []


def test_admin_url_has_no_password():  # the fixtures' own URL is shown in failures
    assert SECRET not in PG_ADMIN_URL
