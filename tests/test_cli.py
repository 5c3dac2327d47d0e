"""The command line: happy paths and one-line errors with a non-zero exit."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from sales_analytics.cli import app
from sales_analytics.storage import connect

runner = CliRunner()


def run(*args: str, **env: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **env})


def test_build_info_refresh(tmp_path):
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    result = run("build", "--scale", "0.05", "--seed", "5", "-d", url)
    assert result.exit_code == 0, result.output
    assert "loaded into duckdb" in result.output
    params = json.loads((tmp_path / "params.json").read_text())
    assert params["seed"] == 5 and {"r", "alpha", "a", "b"} <= set(params["params"])
    assert (tmp_path / "truth.parquet").is_file()

    info = run("info", "-d", url)
    assert info.exit_code == 0, info.output
    with connect(url) as db:
        counts = db.counts()
    assert f"{counts['orders']:,}" in info.output and "completed revenue" in info.output

    again = run("build", "--scale", "0.05", "-d", url)
    assert again.exit_code == 1 and "--replace" in again.output

    assert run("refresh", "-d", url).exit_code == 0
    assert run("build", "--scale", "0.05", "--seed", "6", "--replace", "-d", url).exit_code == 0


def test_generate_then_load_round_trip(tmp_path):
    out = tmp_path / "gen"
    assert run("generate", "--scale", "0.03", "--seed", "1", "--out", str(out)).exit_code == 0
    assert {p.name for p in out.iterdir()} >= {"orders.parquet", "truth.parquet", "params.json"}
    url = f"duckdb:///{tmp_path / 'a.duckdb'}"
    result = run("load", str(out), "-d", url)
    assert result.exit_code == 0, result.output
    with connect(url) as db:
        assert db.counts()["orders"] > 0


@pytest.mark.parametrize(
    "args, message",
    [
        (("info", "-d", "mysql://localhost/shop"), "unsupported database URL"),
        (("info", "-d", "postgresql://postgres@127.0.0.1:1/shop"), "cannot connect to PostgreSQL"),
        (("load", "/nonexistent/folder", "-d", "duckdb://"), "missing customers.parquet"),
        (("refresh", "-d", "duckdb://"), "no sales-analytics schema"),
    ],
)
def test_errors_are_one_line_and_non_zero(args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
