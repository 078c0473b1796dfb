"""`mediamon kb …`: inspect, validate and draft the knowledge base."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mediamon.cli.common import console, errors, fail, load_knowledge_base, load_settings, opened_store
from schema import queries

kb_app = typer.Typer(help="Inspect and validate the knowledge base.", no_args_is_help=True)


@kb_app.command("show")
def kb_show() -> None:
    """The knowledge base as tables: entities with aliases, claims with entities and source."""
    settings = load_settings()
    kb = load_knowledge_base(settings)
    entities = Table(
        "id", "name", "type", "aliases", title=f"entities ({len(kb.entities)}), KB {kb.full_version}"
    )
    for e in kb.entities:
        entities.add_row(e.id, e.name, e.type, ", ".join(e.aliases))
    console.print(entities)
    claims = Table("id", "statement", "entities", "source", title=f"claims ({len(kb.claims)})")
    for c in kb.claims:
        claims.add_row(c.id, c.statement, ", ".join(c.entities), c.source)
    console.print(claims)


@kb_app.command("check")
def kb_check(
    path: Annotated[Path | None, typer.Argument(help="KB file (default: the configured one)")] = None,
) -> None:
    """Validate a knowledge-base file."""
    settings = load_settings()
    kb = load_knowledge_base(settings, path)
    console.print(
        f"[green]ok[/]: {path or settings.kb_path}: {len(kb.entities)} entities, "
        f"{sum(len(e.aliases) for e in kb.entities)} aliases, {len(kb.claims)} claims, "
        f"version {kb.full_version}"
    )


@kb_app.command("build")
def kb_build(
    docs: Annotated[list[Path], typer.Argument(help="plain-text reference documents")],
    output: Annotated[Path, typer.Option("-o", "--output", help="where to write the draft (YAML)")],
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing output file")] = False,
) -> None:
    """Draft a knowledge base (entities and claims) from reference documents, for analysts to review."""
    from collections import Counter

    from kb.drafting import draft_kb
    from kb.yaml_writer import yaml_dump

    if output.exists() and not force:
        raise fail(f"{output} exists: pass --force to overwrite it")
    short_names = [doc.name for doc in docs]
    documents: list[tuple[str, str]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=False) as progress:
        reading = progress.add_task("reading", total=len(docs))
        for doc in docs:
            try:
                text = doc.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise fail(f"cannot read {doc}: {exc}") from exc
            name = doc.name if short_names.count(doc.name) == 1 else str(doc)
            documents.append((name, text))
            progress.update(reading, advance=1)
        drafting = progress.add_task("drafting", total=2 * len(docs))
        kb = draft_kb(documents, progress=lambda _stage, _name: progress.update(drafting, advance=1))
    try:
        output.write_text(yaml_dump(kb), encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc}") from exc
    by_type = Counter(e.type for e in kb.entities)
    entities = Table("type", "entities", title=f"{len(kb.entities)} entities")
    for kind, count in sorted(by_type.items(), key=lambda item: (-item[1], item[0])):
        entities.add_row(kind, str(count))
    console.print(entities)
    claims = Table("source", "claims", title=f"{len(kb.claims)} claims")
    for source in kb.sources:
        claims.add_row(source, str(len(kb.claims_from(source))))
    console.print(claims)
    console.print(
        f"draft written to [bold]{output}[/]. It is a draft: review it (merge or drop entities, "
        f"fix types, reword or drop claims), then run `mediamon kb check {output}`."
    )


@kb_app.command("candidates")
def kb_candidates(
    min_count: Annotated[int, typer.Option("--min-count", min=1, help="least number of articles")] = 2,
    limit: Annotated[int, typer.Option("--limit", min=1, help="most rows to show")] = 50,
    articles: Annotated[
        int | None, typer.Option("--articles", min=1, help="scan only the newest N stored articles")
    ] = None,
    as_yaml: Annotated[
        bool, typer.Option("--yaml", help="print entity entries to paste under `entities:` in a KB file")
    ] = False,
) -> None:
    """Names in stored articles the knowledge base does not know, seen next to entities it does."""
    from kb.unknown_names import unknown_candidates
    from kb.yaml_writer import candidates_yaml

    settings = load_settings()
    kb = load_knowledge_base(settings)
    with opened_store(settings) as st, st.sessions() as session:
        texts = (text for _, text in queries.done_article_texts(session, articles))
        found = unknown_candidates(kb, texts, min_articles=min_count)
    if as_yaml:
        sys.stdout.write(candidates_yaml(found[:limit], kb))
        return
    names = {e.id: e.name for e in kb.entities}
    table = Table(
        "candidate",
        "type",
        "articles",
        "with KB entities",
        "example",
        title=f"{len(found)} candidate(s) in ≥{min_count} article(s), not in KB {kb.full_version}",
    )
    for new in found[:limit]:
        table.add_row(
            new.name,
            new.type,
            str(new.articles),
            ", ".join(f"{names.get(eid, eid)} ({n})" for eid, n in new.cooccurring[:3]),
            new.example if len(new.example) <= 160 else new.example[:157] + "…",
        )
    console.print(table)
