"""`mediamon articles`: articles by state, e.g. the ones that failed and why."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from mediamon.cli.common import console, load_settings, opened_store, when
from schema.models import ArticleState
from services.failures import FailureGroup, failures_by_reason, list_articles


class ArticlesFormat(StrEnum):
    table = "table"
    json = "json"


def articles(
    state: Annotated[
        ArticleState | None, typer.Option("--state", help="only articles in this state (default: all)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="most rows to show")] = 50,
    fmt: Annotated[ArticlesFormat, typer.Option("--format", help="table or json")] = ArticlesFormat.table,
) -> None:
    """Articles with their state, failure reason and download attempts, most recently changed first.

    With --state failed, the table ends with every failed article counted by reason."""
    settings = load_settings()
    with opened_store(settings) as store:
        rows, total = list_articles(store.sessions, state, limit)
        failed = state is ArticleState.FAILED
        groups = failures_by_reason(store.sessions, include_retrying=False) if failed else []
    if fmt is ArticlesFormat.json:
        document: dict[str, object] = {"total": total, "articles": [row.to_json() for row in rows]}
        if failed:
            document["by_reason"] = [group.to_json() for group in groups]
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    label = f"{state.value} articles" if state else "articles"
    shown = f"the {len(rows)} most recent of {total}" if total > len(rows) else f"{total}"
    table = Table("id", "state", "tries", "last tried", "reason", title=f"{label}: {shown}")
    table.add_column("url", overflow="fold")  # a URL wraps whole, never cut short
    for row in rows:
        table.add_row(
            str(row.id), row.state, str(row.attempts), when(row.last_tried), row.reason or "", row.url
        )
    console.print(table)
    print_failures(groups, f"all {total} failed articles by reason")


def print_failures(groups: list[FailureGroup], title: str) -> None:
    """The failures-by-reason table (`mediamon articles --state failed`, `mediamon run --once`)."""
    if not groups:
        return
    retrying = any(group.retrying for group in groups)
    table = Table("reason", "failed", title=title)
    if retrying:
        table.add_column("to retry")
    table.add_column("examples", overflow="fold")
    for group in groups:
        cells = [group.reason, str(group.failed)]
        if retrying:
            cells.append(str(group.retrying))
        table.add_row(*cells, "\n".join(group.examples))
    console.print(table)
