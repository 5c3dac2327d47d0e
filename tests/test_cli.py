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
    assert f"{counts['orders']:,}" in info.output and "Net revenue" in info.output and "$" in info.output

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


# ------------------------------------------------------------------------------ unexpected errors
@pytest.fixture
def boom(monkeypatch):
    """`info` fails with an exception nobody foresaw; the root logger is restored afterwards."""
    import logging

    import sales_analytics.cli.data as data_commands

    def broken(_url):
        raise RuntimeError("boom\nsecond line of the message")

    monkeypatch.setattr(data_commands, "open_db", broken)
    for name in ("ENVIRONMENT", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_unexpected_error_is_one_line_with_a_hint_in_development(boom):
    result = run("info")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: unexpected RuntimeError: boom (--log-level DEBUG shows the traceback)" in (
        result.output
    )
    assert "second line" not in result.output


def test_traceback_only_in_development_at_debug(boom):
    result = run("--log-level", "DEBUG", "info")
    assert result.exit_code == 1 and "Traceback" in result.output
    assert "error: unexpected RuntimeError: boom" in result.output
    again = run("info", LOG_LEVEL="DEBUG")
    assert again.exit_code == 1 and "Traceback" in again.output


@pytest.mark.parametrize("args", [("info",), ("--log-level", "DEBUG", "info")])
def test_production_never_shows_a_traceback(boom, args):
    result = run(*args, ENVIRONMENT="production")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().endswith("error: unexpected RuntimeError: boom")


@pytest.mark.parametrize(
    "args, env, message",
    [
        (("info",), {"SA_CURRENCY": "EURO"}, "invalid setting SA_CURRENCY"),
        (("info",), {"ENVIRONMENT": "staging"}, "invalid setting ENVIRONMENT"),
        (("--log-level", "LOUD", "info"), {}, "log level must be one of"),
    ],
)
def test_bad_settings_are_one_line(boom, args, env, message):
    result = run(*args, **env)
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_error_messages_are_text_not_markup(monkeypatch):
    import sales_analytics.cli.data as data_commands

    def missing(_url):
        raise FileNotFoundError("[Errno 2] no such file: [/bad]")

    monkeypatch.setattr(data_commands, "open_db", missing)
    result = run("info")
    assert result.exit_code == 1
    assert "error: [Errno 2] no such file: [/bad]" in result.output


# ------------------------------------------------------------------------------ evaluations
def test_any_evaluation_prints_without_knowing_the_model():
    """The CLI prints an Evaluation from its fields alone: table, sentences, titled tables."""
    import pandas as pd

    from sales_analytics.cli.common import console
    from sales_analytics.cli.models import print_evaluation
    from sales_analytics.models import Evaluation

    ev = Evaluation(
        best="shiny",
        table=pd.DataFrame({"model": ["shiny", "naive"], "mae": [1.25, 2.5]}),
        summary=["shiny beats naive by half", "second sentence"],
        details={"anything": 1},
        tables={"newmodel: extras": pd.DataFrame({"k": ["a"], "v": [0.5]})},
    )
    with console.capture() as captured:
        print_evaluation("newmodel", ev)
    text = " ".join(captured.get().split())  # titles wrap to the table's width
    assert "newmodel: backtest (best: shiny)" in text and "1.250" in text and "2.500" in text
    assert "shiny beats naive by half" in text and "second sentence" in text
    assert "newmodel: extras" in text and "0.500" in text
