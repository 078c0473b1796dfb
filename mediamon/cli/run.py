"""`mediamon run --once`: the embedded one-shot pass, with progress and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.feeds import FeedListError, read_feed_list
from ingest.outcomes import ArticleReport, PollReport, RunSummary
from mediamon.cli.articles import print_failures
from mediamon.cli.common import (
    configured_matcher,
    console,
    errors,
    fail,
    load_knowledge_base,
    load_settings,
    opened_store,
)
from schema import queries
from services.failures import FailureGroup
from services.feeds import feeds_for_run
from services.limits import utc_now
from services.run_once import run_failures, run_once
from services.wiring import write_path


def run(
    once: Annotated[bool, typer.Option("--once", help="one pass over the feeds, then exit")] = False,
    feeds: Annotated[
        Path | None, typer.Option("--feeds", help="poll only these feed URLs (text, one per line, or OPML)")
    ] = None,
) -> None:
    """Poll feeds, fetch and clean new articles, match them, store everything."""
    if not once:
        raise fail(
            "continuous polling runs under Celery: start `mediamon worker` and `mediamon beat` "
            "with MEDIAMON_BROKER_URL set; use `mediamon run --once` for a single pass"
        )
    settings = load_settings()
    matcher = configured_matcher(settings, load_knowledge_base(settings))
    try:
        sources = read_feed_list(feeds) if feeds else None
    except FeedListError as exc:
        raise fail(str(exc)) from exc
    with opened_store(settings) as st:
        chosen = feeds_for_run(st.sessions, sources, settings.feeds_path)
        if chosen.seeded_from_default:
            console.print(f"no feeds yet: loading the default list ({chosen.seeded_from_default} feeds)")
        started = utc_now()
        with write_path(settings, st, matcher) as parts:
            summary = _run_with_progress(
                lambda ids, progress: run_once(parts.poller, parts.articles, ids, progress), chosen.feed_ids
            )
        failures = run_failures(st.sessions, chosen.feed_ids, started)
        with st.sessions() as session:
            behind = queries.count_awaiting_rematch(session, matcher.version)
    _print_summary(summary, failures)
    if behind:  # no Celery worker here to bring them up to date: say so, once per run
        console.print(
            f"{behind} stored article(s) were matched under another matcher version (knowledge base, "
            "calibration or settings): `mediamon rematch` matches them again",
            highlight=False,
        )


def _run_with_progress(run_once: Any, feed_ids: list[int]) -> RunSummary:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=errors, transient=False) as progress:
        feeds_task = progress.add_task("feeds", total=len(feed_ids), status="")
        articles_task = progress.add_task("articles", total=None, status="", start=False)

        def on_progress(kind: str, item: object) -> None:
            if kind == "feed" and isinstance(item, PollReport):
                progress.update(feeds_task, advance=1, status=f"{item.outcome.value}: {item.url[:50]}")
            elif kind == "articles" and isinstance(item, int):
                progress.start_task(articles_task)
                progress.update(articles_task, total=item)
            elif kind == "article" and isinstance(item, ArticleReport):
                progress.update(articles_task, advance=1, status=item.outcome.value)

        result: RunSummary = run_once(feed_ids, progress=on_progress)
        return result


def _print_summary(summary: RunSummary, failures: list[FailureGroup]) -> None:
    table = Table("", "count", title="run summary", show_header=False)
    for label, value in (
        ("feeds polled", summary.feeds_polled),
        ("feeds not modified", summary.feeds_not_modified),
        ("feeds failed", summary.feeds_failed),
        ("articles new", summary.articles_new),
        ("entries left for the next poll", summary.entries_left),
        ("entries skipped (aggregator links)", summary.entries_skipped),
        ("articles stored", summary.articles_done),
        ("articles duplicate", summary.articles_duplicate),
        ("articles failed", summary.articles_failed),
        ("articles to retry", summary.articles_retry),
        ("entity mentions", summary.mentions),
        ("claim matches", summary.claim_matches),
    ):
        table.add_row(label, str(value))
    console.print(table)
    if summary.feed_errors:
        errs = Table("feed", "error", title=f"{len(summary.feed_errors)} feed(s) failed")
        for url, reason in summary.feed_errors:
            errs.add_row(url, reason)
        console.print(errs)
    failed = sum(group.count for group in failures)
    print_failures(failures, f"{failed} article(s) failed or to retry, by reason")
