"""`sales-analytics dashboard` runs `streamlit run app.py` headless with the database URL and the
models folder in the environment."""

from __future__ import annotations

import subprocess

from typer.testing import CliRunner

from sales_analytics.cli import app


def test_dashboard_command_runs_streamlit(shop_url, tmp_path, monkeypatch):
    calls = []

    class FakePopen:
        def __init__(self, cmd, env):
            calls.append((cmd, env))

        def wait(self):
            return 0

        def terminate(self):  # pragma: no cover - only on SIGTERM
            pass

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    result = CliRunner().invoke(
        app,
        ["dashboard", "-d", shop_url, "--port", "8999", "--models-dir", str(tmp_path)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    (cmd, env), = calls
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("dashboard/app.py")
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert flags["--server.headless"] == "true" and flags["--server.port"] == "8999"
    assert flags["--server.enableStaticServing"] == "true"  # the world map's outlines
    assert env["DATABASE_URL"] == shop_url and env["SA_MODELS_DIR"] == str(tmp_path.resolve())
    assert "http://localhost:8999" in result.output
