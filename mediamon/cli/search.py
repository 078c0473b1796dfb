"""`mediamon search`: full-text search over the stored articles, each hit with its URL."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from mediamon.cli.common import console, fail, load_knowledge_base, load_settings, opened_store
from reports.periods import PeriodError, parse_period
from schema.queries.search import MAX_LIMIT, SearchError, SearchQuery, parse_query
from services import export as exporting
from services.search import SearchPage
from services.search import search as search_pages

# "All time" for --until alone: a start before any article (only to check the period).
_EPOCH = "1970-01-01"
_MARK = re.compile(r"<mark>(.*?)</mark>")


def search(
    query: Annotated[str, typer.Argument(help='words, "a phrase", OR between alternatives, -word excluded')],
    since: Annotated[str | None, typer.Option(help="30d, 48h, 2w or a date (default: all time)")] = None,
    until: Annotated[str | None, typer.Option(help="a date (that whole day included) or ISO time")] = None,
    source: Annotated[list[str] | None, typer.Option(help="outlet, e.g. dawn.com (repeatable)")] = None,
    entity: Annotated[list[str] | None, typer.Option(help="entity id, name or alias (repeatable)")] = None,
    claim: Annotated[list[str] | None, typer.Option(help="claim id (repeatable)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="hits per page")] = 20,
    after: Annotated[str | None, typer.Option(help="the cursor printed under the previous page")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Search the stored articles' titles and texts, best match first.

    A query that starts with a minus goes after --, e.g. mediamon search -- "-cricket polio".
    """
    if fmt not in ("table", "json"):
        raise fail("--format must be table or json")
    if not parse_query(query).searchable:
        raise fail(f"nothing to search for in {query!r}: give at least one word that is not excluded")
    try:
        start, end = parse_period(since, until, now=datetime.now(UTC), default_since=_EPOCH)
    except PeriodError as exc:
        raise fail(str(exc)) from exc
    settings = load_settings()
    entity_ids: list[str] = []
    if entity or claim:
        kb = load_knowledge_base(settings)
        for name in entity or []:
            entity_id = exporting.resolve_entity(kb, name)
            if entity_id is None:
                raise fail(f"no entity called {name!r} in the knowledge base")
            entity_ids.append(entity_id)
        known = {c.id for c in kb.claims}
        for claim_id in claim or []:
            if claim_id not in known:
                raise fail(f"no claim {claim_id!r} in the knowledge base")
    try:
        request = SearchQuery(
            text=query,
            since=start if since else None,
            until=end if until else None,
            sources=tuple(s.strip().lower().removeprefix("www.") for s in source or []),
            entity_ids=tuple(entity_ids),
            claim_ids=tuple(claim or []),
            limit=limit,
            after=after,
        )
    except SearchError as exc:
        raise fail(str(exc)) from exc
    with opened_store(settings) as st:
        page = search_pages(st.sessions, request)
    if fmt == "json":
        typer.echo(json.dumps(page.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_table(query, page)


def _print_table(query: str, page: SearchPage) -> None:
    if page.note:
        console.print(page.note, markup=False, highlight=False, style="yellow")
    if not page.hits:
        console.print(f"No stored article matches {query!r}.", markup=False, highlight=False)
        return
    table = Table("date", "source", "rank", title=f"search: {query}", show_lines=True)
    table.add_column("article", overflow="fold")  # a long URL wraps whole, never cut short
    for hit in page.hits:
        article = Text()
        article.append(hit.title or "(no title)", style="cyan")
        article.append("\n")
        article.append_text(_bold_hits(hit.snippet))
        article.append("\n")
        article.append(hit.url, style=f"link {hit.url}")
        table.add_row(
            hit.dated_at.strftime("%Y-%m-%d") if hit.dated_at else "",
            hit.source or "",
            f"{hit.rank:.3f}",
            article,
        )
    console.print(table)
    if page.next:
        console.print(f"next page: --after {page.next}", markup=False, highlight=False)


def _bold_hits(snippet: str) -> Text:
    """The snippet as terminal text: HTML entities read back, ``<mark>`` hits in bold."""
    shown = Text()
    for index, part in enumerate(_MARK.split(snippet)):
        shown.append(html.unescape(part), style="bold" if index % 2 else "")
    return shown
