"""``digest``: the weekly digest by e-mail, to a Slack-compatible webhook, or to a file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from sales_analytics.cli.common import (
    DbUrl,
    ModelsDir,
    console,
    fail,
    friendly,
    open_db,
    require_schema,
    resolve_models_dir,
    settings,
)


@friendly
def digest(
    channel: Annotated[
        str, typer.Option(help="email (SMTP: SA_SMTP_*, SA_DIGEST_TO), slack (SA_SLACK_WEBHOOK_URL) or file")
    ] = "file",
    out: Annotated[
        Path | None, typer.Option(help="--channel file: where to write (.txt, .html or .json)")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="First day to report (YYYY-MM-DD) [default: the day after the last digest "
                     "sent on this channel; the first time, the last full week]"),
    ] = None,
    rules: Annotated[Path | None, typer.Option(help="YAML file of alert rules (docs/digest.md)")] = None,
    state: Annotated[
        Path | None, typer.Option(help="State file of what was sent [default: SA_DIGEST_STATE]")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the digest; send nothing, record nothing")
    ] = False,
    dashboard_url: Annotated[
        str | None, typer.Option(help="Dashboard the digest links to [default: SA_DASHBOARD_URL]")
    ] = None,
    database_url: DbUrl = None,
    models_dir: ModelsDir = None,
) -> None:
    """Send the digest of the days not reported yet: KPI changes, findings, value at risk,
    unusual days, action lists and alerts. Nothing is sent twice (the state file)."""
    from sales_analytics import digest as dg

    if channel not in dg.CHANNELS:
        fail(f"--channel must be one of {', '.join(dg.CHANNELS)}, not {channel!r}")
    s = settings()
    try:
        dg.check_settings(channel, s)
    except dg.DeliveryError as exc:
        fail(str(exc))
    state_file = state or s.digest_state
    checked = dg.load_rules(rules) if rules is not None else []  # a bad file: one line, before any work
    try:
        first = date.fromisoformat(since) if since else None
    except ValueError:
        fail(f"--since must be a date written YYYY-MM-DD, not {since!r}")
    if first is None and not dry_run:
        last = dg.last_sent(state_file, channel)
        first = last + timedelta(days=1) if last else None
    with open_db(database_url) as db:
        require_schema(db)
        try:
            d = dg.build(db, since=first, rules=checked, models_dir=resolve_models_dir(models_dir),
                         dashboard_url=dashboard_url)  # fmt: skip
        except dg.NothingNew as exc:
            console.print(f"nothing new to send: {exc}")
            return
    if dry_run:
        from sales_analytics.digest import render

        console.print(render.text(d), markup=False, highlight=False, soft_wrap=True)
        return
    try:
        if channel == "email":
            where = dg.send_email(d, s)
        elif channel == "slack":
            where = dg.send_webhook(d, s)
        else:
            where = dg.write_file(d, out or Path("out") / f"digest-{d.end:%Y-%m-%d}.txt")
    except dg.DeliveryError as exc:
        fail(str(exc))
    dg.record_sent(state_file, channel, d)
    alerts = f"; {len(d.fired)} alert{'s' if len(d.fired) != 1 else ''} fired" if d.fired else ""
    console.print(f"digest of {d.start:%d %b} – {d.end:%d %b %Y} sent ({channel}: {where}){alerts}",
                  markup=False, highlight=False)  # fmt: skip
