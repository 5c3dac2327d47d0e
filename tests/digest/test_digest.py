"""The digest: its numbers are the catalogue's, it arrives by SMTP, webhook or file, nothing is
sent twice, alert rules fire (and bad rules files are one line), secrets are never printed."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

from sales_analytics import digest, insights, metrics
from sales_analytics.cli import app
from sales_analytics.digest.content import DIGEST_KPIS
from sales_analytics.digest.rules import Rule, RulesError, below_forecast, load_rules
from sales_analytics.insights import outlook
from sales_analytics.metrics import Filters
from sales_analytics.present import format as fmt
from sales_analytics.storage import connect


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(app, ["digest", *args], env={"COLUMNS": "200", **(env or {})})


def expected_lines(url: str, start: date, end: date) -> list[str]:
    """``<label>: <value> (`` for every digest KPI, from metrics.kpis of the same window."""
    with connect(url) as db:
        k = metrics.kpis(db, Filters(start, end))
    kpis = metrics.get("kpis")
    return [f"{kpis.column(key).label}: {fmt.value(k[key], kpis.column(key).unit)} (" for key in DIGEST_KPIS]


def test_digest_numbers_are_the_catalogues(loaded_db, tmp_path):
    d = digest.build(loaded_db, models_dir=tmp_path)
    last = insights.data_bounds(loaded_db)[1]
    assert (d.start, d.end) == outlook.last_full_week(last) and d.start.weekday() == 0 and d.days == 7
    assert d.kpis == metrics.kpis(loaded_db, Filters(d.start, d.end))
    prev = metrics.kpis(loaded_db, d.previous)
    rows = d.comparison.set_index("kpi")
    for key in DIGEST_KPIS:
        assert rows.loc[key, "current"] == pytest.approx(float(d.kpis[key]), nan_ok=True)
        assert rows.loc[key, "previous"] == pytest.approx(float(prev[key]), nan_ok=True)
    assert d.action_lists is None and "not available" in d.action_lists_note
    assert d.value_at_risk.message.startswith("No CLV model is trained")
    assert all(f.impact is not None for f in d.findings)


def test_email_arrives_with_the_right_numbers_and_only_once(digest_shop, smtp_server, state_file, tmp_path):
    sink, port = smtp_server
    env = {"SA_SMTP_HOST": "127.0.0.1", "SA_SMTP_PORT": str(port), "SA_SMTP_SECURITY": "none",
           "SA_SMTP_USER": "owner", "SA_SMTP_PASSWORD": "right-password",
           "SA_DIGEST_TO": "owner@shop.example, cfo@shop.example", "SA_DIGEST_FROM": "bi@shop.example"}  # fmt: skip
    args = ["--channel", "email", "-d", digest_shop, "--state", str(state_file), "--models-dir", str(tmp_path)]
    result = run(*args, env=env)
    assert result.exit_code == 0, result.output
    assert "digest of" in result.output and "sent (email: 2 recipients via 127.0.0.1" in result.output
    assert len(sink.messages) == 1
    envelope = sink.messages[0]
    assert sorted(envelope.rcpt_tos) == ["cfo@shop.example", "owner@shop.example"]
    msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    sent = json.loads(state_file.read_text())["channels"]["email"]
    start, end = date.fromisoformat(sent["start"]), date.fromisoformat(sent["end"])
    for line in expected_lines(digest_shop, start, end):
        assert line in text, line
        assert line.split(": ", 1)[1].rstrip(" (") in html
    with connect(digest_shop) as db:
        revenue = metrics.kpis(db, Filters(start, end))["revenue"]
    assert fmt.money(revenue) in msg["Subject"]
    # the next run sends the days after it (to the last day of data), then nothing more
    rest = run(*args, env=env)
    assert rest.exit_code == 0 and len(sink.messages) == 2
    last = json.loads(state_file.read_text())["channels"]["email"]
    assert date.fromisoformat(last["start"]) == end + timedelta(days=1)
    with connect(digest_shop) as db:
        assert date.fromisoformat(last["end"]) == insights.data_bounds(db)[1]
    again = run(*args, env=env)
    assert again.exit_code == 0 and "nothing new to send" in again.output and len(sink.messages) == 2
    # --since sends the days asked for, even when sent before; a wrong password is one line,
    # exit 1, the password never printed, the state unchanged
    before = state_file.read_text()
    bad = run(*args, "--since", start.isoformat(), env=env | {"SA_SMTP_PASSWORD": "wrong-secret-pw"})
    assert bad.exit_code == 1 and "refused the login of 'owner'" in bad.output
    assert "wrong-secret-pw" not in bad.output and "Traceback" not in bad.output
    assert state_file.read_text() == before and len(sink.messages) == 2


def test_webhook_gets_the_digest(digest_shop, webhook_server, state_file, tmp_path):
    env = {"SA_SLACK_WEBHOOK_URL": webhook_server["url"]}
    args = ["--channel", "slack", "-d", digest_shop, "--state", str(state_file), "--models-dir", str(tmp_path)]
    result = run(*args, env=env)
    assert result.exit_code == 0, result.output
    assert "SECRET-PATH" not in result.output and "http://127.0.0.1" in result.output
    [body] = webhook_server["bodies"]
    sent = json.loads(state_file.read_text())["channels"]["slack"]
    for line in expected_lines(digest_shop, date.fromisoformat(sent["start"]), date.fromisoformat(sent["end"])):
        assert line in body["text"], line
    # the webhook fails: one line without the secret path; nothing recorded
    webhook_server["status"] = 500
    failed = run(*args, "--since", sent["start"], env=env)
    assert failed.exit_code == 1 and "answered HTTP 500" in failed.output
    assert "SECRET-PATH" not in failed.output and "Traceback" not in failed.output
    assert json.loads(state_file.read_text())["channels"]["slack"] == sent


def test_file_channel_json_and_missing_settings(digest_shop, state_file, tmp_path):
    out = tmp_path / "digest.json"
    args = ["-d", digest_shop, "--state", str(state_file), "--models-dir", str(tmp_path)]
    dry = run("--dry-run", *args)  # printed, not sent, not recorded
    assert dry.exit_code == 0 and "KEY FIGURES" in dry.output and "Net revenue: $" in dry.output
    assert not state_file.exists()
    result = run("--channel", "file", "--out", str(out), *args)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    with connect(digest_shop) as db:
        k = metrics.kpis(db, Filters(doc["start"], doc["end"]))
    assert doc["kpis"] == {key: float(k[key]) for key in DIGEST_KPIS}
    for channel, message in (("email", "SA_SMTP_HOST and SA_DIGEST_TO"), ("slack", "SA_SLACK_WEBHOOK_URL"),
                             ("fax", "--channel must be one of email, slack, file")):  # fmt: skip
        bad = run("--channel", channel, *args)
        assert bad.exit_code == 1 and message in bad.output and "Traceback" not in bad.output


# ------------------------------------------------------------------------------------ rules
RULES = """
rules:
  - name: Revenue below the forecast
    when: below_forecast
    level: 80
    days: 2
  - name: Revenue down 10%
    when: kpi_change
    kpi: revenue
    below: -0.10
  - name: Revenue up a lot
    when: kpi_change
    kpi: revenue
    above: 100
"""


def test_rules_fire_on_the_digest(loaded_db, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    rules = load_rules(path)
    d = digest.build(loaded_db, rules=rules, models_dir=tmp_path)
    forecast, drop, rise = d.alerts
    assert forecast.note and "no forecast model is trained" in forecast.text
    change = d.comparison.set_index("kpi").loc["revenue", "change_pct"]
    assert drop.fired == (change < -0.10) and not rise.fired
    assert fmt.pct_change(change) in drop.text


def test_below_forecast_needs_the_days_running():
    days = pd.date_range("2025-12-01", periods=6, freq="D")
    forecast = pd.DataFrame({"ds": days, "yhat": 100.0, "lo_80": 80.0, "hi_80": 120.0})
    rule = Rule("low", "below_forecast", days=2)
    window = (date(2025, 12, 1), date(2025, 12, 6))

    def check(revenue):
        return below_forecast(rule, pd.DataFrame({"period": days, "revenue": revenue}), forecast, *window)

    assert not check([90, 70, 90, 70, 90, 70]).fired  # below on single days only
    alert = check([90, 70, 60, 90, 90, 90])
    assert alert.fired and "2 days running" in alert.text and "Tue 02 Dec: $70.00" in alert.text
    assert check([70, 70, 90, 90, 90, 90]).fired
    later = forecast.assign(ds=forecast["ds"] + pd.Timedelta(days=30))
    outside = below_forecast(rule, pd.DataFrame({"period": days, "revenue": 0.0}), later, *window)
    assert outside.note and not outside.fired and "starts on 31 Dec 2025" in outside.text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML at line 1"),
        ("- a\n- b\n", "expected a mapping with a list under 'rules'"),
        ("rules:\n  - when: kpi_spike\n", "rule 1: 'when' must be one of below_forecast, kpi_change, not 'kpi_spike'"),
        ("rules:\n  - name: x\n    when: below_forecast\n    level: 90\n", "rule 1 ('x'): level must be one of 80, 95, not 90"),
        ("rules:\n  - when: below_forecast\n    days: two\n", "days must be a whole number from 1 to 31, not 'two'"),
        ("rules:\n  - when: kpi_change\n    kpi: revenue\n", "give 'below' (e.g. -0.10 for a 10% drop) or 'above'"),
        ("rules:\n  - when: kpi_change\n    kpi: profit\n    below: -1\n", "kpi must be one of revenue,"),
        ("rules:\n  - when: kpi_change\n    kpi: revenue\n    below: lots\n", "below must be a number such as -0.10, not 'lots'"),
        ("rules:\n  - when: kpi_change\n    kpi: revenue\n    blow: -0.1\n", "unknown key 'blow' for kpi_change"),
    ],
)
def test_bad_rules_file_is_one_clear_line(tmp_path, text, message):
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_cli_bad_since(digest_shop):
    result = run("-d", digest_shop, "--since", "2025-13-01", "--dry-run")
    assert result.exit_code == 1 and "--since must be a date written YYYY-MM-DD, not '2025-13-01'" in result.output


def test_cli_bad_rules_file(digest_shop, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - when: nope\n")
    for rules, message in ((path, "'when' must be one of"), (tmp_path / "missing.yaml", "no such file")):
        result = run("-d", digest_shop, "--rules", str(rules), "--dry-run")
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_action_lists_and_value_at_risk_from_the_saved_models(digest_shop, customer_models):
    """With CLV and churn models saved, the digest gives each action list's size and value at
    stake (the lists `predict --list` and the dashboard give) and the value at risk."""
    from sales_analytics.digest import render
    from sales_analytics.models import ModelStore
    from sales_analytics.models.actions import LISTS, saved_action_lists

    with connect(digest_shop) as db:
        d = digest.build(db, models_dir=customer_models)
        lists = saved_action_lists(ModelStore(customer_models), db)
    assert set(d.action_lists) == set(LISTS) and d.action_lists_note is None
    for name, frame in lists.items():
        n, value = d.action_lists[name]
        assert n == len(frame) and value == pytest.approx(float(frame["value_at_stake"].sum()))
        assert f"{name}: {fmt.value(n, 'count')} customer" in render.text(d)
    assert d.value_at_risk.risk is not None and len(d.value_at_risk.risk) > 0
