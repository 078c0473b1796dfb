"""`mediamon export` and `mediamon matches`: stored articles with their matches."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mediamon.cli.common import console, fail, load_knowledge_base, load_settings, opened_store, parse_since
from services import export as exporting


def export(
    since: Annotated[str | None, typer.Option(help="only articles published since this ISO date")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file (default: stdout)")] = None,
    include_failed: Annotated[
        bool,
        typer.Option(
            "--include-failed", help="also the articles that failed, each with its state, reason and attempts"
        ),
    ] = False,
) -> None:
    """Export every stored article with its entities and claim matches."""
    if fmt not in ("jsonl", "csv"):
        raise fail("--format must be jsonl or csv")
    settings = load_settings()
    kb = load_knowledge_base(settings)
    with opened_store(settings) as st, st.sessions() as session:
        records = exporting.article_records(
            session, kb, since=parse_since(since), include_failed=include_failed
        )
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if fmt == "jsonl":
                for record in records:
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                writer = csv.DictWriter(stream, fieldnames=exporting.csv_fields(include_failed))
                writer.writeheader()
                for record in records:
                    writer.writerow(exporting.flatten(record))
        finally:
            if output:
                stream.close()


def matches(
    since: Annotated[str | None, typer.Option(help="only articles published since this ISO date")] = None,
    entity: Annotated[str | None, typer.Option(help="entity id, name or alias")] = None,
    claim: Annotated[str | None, typer.Option(help="claim id")] = None,
) -> None:
    """Stored articles with their matches, as a table."""
    settings = load_settings()
    kb = load_knowledge_base(settings)
    entity_id = exporting.resolve_entity(kb, entity) if entity else None
    if entity and entity_id is None:
        raise fail(f"no entity called {entity!r} in the knowledge base")
    if claim and claim not in {c.id for c in kb.claims}:
        raise fail(f"no claim {claim!r} in the knowledge base")
    table = Table("published (from)", "title", "relevance", "entities", "claims (score)", title="matches")
    with opened_store(settings) as st, st.sessions() as session:
        for record in exporting.article_records(
            session, kb, since=parse_since(since), entity_id=entity_id, claim_id=claim
        ):
            table.add_row(
                f"{(record['published'] or '')[:10]} ({record.get('published_source') or '?'})",
                (record["title"] or record["url"])[:70],
                f"{record['relevance']:.2f}",
                ", ".join(f"{e['name']}×{e['count']}" for e in record["entities"][:6]),
                "\n".join(f"{c['id']} ({c['score']:.2f})" for c in record["claims"]),
            )
    console.print(table)
