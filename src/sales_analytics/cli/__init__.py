"""The `sales-analytics` command line (Typer + rich): thin commands over the package.

Every command takes ``--database-url`` (default: ``DATABASE_URL``, else the embedded DuckDB file
``data/sales.duckdb``); settings come from :func:`sales_analytics.config.get_settings`. Errors are
one red line on stderr and exit code 1 (see :mod:`sales_analytics.cli.common`).

=====================  ================================================================
module                 commands
=====================  ================================================================
``cli/data.py``        generate, load, import, build, refresh, info
``cli/analytics.py``   analyze, metrics
``cli/models.py``      train, predict
``cli/serve.py``       dashboard, report, serve
``cli/digest.py``      digest
=====================  ================================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sales_analytics.cli import analytics, data, digest, models, serve
from sales_analytics.cli.common import friendly
from sales_analytics.config import configure_logging

app = typer.Typer(
    name="sales-analytics",
    help="E-commerce analytics: synthetic or imported shop data, metrics, models, dashboard, API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
@friendly
def main(
    log_level: Annotated[
        str | None, typer.Option(help="DEBUG, INFO, WARNING, ERROR [default: LOG_LEVEL]")
    ] = None,
    rfm_rules: Annotated[
        Path | None,
        typer.Option(
            help="YAML file of RFM segment rules (bounds and order; see docs/rules.md) "
            "[default: SA_RFM_RULES, else the built-in rules]"
        ),
    ] = None,
) -> None:
    configure_logging(log_level)
    if rfm_rules is not None:
        from sales_analytics.metrics.rfm_rules import load_rules, use_rules

        use_rules(load_rules(rfm_rules), source=rfm_rules)


for command in (data.generate, data.load):
    app.command()(command)
app.command("import")(data.import_)
for command in (
    data.build,
    data.refresh,
    data.info,
    analytics.analyze,
    analytics.metrics,
    models.train,
    models.predict,
    serve.dashboard,
    serve.report,
    serve.serve,
    digest.digest,
):
    app.command()(command)

__all__ = ["app"]

if __name__ == "__main__":  # pragma: no cover
    app()
