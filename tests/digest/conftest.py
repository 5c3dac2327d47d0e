"""Digest fixtures: a small DuckDB shop file, and local SMTP and HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sales_analytics import metrics
from sales_analytics.storage import connect


@pytest.fixture(scope="session")
def digest_shop(tmp_path_factory, small_frames) -> str:
    path = tmp_path_factory.mktemp("digest") / "shop.duckdb"
    with connect(f"duckdb:///{path}") as db:
        db.create_schema()
        metrics.load(db, small_frames)
    return f"duckdb:///{path}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Sink, int]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) accepting login owner / right-password."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"owner" and auth_data.password == b"right-password"
        return AuthResult(success=ok, handled=False)

    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False)  # fmt: skip
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def webhook_server() -> Iterator[dict]:
    """A Slack-compatible incoming webhook on 127.0.0.1: records JSON bodies POSTed to
    /services/T0/B0/SECRET-PATH; answers ``status`` (settable)."""
    state: dict = {"bodies": [], "status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/services/T0/B0/SECRET-PATH" and state["status"] == 200:
                state["bodies"].append(json.loads(body))
            self.send_response(state["status"] if self.path.startswith("/services/") else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/SECRET-PATH"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def state_file(tmp_path) -> Path:
    return tmp_path / "state" / "digest_state.json"


@pytest.fixture(scope="session")
def customer_models(tmp_path_factory, digest_shop) -> Path:
    """Fast CLV and churn models fitted on the digest shop and saved like `train` does."""
    from sales_analytics.models import MODELS, transactions

    folder = tmp_path_factory.mktemp("digest-models")
    with connect(digest_shop) as db:
        tx = transactions(db)
    for name, config in (("clv", {"regressor": False}), ("churn", {"n_estimators": 30})):
        MODELS[name](config).fit(tx).save(folder)
    return folder
