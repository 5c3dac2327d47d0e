"""The weekly digest: KPI deltas, findings, value at risk, unusual days, action lists and
threshold alerts, delivered by e-mail (SMTP), to a Slack-compatible webhook or to a file.

:mod:`.content` computes it from the catalogue, the insights and the saved models; :mod:`.rules`
reads the YAML alert rules and checks them; :mod:`.render` writes text, HTML and the webhook
body; :mod:`.send` delivers it and keeps the state file (what was sent, per channel) so nothing
is sent twice. ``sales-analytics digest`` is the command (docs/digest.md).
"""

from __future__ import annotations

from sales_analytics.digest.content import Digest, NothingNew, build
from sales_analytics.digest.rules import Alert, Rule, RulesError, load_rules
from sales_analytics.digest.send import (
    CHANNELS,
    DeliveryError,
    check_settings,
    last_sent,
    record_sent,
    send_email,
    send_webhook,
    write_file,
)

__all__ = [
    "CHANNELS", "Alert", "DeliveryError", "Digest", "NothingNew", "Rule", "RulesError", "build",
    "check_settings", "last_sent", "load_rules", "record_sent", "send_email", "send_webhook", "write_file",
]  # fmt: skip
