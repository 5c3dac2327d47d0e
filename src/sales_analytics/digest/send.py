"""Delivery: SMTP e-mail, a Slack-compatible webhook, or a file; and the state file that keeps
a digest from being sent twice.

Settings come from :class:`sales_analytics.config.Settings` (``SA_SMTP_*``, ``SA_DIGEST_TO``,
``SA_SLACK_WEBHOOK_URL``, ``SA_DIGEST_STATE``). Errors are :class:`DeliveryError` with one line
that never contains the SMTP password or the webhook's secret path.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import tempfile
import urllib.error
import urllib.request
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from sales_analytics.config import Settings
from sales_analytics.digest import render
from sales_analytics.digest.content import Digest

CHANNELS: tuple[str, ...] = ("email", "slack", "file")
TIMEOUT = 30.0


class DeliveryError(RuntimeError):
    """The digest could not be delivered (one line, no secret)."""


def redact_webhook(url: str) -> str:
    """``https://hooks.slack.com/…``: the path of an incoming webhook is its secret."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/…"


def check_settings(channel: str, s: Settings) -> None:
    """:class:`DeliveryError` when ``channel`` lacks a setting it needs (checked before any work)."""
    if channel == "email" and (not s.smtp_host or not s.digest_recipients):
        raise DeliveryError("e-mail needs SA_SMTP_HOST and SA_DIGEST_TO (comma-separated addresses)")
    if channel == "slack":
        if s.slack_webhook_url is None:
            raise DeliveryError("Slack needs SA_SLACK_WEBHOOK_URL (an incoming-webhook URL)")
        url = s.slack_webhook_url.get_secret_value()
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise DeliveryError(f"SA_SLACK_WEBHOOK_URL must be an http(s) URL, not {redact_webhook(url)}")


def send_email(d: Digest, s: Settings) -> str:
    """Send the digest by SMTP; returns where it went."""
    check_settings("email", s)
    to = s.digest_recipients
    msg = EmailMessage()
    msg["Subject"] = render.subject(d)
    msg["From"] = s.digest_from
    msg["To"] = ", ".join(to)
    msg.set_content(render.text(d))
    msg.add_alternative(render.to_html(d), subtype="html")
    where = f"{s.smtp_host}:{s.smtp_port}"
    try:
        if s.smtp_security == "ssl":
            server = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=TIMEOUT)
        with server:
            if s.smtp_security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                server.login(s.smtp_user, password)
            server.send_message(msg)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"SMTP server {where} refused the login of {s.smtp_user!r} ({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(f"SMTP server {where} does not offer STARTTLS: set SA_SMTP_SECURITY") from None
    except (smtplib.SMTPException, OSError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        secret = s.smtp_password.get_secret_value() if s.smtp_password else ""
        if secret:
            detail = detail.replace(secret, "***")
        raise DeliveryError(f"cannot send the digest through SMTP server {where}: {detail}") from None
    return f"{len(to)} recipient{'s' if len(to) != 1 else ''} via {where}"


def send_webhook(d: Digest, s: Settings) -> str:
    """POST the digest to the Slack-compatible incoming webhook; returns where it went."""
    check_settings("slack", s)
    url = s.slack_webhook_url.get_secret_value()
    shown = redact_webhook(url)
    req = urllib.request.Request(
        url, data=render.slack_payload(d), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - http(s) checked above
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"the webhook {shown} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"cannot reach the webhook {shown}: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"the webhook {shown} answered HTTP {status}")
    return shown


def write_file(d: Digest, out: Path) -> str:
    """Write the digest to ``out``: HTML for ``.html``, JSON for ``.json``, text otherwise."""
    suffix = out.suffix.lower()
    body = render.to_html(d) if suffix in (".html", ".htm") else render.as_json(d) if suffix == ".json" else render.text(d)
    atomic_write(out, body)
    return str(out)


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ------------------------------------------------------------------------------------ state
def last_sent(state: Path, channel: str) -> date | None:
    """The last day covered by a digest sent on ``channel`` (``None``: never)."""
    try:
        doc = json.loads(state.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"digest state {state} cannot be read ({exc}): fix or delete it") from None
    entry = doc.get("channels", {}).get(channel) if isinstance(doc, dict) else None
    try:
        return date.fromisoformat(entry["end"]) if entry else None
    except (KeyError, TypeError, ValueError):
        raise DeliveryError(f"digest state {state}: bad entry for {channel}: fix or delete it") from None


def record_sent(state: Path, channel: str, d: Digest) -> None:
    """Remember that the digest of ``d.start`` .. ``d.end`` went out on ``channel``."""
    try:
        doc = json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    doc = doc if isinstance(doc, dict) else {}
    doc.setdefault("channels", {})[channel] = {
        "start": d.start.isoformat(), "end": d.end.isoformat(),
        "sent_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    atomic_write(state, json.dumps(doc, indent=2) + "\n")
