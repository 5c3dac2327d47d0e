"""`sales-analytics serve`: refuses to run open by accident or with a guessable key, reads the key
from the environment or a file, builds the app it hands to uvicorn, serves https with TLS files."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sales_analytics.cli import app

runner = CliRunner()

SECRET = "s3cret-" + "x" * 25  # 32 characters: the shortest key accepted
ENV_KEY = "from-env-" + "y" * 23


@pytest.fixture
def served(monkeypatch):
    """Replaces uvicorn.run; returns the captured call."""
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda api, **kw: calls.append({"app": api} | kw))
    for name in ("SA_API_KEY", "SA_API_KEY_FILE", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    return calls


def run(*args: str, **env: str):
    return runner.invoke(app, ["serve", *args], env={"COLUMNS": "200", **env})


@pytest.fixture(scope="module")
def duck_url(tmp_path_factory, small_frames) -> str:
    """A DuckDB file holding the small shop (the CLI does not depend on the backend)."""
    from sales_analytics.storage import connect

    url = f"duckdb:///{tmp_path_factory.mktemp('serve') / 'shop.duckdb'}"
    with connect(url) as db:
        db.create_schema()
        db.load(small_frames)
    return url


def test_serve_refuses_without_a_key(served, duck_url):
    result = run("-d", duck_url)
    assert result.exit_code == 1 and not served
    assert "no API key" in result.output and "--no-auth" in result.output
    both = run("-d", duck_url, "--api-key", SECRET, "--no-auth")
    assert both.exit_code == 1 and "not both" in both.output


def test_serve_with_key_runs_uvicorn_with_the_app(served, duck_url, tmp_path):
    result = run(
        "-d", duck_url, "--api-key", SECRET, "--port", "8123", "--models-dir", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "API key required" in result.output and "http://127.0.0.1:8123/docs" in result.output
    (call,) = served
    assert (call["host"], call["port"]) == ("127.0.0.1", 8123)
    with TestClient(call["app"]) as c:
        assert c.get("/v1/models").status_code == 401
        assert c.get("/v1/models", headers={"X-API-Key": SECRET}).status_code == 200
        assert str(tmp_path) in c.get("/v1/forecast", headers={"X-API-Key": SECRET}).text


def test_serve_key_from_env_and_no_auth(served, duck_url):
    result = run("-d", duck_url, SA_API_KEY=ENV_KEY)
    assert result.exit_code == 0 and "warning" not in result.output
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/models", headers={"X-API-Key": ENV_KEY}).status_code == 200
    result = run("-d", duck_url, "--no-auth")
    assert result.exit_code == 0 and "WITHOUT authentication" in result.output
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/models").status_code == 200


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://localhost/shop", "unsupported database URL"),
        ("duckdb://", "no sales-analytics schema"),
    ],
)
def test_serve_fails_fast_on_a_bad_database(served, url, message):
    result = run("-d", url, "--api-key", SECRET)
    assert result.exit_code == 1 and message in result.output and not served


# ---------------------------------------------------------------------------- no-auth, production
@pytest.mark.parametrize("environment", ["development", "production"])
@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "shop.example.com"])
def test_no_auth_off_loopback_is_refused_in_every_environment(served, duck_url, host, environment):
    result = run("-d", duck_url, "--no-auth", "--host", host, ENVIRONMENT=environment)
    assert result.exit_code == 1 and not served
    assert f"refusing to serve without authentication on {host}: anyone who can reach" in (
        result.output
    )
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"])
def test_production_allows_no_auth_on_loopback(served, duck_url, host):
    result = run("-d", duck_url, "--no-auth", "--host", host, ENVIRONMENT="production")
    assert result.exit_code == 0, result.output
    (call,) = served
    assert call["host"] == host and call["log_config"] is None  # uvicorn logs as JSON lines too


def test_production_with_a_key_serves_anywhere(served, duck_url):
    result = run("-d", duck_url, "--host", "0.0.0.0", ENVIRONMENT="production", SA_API_KEY=SECRET)
    assert result.exit_code == 0, result.output
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/models").status_code == 401


# ------------------------------------------------------------------------------ API keys
@pytest.mark.parametrize("how", ["option", "env", "file", "env-file"])
def test_a_short_key_is_refused_with_how_to_make_one(served, duck_url, tmp_path, how):
    short = "x" * 31
    key_file = tmp_path / "key"
    key_file.write_text(short + "\n")
    args, env = {
        "option": (["--api-key", short], {}),
        "env": ([], {"SA_API_KEY": short}),
        "file": (["--api-key-file", str(key_file)], {}),
        "env-file": ([], {"SA_API_KEY_FILE": str(key_file)}),
    }[how]
    result = run("-d", duck_url, *args, **env)
    assert result.exit_code == 1 and not served
    error = result.output.strip().splitlines()[-1]
    assert error.startswith("error: the API key has 31 characters, at least 32 are needed")
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in error
    assert short not in result.output  # the key is never printed


def test_key_on_the_command_line_warns(served, duck_url):
    result = run("-d", duck_url, "--api-key", SECRET)
    assert result.exit_code == 0, result.output
    assert "warning: --api-key shows the key in the process list and the shell history" in (
        result.output
    )


@pytest.mark.parametrize("via", ["option", "env"])
def test_key_from_a_file_is_stripped(served, duck_url, tmp_path, via):
    key_file = tmp_path / "api.key"
    key_file.write_text(f"  {SECRET}\n\n")
    if via == "option":
        result = run("-d", duck_url, "--api-key-file", str(key_file))
    else:
        result = run("-d", duck_url, SA_API_KEY_FILE=str(key_file))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/models", headers={"X-API-Key": SECRET}).status_code == 200
        assert c.get("/v1/models", headers={"X-API-Key": f" {SECRET}"}).status_code == 401


@pytest.mark.parametrize(
    "args, env, message",
    [
        (
            ["--api-key-file", "{missing}"],
            {},
            "cannot read the API key file {missing}: No such file",
        ),
        (
            [],
            {"SA_API_KEY_FILE": "{missing}"},
            "cannot read the API key file {missing}: No such file",
        ),
        (["--api-key-file", "{empty}"], {}, "the API key file {empty} is empty"),
        (
            ["--api-key-file", "{folder}"],
            {},
            "cannot read the API key file {folder}: Is a directory",
        ),
        ([], {"SA_API_KEY_FILE": "{empty}", "SA_API_KEY": SECRET}, "not both"),
        (["--api-key-file", "{empty}", "--api-key", SECRET], {}, "not both"),
        (["--api-key-file", "{empty}", "--no-auth"], {}, "or --no-auth, not both"),
        (["--no-auth"], {"SA_API_KEY_FILE": "{empty}"}, "or --no-auth, not both"),
    ],
)
def test_key_file_problems_are_one_line(served, duck_url, tmp_path, args, env, message):
    paths = {"missing": tmp_path / "nope.key", "empty": tmp_path / "empty.key", "folder": tmp_path}
    paths["empty"].write_text("\n")
    fill = {k: str(v) for k, v in paths.items()}
    result = run("-d", duck_url, *[a.format(**fill) for a in args],
                 **{k: v.format(**fill) for k, v in env.items()})  # fmt: skip
    assert result.exit_code == 1 and not served
    lines = result.output.strip().splitlines()
    assert message.format(**fill) in lines[-1] and lines[-1].startswith("error: ")
    assert "Traceback" not in result.output


# ------------------------------------------------------------------------------------- TLS
def make_certificate(folder: Path, password: str | None = None) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (encrypted with ``password``)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    cmd = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout", str(key), "-out", str(cert),
        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ]  # fmt: skip
    cmd += ["-passout", f"pass:{password}"] if password else ["-noenc"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    return make_certificate(tmp_path_factory.mktemp("tls"))


def test_tls_files_are_passed_to_uvicorn(served, duck_url, certificate, tmp_path):
    cert, key = certificate
    result = run("-d", duck_url, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
                 SA_API_KEY=SECRET)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "serving on https://127.0.0.1:8000" in result.output
    (call,) = served
    assert (call["ssl_certfile"], call["ssl_keyfile"]) == (str(cert), str(key))
    assert "ssl_keyfile_password" not in call


def test_an_encrypted_key_with_its_password_file(served, duck_url, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = make_certificate(tmp_path, password="pa55-word")
    password = tmp_path / "password"
    password.write_text("pa55-word\n")
    base = ["-d", duck_url, "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    result = run(*base, "--ssl-keyfile-password-file", str(wrong), SA_API_KEY=SECRET)
    assert result.exit_code == 1 and not served
    assert f"cannot load the TLS certificate {cert}" in result.output
    result = run(*base, "--ssl-keyfile-password-file", str(password), SA_API_KEY=SECRET)
    assert result.exit_code == 0, result.output
    assert served[-1]["ssl_keyfile_password"] == "pa55-word"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--ssl-certfile", "{missing}"], "--ssl-certfile {missing}: no such file"),
        (["--ssl-certfile", "{cert}", "--ssl-keyfile", "{missing}"],
         "--ssl-keyfile {missing}: no such file"),
        (["--ssl-certfile", "{cert}", "--ssl-keyfile", "{key}",
          "--ssl-keyfile-password-file", "{missing}"],
         "--ssl-keyfile-password-file {missing}: no such file"),
        (["--ssl-keyfile", "{key}"], "need --ssl-certfile"),
        (["--ssl-certfile", "{key}"], "cannot load the TLS certificate {key}"),
    ],
)  # fmt: skip
def test_tls_problems_are_one_line(served, duck_url, certificate, tmp_path, args, message):
    cert, key = certificate
    fill = {"cert": str(cert), "key": str(key), "missing": str(tmp_path / "missing.pem")}
    result = run("-d", duck_url, *[a.format(**fill) for a in args], SA_API_KEY=SECRET)
    assert result.exit_code == 1 and not served
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message.format(**fill) in lines[0], result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serves_https_on_loopback(duck_url, certificate, tmp_path):
    """A real uvicorn in a subprocess, over TLS with the self-signed certificate: /health 200."""
    cert, key = certificate
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SA_API_KEY_FILE", "ENVIRONMENT")}
    env |= {"SA_API_KEY": SECRET, "SA_MODELS_DIR": str(tmp_path / "models")}
    cmd = [
        sys.executable, "-c", "from sales_analytics.cli import app; app()", "serve",
        "-d", duck_url, "--host", "127.0.0.1", "--port", str(port),
        "--ssl-certfile", str(cert), "--ssl-keyfile", str(key),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        response = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = httpx.get(f"https://127.0.0.1:{port}/health", verify=False, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert response is not None, proc.communicate(timeout=10)[0] if proc.poll() else "timeout"
        assert response.status_code == 200 and response.json()["status"] == "ok"
        with pytest.raises(httpx.TransportError):  # plain http is not served
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        models = httpx.get(f"https://127.0.0.1:{port}/v1/models", verify=False, timeout=10,
                           headers={"X-API-Key": SECRET})  # fmt: skip
        assert models.status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# ----------------------------------------------------------------------- report's filters
@pytest.mark.parametrize(
    "args, message",
    [
        (["--country", "Germny"], "unknown country 'Germny': this shop's customers are in "),
        (["--country", "Germany", "--country", "Atlantis"], "unknown country 'Atlantis'"),
        (["--segment", "Champs"], "unknown segment(s) 'Champs': use Champions, "),
    ],
)
def test_report_names_the_valid_filter_values(duck_url, tmp_path, args, message):
    out = tmp_path / "report.html"
    result = runner.invoke(
        app, ["report", "-d", duck_url, "--out", str(out), *args], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 1 and not out.exists()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    if "country" in message:
        from sales_analytics.metrics import compute
        from sales_analytics.storage import connect

        with connect(duck_url) as db:
            known = sorted(compute(db, "penetration")["country"])
        assert ", ".join(known) in lines[0]  # every valid one named


def test_report_with_known_filters_still_writes(duck_url, tmp_path):
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        ["report", "-d", duck_url, "--out", str(out), "--country", "Germany",
         "--segment", "Champions", "--models-dir", str(tmp_path / "none")],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.exists() and "Germany" in out.read_text()
