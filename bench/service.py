"""Service benchmark: real ``mediamon worker`` and ``mediamon beat`` processes on the machine's
PostgreSQL and Redis, polling feeds of unique articles served by local HTTP servers on loopback.

Prints, for 1 and then 2 worker processes (``--workers``):
* end-to-end throughput, articles per second from the first feed poll to the last stored
  article (``min(fetch_log.started_at - duration)`` to ``max(article.processed_at)``), and the
  wall time from starting the processes until the database showed every article processed,
* how the articles ended (done / duplicate / failed),
* memory per worker right after processing: VmRSS of the worker's main process and of its
  pool processes (from ``/proc``), plus the proportional share (Pss) of the whole tree, since
  forked pool processes share pages with their parent and summing RSS counts those twice.

The pages are spread over ``--hosts`` loopback host names (127.0.0.1, 127.0.0.2, …, one local
HTTP server each; 20 by default), and consecutive entries of each feed point at different
hosts, like an aggregator's feed. The service's per-host politeness (a minimum delay between
request starts to one host, shared by all workers through Redis, default 0.25 s) would
otherwise cap everything at 4 requests per second, whatever the number of workers: that
measures the politeness setting rather than the service. ``--hosts 1`` shows that case.

Every article is unique: ``/a/<i>.html`` is corpus page ``i % pages`` with a paragraph naming
``i`` injected where trafilatura keeps it (the position is verified once per page at start-up;
pages where no position survives extraction are left out of the rotation), so the content
fingerprint never short-circuits matching. Every fifth article also gets a paragraph on the
knowledge base's theme (Taliban, ISI, TTP), so the matcher does real work.

Each worker count gets a fresh ``mediamon_bench`` database (``alembic upgrade head``) and an
emptied Redis database; the workers, beat and the HTTP server all share this machine's cores
with PostgreSQL and Redis, so the figures are a floor for the service, not its ceiling.

Run: ``.venv/bin/python -m bench.service [--articles N] [--workers 1,2] [--concurrency 1]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import redis
from sqlalchemy import Engine, func, insert, select

from config.settings import Settings
from ingest.clean import CleanArticle, clean_html
from schema.db import make_engine, upgrade_database
from schema.models import Article, ArticleState, Feed, FetchLog
from tests.support.corpus_site import (
    FEED_EPOCH,
    PAGES_DIR,
    CorpusSite,
    FeedItem,
    Request,
    Response,
    build_rss,
    load_manifest,
)

PG_ADMIN_DSN = os.environ.get("MEDIAMON_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_DATABASE = "mediamon_bench"
#: Redis database 8, which no test uses: the service tests take 10-15 (one per xdist worker),
#: tests/workers 9 (they push non-Celery items onto lists there), and 0 is everyone's default.
BROKER_URL = "redis://127.0.0.1:6379/8"
FEEDS = 20
THEME_EVERY = 5
POLL_S = 0.5
PROGRESS_EVERY_S = 5.0

DISPATCH = (
    "Dispatch number {i}: correspondents filed this report from the regional desk, noting that "
    "local officials, traders and residents described conditions in detail, and that the editors "
    "checked every figure in edition {i} before it went to print."
)
THEME = (
    "Analysts said Pakistan's sustained backing of the Taliban through the ISI, its Inter-Services "
    "Intelligence, was a central reason the Afghan intervention failed, while the TTP, the "
    "Pakistani Taliban, stepped up attacks across the Durand Line after the fall of Kabul."
)
_PARAGRAPH = re.compile(rb"<p[\s>].*?</p>", re.IGNORECASE | re.DOTALL)


# --------------------------------------------------------------------------- the articles


@dataclass(frozen=True)
class Template:
    """A corpus page and where an injected paragraph survives extraction."""

    file: str
    html: bytes
    offset: int
    wrap: bool  # inject a <p> element (after a paragraph) or plain text (inside one)

    def render(self, i: int) -> bytes:
        text = " " + DISPATCH.format(i=i) + (" " + THEME if i % THEME_EVERY == 0 else "") + " "
        piece = f"<p>{text}</p>" if self.wrap else text
        return self.html[: self.offset] + piece.encode("utf-8") + self.html[self.offset :]


def _candidate_offsets(html: bytes, snippets: list[str]) -> list[tuple[int, bool]]:
    """Right after a gold snippet (its last occurrence, inside the main text), then after the
    three longest paragraphs."""
    offsets: list[tuple[int, bool]] = []
    for snippet in snippets:
        raw = snippet.encode("utf-8")
        at = html.rfind(raw)
        if at >= 0:
            offsets.append((at + len(raw), False))
    longest = sorted(_PARAGRAPH.finditer(html), key=lambda m: len(m.group()), reverse=True)
    offsets += [(m.end(), True) for m in longest[:3]]
    return offsets


def _survives(template: Template, i: int) -> bool:
    cleaned = clean_html(template.render(i))
    return isinstance(cleaned, CleanArticle) and f"Dispatch number {i}" in cleaned.text


def prepare_templates() -> tuple[list[Template], list[str]]:
    """Usable corpus pages (injection verified with the pipeline's own cleaner) and the rest."""
    usable: list[Template] = []
    skipped: list[str] = []
    for page in load_manifest():
        html = (PAGES_DIR / page["file"]).read_bytes()
        for offset, wrap in _candidate_offsets(html, list(page.get("must_include", []))):
            template = Template(page["file"], html, offset, wrap)
            if all(_survives(template, probe) for probe in (THEME_EVERY * 10**6, THEME_EVERY * 10**6 + 1)):
                usable.append(template)
                break
        else:
            skipped.append(page["file"])
    return usable, skipped


def serve(sites: list[CorpusSite], templates: list[Template], articles: int) -> list[str]:
    """Route ``/feeds/<f>.rss`` on site ``f % len(sites)``; feed ``f`` lists articles ``f + k FEEDS``
    (k = 0, 1, …) and article ``f + k FEEDS`` lives on site ``k % len(sites)``, so consecutive
    entries of one feed point at different hosts (an aggregator's feed)."""

    def article(request: Request) -> Response:
        i = int(request.path.removeprefix("/a/").removesuffix(".html"))
        body = templates[i % len(templates)].render(i)
        return Response(200, body, {"Content-Type": "text/html; charset=utf-8"})

    links = []
    for i in range(articles):
        site = sites[(i // FEEDS) % len(sites)]
        site.add_route(f"/a/{i}.html", article)
        links.append(site.url(f"/a/{i}.html"))
    feed_urls = []
    for f in range(min(FEEDS, articles)):
        items = [
            FeedItem(
                title=f"Dispatch {i}",
                link=links[i],
                guid=f"urn:mediamon-bench:{i}",
                published=FEED_EPOCH - timedelta(minutes=i),
            )
            for i in range(f, articles, FEEDS)
        ]
        site, path = sites[f % len(sites)], f"/feeds/{f}.rss"
        site.set_static(path, build_rss(items, title=f"bench feed {f}"), content_type="application/rss+xml")
        feed_urls.append(site.url(path))
    return feed_urls


# --------------------------------------------------------------------------- database and processes


def database_url() -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{BENCH_DATABASE}".replace("postgresql://", "postgresql+psycopg://", 1)


def recreate_database() -> str:
    drop_database()
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    url = database_url()
    upgrade_database(url)
    return url


def drop_database() -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def flush_broker() -> None:
    client = redis.Redis.from_url(BROKER_URL)
    try:
        client.flushdb()
    finally:
        client.close()


def service_env(url: str, articles: int, hosts: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
    env.update(
        MEDIAMON_DATABASE_URL=url,
        MEDIAMON_BROKER_URL=BROKER_URL,
        MEDIAMON_ALLOWED_PRIVATE_HOSTS=",".join(hosts),
        MEDIAMON_DISPATCH_INTERVAL_S="1",
        MEDIAMON_MAX_ENTRIES_PER_POLL=str(max(articles, 1)),
        # The sweeper must not re-enqueue rows that are merely waiting in a long queue.
        MEDIAMON_SWEEP_INTERVAL_S="86400",
        MEDIAMON_SWEEP_AFTER_S="86400",
    )
    return env


def spawn(env: dict[str, str], logs: Path, log: str, *args: str) -> subprocess.Popen[bytes]:
    with (logs / log).open("wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "mediamon.cli", *args],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """TERM the process group (a worker's pool processes are in it, and may outlive a main
    process that crashed), KILL after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --------------------------------------------------------------------------- memory from /proc


@dataclass(frozen=True)
class TreeMemory:
    main_kib: int
    children_kib: list[int]
    pss_kib: int  # proportional set size of the whole tree: shared pages counted once

    @property
    def total_kib(self) -> int:
        return self.main_kib + sum(self.children_kib)


def _status_kib(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_memory(pid: int) -> TreeMemory:
    """VmRSS of ``pid`` and of each of its descendants (the prefork pool), plus the tree's Pss."""
    descendants: list[int] = []
    queue = _children(pid)
    while queue:
        child = queue.pop()
        descendants.append(child)
        queue += _children(child)
    return TreeMemory(
        main_kib=_status_kib(pid, "VmRSS"),
        children_kib=[_status_kib(child, "VmRSS") for child in descendants],
        pss_kib=sum(_pss_kib(p) for p in [pid, *descendants]),
    )


# --------------------------------------------------------------------------- one run


@dataclass
class RunResult:
    workers: int
    concurrency: int
    articles: int
    states: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    span_s: float = 0.0  # first poll to last stored article, from the database's timestamps
    memory: list[TreeMemory] = field(default_factory=list)
    timed_out: bool = False

    @property
    def rate(self) -> float:
        return self.articles / self.span_s if self.span_s > 0 else 0.0


def count_states(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(Article.state, func.count()).group_by(Article.state)).all()
    return {str(state): int(count) for state, count in rows}


def processing_span(engine: Engine) -> float:
    with engine.connect() as conn:
        polls = conn.execute(select(FetchLog.started_at, FetchLog.duration_ms)).all()
        last: datetime | None = conn.execute(select(func.max(Article.processed_at))).scalar()
    if not polls or last is None:
        return 0.0
    first = min(started - timedelta(milliseconds=ms) for started, ms in polls)
    return (last - first).total_seconds()


def run(
    feed_urls: list[str],
    hosts: list[str],
    articles: int,
    workers: int,
    concurrency: int,
    logs: Path,
    timeout: float,
) -> RunResult:
    result = RunResult(workers, concurrency, articles)
    url = recreate_database()
    flush_broker()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Feed), [{"url": feed_url} for feed_url in feed_urls])
    env = service_env(url, articles, hosts)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        started = time.monotonic()
        for k in range(1, workers + 1):
            args = ("worker", "--concurrency", str(concurrency), "--hostname", f"w{k}@%h")
            processes.append(spawn(env, logs, f"w{workers}-worker{k}.log", *args))
        beat_args = ("beat", "--schedule", str(logs / f"w{workers}-beat-schedule"))
        processes.append(spawn(env, logs, f"w{workers}-beat.log", *beat_args))
        deadline = started + timeout
        last_print = 0.0
        while True:
            states = count_states(engine)
            total = sum(states.values())
            busy = states.get(ArticleState.PENDING.value, 0) + states.get(ArticleState.FETCHED.value, 0)
            finished = total >= articles and busy == 0
            now = time.monotonic()
            if finished or now - last_print >= PROGRESS_EVERY_S:
                last_print = now
                shown = " ".join(f"{state}={states.get(state.value, 0)}" for state in ArticleState)
                print(
                    f"  [{workers} worker(s)] {now - started:6.1f} s  articles={total}/{articles}  {shown}",
                    flush=True,
                )
            if finished:
                break
            if now > deadline or any(p.poll() is not None for p in processes):
                result.timed_out = True
                print(f"  [{workers} worker(s)] gave up: timeout or a process exited; logs in {logs}")
                break
            time.sleep(POLL_S)
        result.wall_s = time.monotonic() - started
        result.memory = [tree_memory(p.pid) for p in processes[:workers] if p.poll() is None]
        result.states = count_states(engine)
        result.span_s = processing_span(engine)
    finally:
        for process in processes:
            stop(process)
        engine.dispose()
        drop_database()
        flush_broker()
    return result


# --------------------------------------------------------------------------- report


def print_report(results: list[RunResult], skipped: list[str], usable: int, hosts: list[str]) -> None:
    cores = os.cpu_count() or 0
    print()
    print(
        f"mediamon service benchmark: {results[0].articles if results else 0} articles in {FEEDS} feeds, "
        f"unique pages built from {usable} corpus pages, served by {len(hosts)} local HTTP server(s) "
        f"on {hosts[0]}{'..' + hosts[-1] if len(hosts) > 1 else ''}, PostgreSQL + Redis"
    )
    if skipped:
        print(f"  corpus pages left out (injected text did not survive extraction): {', '.join(skipped)}")
    header = (
        f"{'workers':>7} {'conc':>4} {'articles':>8} {'seconds':>8} {'art/s':>7} {'wall s':>7} "
        f"{'done':>6} {'dup':>5} {'failed':>6}  memory per worker after processing"
    )
    print(header)
    for r in results:
        memory = "; ".join(
            f"{m.main_kib / 1024:.0f} + {'+'.join(f'{c / 1024:.0f}' for c in m.children_kib) or '0'}"
            f" = {m.total_kib / 1024:.0f} MiB RSS (Pss {m.pss_kib / 1024:.0f})"
            for m in r.memory
        )
        print(
            f"{r.workers:>7} {r.concurrency:>4} {r.articles:>8} {r.span_s:>8.1f} {r.rate:>7.1f} "
            f"{r.wall_s:>7.1f} "
            f"{r.states.get('done', 0):>6} {r.states.get('duplicate', 0):>5} {r.states.get('failed', 0):>6}  "
            f"{memory}{'  (INCOMPLETE: timed out)' if r.timed_out else ''}"
        )
    if len(results) >= 2 and results[0].rate > 0:
        first, last = results[0], results[-1]
        print(f"speed-up {last.workers} vs {first.workers} worker(s): {last.rate / first.rate:.2f}x")
    print(
        "seconds = first feed poll to last stored article (database timestamps); wall s = from starting "
        "the processes (includes start-up) until the 0.5 s database poll saw every article processed."
    )
    print(
        "memory = VmRSS of the worker's main process + each pool process (shared copy-on-write pages "
        "counted in each); Pss splits shared pages between them."
    )
    delay = Settings.model_fields["host_min_delay_s"].default
    print(
        f"politeness: host_min_delay_s = {delay} s (default, not overridden) caps each host at "
        f"{1 / delay:.0f} requests/s, {len(hosts) / delay:.0f}/s over the {len(hosts)} host(s)."
        if delay
        else "politeness: no per-host start delay."
    )
    load = os.getloadavg()
    print(
        f"machine: {cores} cores, shared by the worker(s), beat, PostgreSQL, Redis and the HTTP server "
        f"(this process); load average now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000, help="unique articles to process")
    parser.add_argument("--workers", default="1,2", help="worker process counts to run, comma-separated")
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker")
    parser.add_argument(
        "--hosts",
        type=int,
        default=FEEDS,
        help=f"loopback host names 127.0.0.1..N serving the feeds and pages (default {FEEDS}, one per "
        "feed); per-host politeness (a start delay per host, shared through Redis) caps one host at "
        "1 / MEDIAMON_HOST_MIN_DELAY_S requests per second",
    )
    parser.add_argument("--logs", type=Path, default=None, help="keep the processes' logs here")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per run (default 120 + N/2)")
    args = parser.parse_args()
    # Stopped from outside (kill, a CI timeout): unwind, so the processes and database are cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    articles = max(args.articles, 1)
    counts = [int(part) for part in args.workers.split(",") if part.strip()]
    hosts = [f"127.0.0.{k}" for k in range(1, min(max(args.hosts, 1), FEEDS) + 1)]
    timeout = args.timeout if args.timeout is not None else 120 + articles / 2

    print(
        f"articles N = {articles}, workers {counts}, concurrency {args.concurrency}, "
        f"{len(hosts)} host(s), {os.cpu_count()} cores"
    )
    started = time.perf_counter()
    templates, skipped = prepare_templates()
    print(f"verified injection on {len(templates)} corpus pages in {time.perf_counter() - started:.1f} s")
    results = []
    with contextlib.ExitStack() as stack:
        sites = [stack.enter_context(CorpusSite(host)) for host in hosts]
        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
        workdir = args.logs or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="mediamon-bench-"))
        )
        feed_urls = serve(sites, templates, articles)
        for workers in counts:
            print(f"run: {workers} worker(s) x concurrency {args.concurrency}", flush=True)
            results.append(run(feed_urls, hosts, articles, workers, args.concurrency, workdir, timeout))
            if results[-1].timed_out:
                for log in sorted(Path(workdir).glob("*.log")):
                    print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}")
    print_report(results, skipped, len(templates), hosts)


if __name__ == "__main__":
    main()
