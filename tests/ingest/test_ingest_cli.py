"""`sales-analytics import FILE --format ...`: summary, reject file, one-line errors."""

from __future__ import annotations

from typer.testing import CliRunner

from sales_analytics.cli import app
from sales_analytics.storage import connect
from tests.ingest.conftest import RETAIL_HEADER

runner = CliRunner()


def test_import_command(tmp_path, write_csv):
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    path = write_csv(
        f"""
        {RETAIL_HEADER}
        489434,85048,GLASS BALL,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom
        489436,48173C,DOOR MAT,10,2009-12-01 09:06:00,5.95,,United Kingdom
        """
    )
    args = ["import", str(path), "--format", "online-retail", "-d", url]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "1 of 2 lines rejected" in result.output
    assert "missing Customer ID" in result.output
    assert (tmp_path / "export.rejects.csv").is_file()
    with connect(url) as db:
        assert db.counts()["orders"] == 1


def test_import_command_bad_file_is_one_line_and_exit_1(tmp_path):
    missing = tmp_path / "nope.csv"
    url = f"duckdb:///{tmp_path / 'shop.duckdb'}"
    result = runner.invoke(app, ["import", str(missing), "-d", url], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert f"no such file: {missing}" in result.output
