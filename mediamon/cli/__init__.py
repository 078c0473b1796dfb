"""The command-line face of mediamon: one module per command group, assembled here.

Every command reads Settings once and calls the same service functions the Celery workers
call; nothing here holds business logic.

    setup.py     config, db upgrade
    feeds.py     feeds add | list | remove | import-opml | export-opml
    run.py       run --once (the embedded one-shot pass)
    service.py   worker, beat, status, metrics (the Celery service)
    matching.py  match, eval
    stored.py    export, matches
    rematch.py   rematch (stored articles matched again by today's matcher)
    articles.py  articles (by state: the failed ones with their reasons)
    kb.py        kb show | check | build | candidates
    subscriptions.py  subscriptions add | list | remove
    delivery.py  digest run | preview, alerts run, deliveries
    web.py       serve (the web app: unsubscribe, later the API and dashboard)
    search.py    search (full-text search over the stored articles)
    reports.py   report trends | top | claim (spikes: report_spikes.py)
"""

from __future__ import annotations

import typer

from mediamon.cli import articles, delivery, matching, rematch, run, search, service, setup, stored, web
from mediamon.cli.common import refresh_consoles
from mediamon.cli.feeds import feeds_app
from mediamon.cli.kb import kb_app
from mediamon.cli.reports import report_app
from mediamon.cli.subscriptions import subscriptions_app

app = typer.Typer(
    help="Media monitoring for the Afghanistan–Pakistan security theme.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


@app.callback()
def _before_every_command() -> None:
    """Runs before every command (the app's help stays the one given above)."""
    refresh_consoles()  # each command sees its own streams and terminal, in-process too


app.add_typer(feeds_app, name="feeds")
app.add_typer(kb_app, name="kb")
app.add_typer(setup.db_app, name="db")
app.add_typer(subscriptions_app, name="subscriptions")
app.add_typer(delivery.digest_app, name="digest")
app.add_typer(delivery.alerts_app, name="alerts")
app.add_typer(report_app, name="report")

app.command("config")(setup.show_config)
app.command("run")(run.run)
app.command("worker", context_settings=service.PASSTHROUGH)(service.worker)
app.command("beat", context_settings=service.PASSTHROUGH)(service.beat)
app.command("status")(service.status)
app.command("metrics")(service.metrics)
app.command("match")(matching.match)
app.command("eval")(matching.evaluate)
app.command("export")(stored.export)
app.command("matches")(stored.matches)
app.command("rematch")(rematch.rematch_stored)
app.command("articles")(articles.articles)
app.command("deliveries")(delivery.deliveries)
app.command("serve")(web.serve)
app.command("search")(search.search)
