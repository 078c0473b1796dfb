"""`mediamon feeds …`: the feeds that are polled."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ingest.feeds import FeedListError, FeedSource, parse_opml, to_opml
from mediamon.cli.common import console, fail, load_settings, opened_store, when
from services import feeds as feed_list

feeds_app = typer.Typer(help="Manage the feeds that are polled.", no_args_is_help=True)


@feeds_app.command("add")
def feeds_add(urls: Annotated[list[str], typer.Argument(help="feed URLs")]) -> None:
    """Add feeds by URL."""
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        raise fail(f"not http(s) URLs: {', '.join(bad)}")
    settings = load_settings()
    with opened_store(settings) as st:
        added = feed_list.add_feeds(st.sessions, [FeedSource(u) for u in urls])
    console.print(f"{added} feed(s) added, {len(urls) - added} already known")


@feeds_app.command("list")
def feeds_list() -> None:
    """List feeds with their state and last result."""
    settings = load_settings()
    with opened_store(settings) as st:
        rows = feed_list.list_feeds(st.sessions)
    table = Table("id", "url", "state", "last polled", "next poll", "failures", "last error", title="feeds")
    for feed in rows:
        table.add_row(
            str(feed.id),
            feed.url,
            feed.state.value,
            when(feed.last_polled_at),
            when(feed.next_poll_at),
            f"{feed.failure_score:g}",
            (feed.last_error or "")[:60],
        )
    console.print(table)


@feeds_app.command("remove")
def feeds_remove(items: Annotated[list[str], typer.Argument(help="feed ids or URLs")]) -> None:
    """Remove feeds (their articles are kept)."""
    settings = load_settings()
    with opened_store(settings) as st:
        removed = feed_list.remove_feeds(st.sessions, items)
    console.print(f"{removed} feed(s) removed")
    if removed < len(items):
        raise fail(f"{len(items) - removed} of the given feeds were not found", code=1)


@feeds_app.command("import-opml")
def feeds_import(path: Path) -> None:
    """Add every feed of an OPML file."""
    settings = load_settings()
    try:
        sources = parse_opml(path.read_bytes(), str(path))
    except (OSError, FeedListError) as exc:
        raise fail(str(exc)) from exc
    with opened_store(settings) as st:
        added = feed_list.add_feeds(st.sessions, sources)
    console.print(f"{len(sources)} feed(s) in {path}, {added} new")


@feeds_app.command("export-opml")
def feeds_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file (default: stdout)")] = None,
) -> None:
    """Write the feed list as OPML."""
    settings = load_settings()
    with opened_store(settings) as st:
        sources = feed_list.feed_sources(st.sessions)
    data = to_opml(sources)
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.write(data.decode("utf-8") + "\n")
