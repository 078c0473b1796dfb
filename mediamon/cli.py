"""The command-line face of mediamon. Every command reads Settings once and calls the same
functions the Celery workers call; nothing here holds business logic."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import delete, select

from ingest.calibration import CalibrationError, load_calibration, save_calibration
from ingest.feeds import FeedListError, FeedSource, parse_opml, read_feed_list, to_opml
from ingest.kb import KBError, KnowledgeBase, load_kb
from ingest.match import Matcher
from ingest.outcomes import ArticleReport, PollReport, RunSummary
from mediamon import export as exporting
from mediamon.evaluation import DEFAULT_DEV_SET, CrossValidation
from mediamon.settings import Settings
from mediamon.wiring import Store, build_matcher, build_semantic, open_store, pipeline
from schema import queries, store
from schema.models import Feed

app = typer.Typer(
    help="Media monitoring for the Afghanistan–Pakistan security theme.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)
feeds_app = typer.Typer(help="Manage the feeds that are polled.", no_args_is_help=True)
kb_app = typer.Typer(help="Inspect and validate the knowledge base.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
app.add_typer(kb_app, name="kb")
app.add_typer(db_app, name="db")

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"MEDIAMON_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise fail(f"bad configuration: {problems}") from exc


def load_knowledge_base(settings: Settings, path: Path | None = None) -> KnowledgeBase:
    try:
        return load_kb(path or settings.kb_path)
    except KBError as exc:
        raise fail(str(exc)) from exc


def configured_matcher(settings: Settings, kb: KnowledgeBase) -> Matcher:
    try:
        return build_matcher(settings, kb)
    except CalibrationError as exc:
        raise fail(str(exc)) from exc


@contextmanager
def opened_store(settings: Settings) -> Iterator[Store]:
    from sqlalchemy.exc import OperationalError

    try:
        opened = open_store(settings)
    except OperationalError as exc:
        raise fail(f"cannot open the database {settings.masked()['database_url']}: {exc.orig}") from exc
    try:
        yield opened
    finally:
        opened.close()


def parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise fail(f"--since wants an ISO date like 2026-11-01, got {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- configuration and schema --------------------------------------------------------------


@app.command("config")
def show_config() -> None:
    """Print the effective settings (secrets masked)."""
    settings = load_settings()
    table = Table("setting", "environment variable", "value", title="mediamon settings")
    for name, value in settings.masked().items():
        table.add_row(name, f"MEDIAMON_{name.upper()}", value)
    console.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest migration."""
    settings = load_settings()
    with opened_store(settings):
        pass
    console.print(f"database at [bold]{settings.masked()['database_url']}[/] is up to date")


# --- feeds ---------------------------------------------------------------------------------


@feeds_app.command("add")
def feeds_add(urls: Annotated[list[str], typer.Argument(help="feed URLs")]) -> None:
    """Add feeds by URL."""
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        raise fail(f"not http(s) URLs: {', '.join(bad)}")
    settings = load_settings()
    with opened_store(settings) as st, st.sessions.begin() as session:
        added = store.add_feeds(session, [FeedSource(u) for u in urls])
    console.print(f"{added} feed(s) added, {len(urls) - added} already known")


@feeds_app.command("list")
def feeds_list() -> None:
    """List feeds with their state and last result."""
    settings = load_settings()
    with opened_store(settings) as st, st.sessions() as session:
        rows = session.scalars(select(Feed).order_by(Feed.id)).all()
    table = Table("id", "url", "state", "last polled", "next poll", "failures", "last error", title="feeds")
    for feed in rows:
        table.add_row(
            str(feed.id),
            feed.url,
            feed.state.value,
            _when(feed.last_polled_at),
            _when(feed.next_poll_at),
            f"{feed.failure_score:g}",
            (feed.last_error or "")[:60],
        )
    console.print(table)


@feeds_app.command("remove")
def feeds_remove(items: Annotated[list[str], typer.Argument(help="feed ids or URLs")]) -> None:
    """Remove feeds (their articles are kept)."""
    settings = load_settings()
    ids = [int(i) for i in items if i.isdigit()]
    urls = [i for i in items if not i.isdigit()]
    with opened_store(settings) as st, st.sessions.begin() as session:
        result = session.execute(delete(Feed).where((Feed.id.in_(ids)) | (Feed.url.in_(urls))))
    removed = getattr(result, "rowcount", 0)
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
    with opened_store(settings) as st, st.sessions.begin() as session:
        added = store.add_feeds(session, sources)
    console.print(f"{len(sources)} feed(s) in {path}, {added} new")


@feeds_app.command("export-opml")
def feeds_export(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file (default: stdout)")] = None,
) -> None:
    """Write the feed list as OPML."""
    settings = load_settings()
    with opened_store(settings) as st, st.sessions() as session:
        sources = [FeedSource(f.url, f.title) for f in session.scalars(select(Feed).order_by(Feed.id))]
    data = to_opml(sources)
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.write(data.decode("utf-8") + "\n")


# --- the main job --------------------------------------------------------------------------


@app.command("run")
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
        with st.sessions.begin() as session:
            if sources is None and not queries.active_feeds(session):
                sources = read_feed_list(settings.feeds_path)
                console.print(f"no feeds yet: loading the default list ({len(sources)} feeds)")
            if sources is not None:
                store.add_feeds(session, sources)
                feed_ids = [f.id for f in queries.feeds_by_url(session, [s.url for s in sources])]
            else:
                feed_ids = [f.id for f in queries.active_feeds(session)]
        with pipeline(settings, st, matcher) as pipe:
            summary = _run_with_progress(pipe.run_once, feed_ids)
    _print_summary(summary)


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
                progress.update(articles_task, advance=1, status=item.outcome)

        result: RunSummary = run_once(feed_ids, progress=on_progress)
        return result


def _print_summary(summary: RunSummary) -> None:
    table = Table("", "count", title="run summary", show_header=False)
    for label, value in (
        ("feeds polled", summary.feeds_polled),
        ("feeds not modified", summary.feeds_not_modified),
        ("feeds failed", summary.feeds_failed),
        ("articles new", summary.articles_new),
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


# --- the service (Celery) -------------------------------------------------------------------

PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


@app.command("worker", context_settings=PASSTHROUGH)
def worker(ctx: typer.Context) -> None:
    """Run a Celery worker on every mediamon queue; extra options go to `celery worker`."""
    from workers.app import QUEUES
    from workers.app import app as celery_app

    args = list(ctx.args)
    if not any(a in ("-Q", "--queues") or a.startswith("--queues=") for a in args):
        args = ["--queues", ",".join(QUEUES), *args]
    celery_app.worker_main(["worker", "--loglevel", "INFO", *args])


@app.command("beat", context_settings=PASSTHROUGH)
def beat(ctx: typer.Context) -> None:
    """Run Celery beat (the dispatcher and the sweeper); extra options go to `celery beat`."""
    from workers.app import app as celery_app

    celery_app.start(["beat", "--loglevel", "INFO", *ctx.args])


@app.command("status")
def status() -> None:
    """Queue depths, feeds due / failing / dead, and articles by state."""
    import redis

    from workers.app import DEFAULT_BROKER_URL, QUEUES
    from workers.broker import QUARANTINE
    from workers.metrics import queue_depths

    settings = load_settings()
    table = Table("what", "count", title="mediamon status")
    broker = settings.broker_url or DEFAULT_BROKER_URL
    try:
        client = redis.Redis.from_url(broker, socket_connect_timeout=3)
        for queue, depth in queue_depths(client, QUEUES).items():
            table.add_row(f"queue {queue}", str(depth))
        table.add_row("quarantined messages", str(client.llen(QUARANTINE)))  # unreadable, set aside
        client.close()
    except redis.RedisError as exc:
        table.add_row("queues", f"broker unreachable: {exc}")
    with opened_store(settings) as st, st.sessions() as session:
        for name, value in queries.feed_counts(session, datetime.now(UTC)).items():
            table.add_row(f"feeds {name}", str(value))
        for name, value in sorted(queries.article_counts_by_state(session).items()):
            table.add_row(f"articles {name}", str(value))
    console.print(table)


@app.command("metrics")
def metrics(
    port: Annotated[int, typer.Option(help="port to serve /metrics on")] = 9464,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
) -> None:
    """Serve Prometheus metrics (polls, articles, matches, failures, latency, queue depths)."""
    import redis
    from prometheus_client import start_http_server
    from prometheus_client.registry import CollectorRegistry

    from workers.app import DEFAULT_BROKER_URL, QUEUES
    from workers.metrics import ServiceCollector

    settings = load_settings()
    with opened_store(settings) as st:
        registry = CollectorRegistry()
        broker = redis.Redis.from_url(settings.broker_url or DEFAULT_BROKER_URL, socket_connect_timeout=3)
        registry.register(ServiceCollector(st.sessions, broker, QUEUES))
        server, thread = start_http_server(port, addr=host, registry=registry)
        console.print(f"serving metrics on http://{host}:{server.server_port}/metrics")
        try:
            thread.join()
        except KeyboardInterrupt:
            server.shutdown()


# --- matching, inspection and export -------------------------------------------------------


@app.command("match")
def match(
    source: Annotated[str, typer.Argument(help="a text file, or - for standard input")] = "-",
    jsonl: Annotated[
        Path | None, typer.Option("--jsonl", help='match every {"text": ...} line of this file')
    ] = None,
) -> None:
    """Print the entity and claim matches of plain text as JSON; stores nothing.

    With --jsonl, one result per input line (the model is loaded once)."""
    settings = load_settings()
    kb = load_knowledge_base(settings)
    matcher = configured_matcher(settings, kb)
    if jsonl is not None:
        _match_jsonl(matcher, jsonl)
        return
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {source}: {exc}") from exc
    result = matcher.match(text)
    sys.stdout.write(json.dumps(exporting.match_json(kb, result), ensure_ascii=False, indent=2) + "\n")


def _match_jsonl(matcher: Matcher, path: Path) -> None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["text"]
            if not isinstance(text, str):
                raise TypeError("text is not a string")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise fail(f'{path}:{number}: want a JSON object with a "text" string ({exc})') from exc
        document = exporting.match_json(matcher.kb, matcher.match(text))
        if "id" in record:
            document = {"id": record["id"], **document}
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")


@app.command("eval")
def evaluate(
    data: Annotated[Path, typer.Option(help="labelled sentences (JSONL)")] = DEFAULT_DEV_SET,
    split: Annotated[str, typer.Option(help="dev, test or all")] = "test",
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="fit thresholds on the dev split and save them")
    ] = False,
    folds: Annotated[
        int, typer.Option(min=0, help="also cross-validate over all sentences with this many folds (0: no)")
    ] = 0,
) -> None:
    """Precision, recall and F1 of claim matching (lexical and semantic), stance accuracy,
    entity matching, and throughput, on the labelled dev set. With --folds, also k-fold
    cross-validation: every sentence scored by parameters fitted without it."""
    from mediamon import evaluation

    if folds == 1:
        raise fail("--folds needs at least 2 folds (0 turns cross-validation off)")
    settings = load_settings()
    kb = load_knowledge_base(settings)
    try:
        items = evaluation.load_dev_set(data)
    except (OSError, ValueError, KeyError) as exc:
        raise fail(f"cannot read the labelled set {data}: {exc}") from exc
    calibration = load_calibration(settings.calibration_path)
    semantic = build_semantic(settings, kb, calibration)
    if calibrate:
        try:
            calibration = evaluation.calibrated(kb, semantic, items)
        except ValueError as exc:
            raise fail(f"cannot calibrate on the dev split of {data}: {exc}") from exc
        save_calibration(calibration, settings.calibration_path)
        console.print(f"calibrated on the dev split, saved to {settings.calibration_path}: {calibration}")
        semantic.blend, semantic.lexical_threshold = calibration.blend, calibration.threshold("lexical")
    chosen = items if split == "all" else [i for i in items if i.split == split]
    lexical_matcher = Matcher(kb, threshold=calibration.threshold("lexical"))
    semantic_matcher = Matcher(kb, semantic, threshold=calibration.threshold("semantic"))
    reports = [
        evaluation.evaluate_claims(lexical_matcher, chosen),
        evaluation.evaluate_claims(semantic_matcher, chosen),
    ]
    table = Table(
        "method",
        "threshold",
        "precision",
        "recall",
        "F1",
        "stance acc.",
        "sentences/s",
        title=f"claim matching on {len(chosen)} {split} sentences",
    )
    for report in reports:
        table.add_row(
            report.method,
            f"{report.threshold:.2f}",
            f"{report.scores.precision:.3f}",
            f"{report.scores.recall:.3f}",
            f"{report.scores.f1:.3f}",
            f"{report.stance_accuracy:.3f}",
            f"{report.sentences_per_s:.0f}",
        )
    console.print(table)
    kinds = Table("kind", *(f"{r.method} recall / precision" for r in reports), title="by kind of sentence")
    for kind in sorted(reports[0].per_kind):
        kinds.add_row(
            kind,
            *(f"{r.per_kind[kind].recall:.2f} / {r.per_kind[kind].precision:.2f}" for r in reports),
        )
    console.print(kinds)
    claims = Table("claim", *(f"{r.method} recall" for r in reports), title="recall per claim")
    for claim in kb.claims:
        claims.add_row(
            claim.id,
            *(f"{r.per_claim[claim.id].recall:.2f}" if claim.id in r.per_claim else "-" for r in reports),
        )
    console.print(claims)
    articles = evaluation.compose_articles(chosen)
    console.print(
        f"claims per article ({len(articles)} texts of ~800 words built from these sentences): "
        + "; ".join(
            f"{name} P {a.precision:.3f} R {a.recall:.3f} F1 {a.f1:.3f}"
            for name, a in (
                ("lexical", evaluation.evaluate_articles(lexical_matcher, articles)),
                ("semantic", evaluation.evaluate_articles(semantic_matcher, articles)),
            )
        )
    )
    entity_scores = evaluation.evaluate_entities(Matcher(kb).entities, chosen)
    console.print(
        f"entity mentions: precision {entity_scores.precision:.3f} recall {entity_scores.recall:.3f} "
        f"F1 {entity_scores.f1:.3f} (tp {entity_scores.tp}, fp {entity_scores.fp}, fn {entity_scores.fn})"
    )
    if evaluation.DEFAULT_PAGES.is_dir():
        pages = evaluation.evaluate_pages(semantic_matcher)
        console.print(
            f"corpus pages ({pages.pages}, whole pages as the pipeline cleans them): entities per page "
            f"P {pages.entities.precision:.3f} R {pages.entities.recall:.3f} F1 {pages.entities.f1:.3f}; "
            f"claims found where none is labelled: {len(pages.wrong_claims)} {pages.wrong_claims or ''}"
        )
    if folds:
        try:
            _print_cross_validation(evaluation.cross_validate(kb, semantic, items, folds))
        except ValueError as exc:
            raise fail(f"cannot cross-validate on {data}: {exc}") from exc


def _print_cross_validation(result: CrossValidation) -> None:
    table = Table(
        "method",
        "precision",
        "recall",
        "F1",
        "F1 per fold",
        title=f"{result.folds}-fold cross-validation over all {result.sentences} sentences",
    )
    for column, (name, scores) in enumerate((("lexical", result.lexical), ("semantic", result.semantic))):
        table.add_row(
            name,
            f"{scores.precision:.3f}",
            f"{scores.recall:.3f}",
            f"{scores.f1:.3f}",
            " ".join(f"{fold[column]:.2f}" for fold in result.per_fold),
        )
    console.print(table)


@app.command("export")
def export(
    since: Annotated[str | None, typer.Option(help="only articles published since this ISO date")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="file (default: stdout)")] = None,
) -> None:
    """Export every stored article with its entities and claim matches."""
    if fmt not in ("jsonl", "csv"):
        raise fail("--format must be jsonl or csv")
    settings = load_settings()
    kb = load_knowledge_base(settings)
    with opened_store(settings) as st, st.sessions() as session:
        records = exporting.article_records(session, kb, since=parse_since(since))
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            if fmt == "jsonl":
                for record in records:
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                writer = csv.DictWriter(stream, fieldnames=exporting.CSV_FIELDS)
                writer.writeheader()
                for record in records:
                    writer.writerow(exporting.flatten(record))
        finally:
            if output:
                stream.close()


@app.command("matches")
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
    table = Table("published", "title", "relevance", "entities", "claims (score)", title="matches")
    with opened_store(settings) as st, st.sessions() as session:
        for record in exporting.article_records(
            session, kb, since=parse_since(since), entity_id=entity_id, claim_id=claim
        ):
            table.add_row(
                (record["published"] or "")[:10],
                (record["title"] or record["url"])[:70],
                f"{record['relevance']:.2f}",
                ", ".join(f"{e['name']}×{e['count']}" for e in record["entities"][:6]),
                "\n".join(f"{c['id']} ({c['score']:.2f})" for c in record["claims"]),
            )
    console.print(table)


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

    from ingest.kb_build import draft_kb, yaml_dump

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
    from ingest.kb_build import candidates_yaml, unknown_candidates

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


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


if __name__ == "__main__":
    app()
