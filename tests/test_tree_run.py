"""benchmarks.tree_run counts a command's descendants (the JVM of a Spark command) in its peaks."""

from __future__ import annotations

import sys

from benchmarks.tree_run import main


def test_tree_peak_includes_a_child_process_memory(tmp_path):
    child = "x = bytearray(200 * 2**20); import time; time.sleep(1.5)"
    parent = (
        f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}], check=True)"
    )
    log = tmp_path / "runs.jsonl"
    result = main(["--interval", "0.1", "--log", str(log), "--", sys.executable, "-c", parent])
    assert result["exit"] == 0
    assert result["tree_peak_mb"] >= 200 + result["process_hwm_mb"] // 2
    assert result["python_peak_mb"] >= 200  # both processes are Python executables
    assert result["java_peak_mb"] == 0
    assert log.read_text().count("\n") == 1


def test_exit_code_is_reported():
    result = main(["--", sys.executable, "-c", "raise SystemExit(3)"])
    assert result["exit"] == 3
