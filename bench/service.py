"""Service benchmark: real ``mediamon worker`` and ``mediamon beat`` processes on the machine's
PostgreSQL and Redis, polling feeds of unique articles served by local HTTP servers on loopback.

Prints, for 1 and then 2 worker processes (``--workers``):
* end-to-end throughput, articles per second from the first feed poll to the last stored
  article (``min(fetch_log.started_at - duration)`` to ``max(article.processed_at)``), and the
  wall time from starting the processes until the database showed every article processed,
* how the articles ended (done / duplicate / failed),
* memory per worker right after processing: the proportional set size (PSS, from
  ``/proc/PID/smaps_rollup``) of the worker's main process and of each of its pool processes,
  and their sum. Forked pool processes share pages with their parent (the embedding model is
  loaded before the pool forks); RSS counts a shared page in every process, PSS splits it
  between them, so the PSS of the processes adds up to what the worker really costs,
* recovery after a SIGKILL (``--recovery``, on by default): once every article is processed, a
  feed with one more article is added whose page stalls; the ``mediamon worker`` whose pool is
  downloading it (found from its socket to that page's server, in ``/proc``) is SIGKILLed,
  main process and pool together, and a replacement is started, as a supervisor would. The
  figure is the time from the kill until the article is processed, by the service's default
  lease, heartbeat and sweeper settings (nothing is overridden for it).

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

Each worker count gets a fresh ``mediamon_bench_service_<pid>`` database (``alembic upgrade
head``) and broker keys under a prefix of this process's own in Redis database 8 (deleted
afterwards), so two benchmarks on one machine never touch each other's data. The workers, beat
and the HTTP server all share this machine's cores with PostgreSQL and Redis, so the figures
are a floor for the service, not its ceiling.

Run: ``.venv/bin/python -m bench.service [--articles N] [--workers 1,2] [--concurrency 1]
[--no-recovery] [--recovery-timeout S]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
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
BENCH_DATABASE = f"mediamon_bench_service_{os.getpid()}"
#: Redis database 8, which the tests never take (tests.support.redis_keys), and a key prefix of
#: this process: kombu, the quarantine and the politeness slots keep their keys under it.
BROKER_URL = "redis://127.0.0.1:6379/8"
BROKER_KEY_PREFIX = f"mediamon-bench-service:{os.getpid()}:"
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
    """Delete this benchmark's broker keys (the database may hold another run's)."""
    client = redis.Redis.from_url(BROKER_URL)
    try:
        for key in client.scan_iter(match=f"{BROKER_KEY_PREFIX}*", count=1000):
            client.delete(key)
    finally:
        client.close()


def service_env(url: str, articles: int, hosts: list[str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAMON_")}
    env.update(
        MEDIAMON_DATABASE_URL=url,
        MEDIAMON_BROKER_URL=BROKER_URL,
        MEDIAMON_BROKER_KEY_PREFIX=BROKER_KEY_PREFIX,
        MEDIAMON_ALLOWED_PRIVATE_HOSTS=",".join(hosts),
        MEDIAMON_DISPATCH_INTERVAL_S="1",
        MEDIAMON_MAX_ENTRIES_PER_POLL=str(max(articles, 1)),
        # The lease, heartbeat and sweeper settings are the defaults: the recovery figure is
        # what a deployment gets (and the sweeper never re-enqueues rows waiting in a queue).
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
class ProcessMemory:
    pid: int
    role: str  # "main" (the worker's own process) or "pool" (a prefork pool process)
    rss_kib: int
    pss_kib: int  # proportional set size: each shared page split between the processes mapping it
    cpu_s: float  # user + system CPU time the process has used so far


@dataclass(frozen=True)
class TreeMemory:
    processes: list[ProcessMemory]

    @property
    def pss_kib(self) -> int:
        """What the worker costs: PSS adds up (a page shared by n processes counts 1/n in each)."""
        return sum(p.pss_kib for p in self.processes)

    @property
    def rss_kib(self) -> int:
        return sum(p.rss_kib for p in self.processes)

    def role(self, role: str) -> list[ProcessMemory]:
        return [p for p in self.processes if p.role == role]


def _rollup_kib(pid: int, field_name: str) -> int:
    """One field of ``/proc/PID/smaps_rollup`` (the kernel's sum over every mapping), in KiB."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _cpu_s(pid: int) -> float:
    """utime + stime of ``/proc/PID/stat`` (fields 14 and 15, after the parenthesised name)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    queue = _children(pid)
    while queue:
        child = queue.pop()
        found.append(child)
        queue += _children(child)
    return found


def workers_cpu_s(workers: list[subprocess.Popen[bytes]]) -> float:
    """CPU time used so far by the workers' processes (main and pool)."""
    return sum(_cpu_s(p) for worker in workers for p in [worker.pid, *descendants(worker.pid)])


def tree_memory(pid: int) -> TreeMemory:
    """PSS and RSS of ``pid`` (a worker's main process) and of each of its pool processes."""
    return TreeMemory(
        [
            ProcessMemory(
                p, "main" if p == pid else "pool", _rollup_kib(p, "Rss"), _rollup_kib(p, "Pss"), _cpu_s(p)
            )
            for p in [pid, *descendants(pid)]
        ]
    )


# --------------------------------------------------------------------------- recovery after SIGKILL

#: The host of the page that stalls (beyond the --hosts range: its server serves nothing else,
#: so a connection to it is the download of that page).
RECOVERY_HOST = f"127.0.0.{FEEDS + 1}"
RECOVERY_PATH = "/stall/victim.html"


class StallingPage:
    """A page whose first request stalls (no byte sent) until :meth:`release`; later requests
    get the page at once. The fetcher's read timeout (20 s by default) is far longer than the
    moment the bench needs to find and kill the worker downloading it."""

    def __init__(self, site: CorpusSite, feed_site: CorpusSite, body: bytes) -> None:
        self.site = site
        self.arrived = threading.Event()
        self._released = threading.Event()
        self._first = True
        self._lock = threading.Lock()

        def handler(request: Request) -> Response:
            with self._lock:
                first, self._first = self._first, False
            if first:
                self.arrived.set()
                self._released.wait(600)
            return Response(200, body, {"Content-Type": "text/html; charset=utf-8"})

        site.add_route(RECOVERY_PATH, handler)
        item = FeedItem("Stalled dispatch", site.url(RECOVERY_PATH), guid="urn:mediamon-bench:recovery")
        # The feed lives on another host: a worker that polled it may keep its connection open,
        # and only the download of the page may connect to this site.
        feed_site.set_static("/feeds/recovery.rss", build_rss([item]), content_type="application/rss+xml")
        self.url = site.url(RECOVERY_PATH)
        self.feed_url = feed_site.url("/feeds/recovery.rss")

    def release(self) -> None:
        self._released.set()


def _proc_net_address(host: str, port: int) -> str:
    """``host:port`` as ``/proc/net/tcp`` writes it (IPv4 in host byte order, hex)."""
    return f"{socket.inet_aton(host)[::-1].hex().upper()}:{port:04X}"


def connected_to(host: str, port: int, pids: list[int]) -> set[int]:
    """Which of ``pids`` hold an established TCP connection to ``host:port``."""
    remote = _proc_net_address(host, port)
    inodes = {
        fields[9]
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if (fields := line.split())[2] == remote and fields[3] == "01"  # 01: ESTABLISHED
    }
    holders: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        holders.add(pid)
    return holders


@dataclass
class Recovery:
    seconds: float | None  # from the kill to the article processed; None: not within the timeout
    timeout: float
    state: str = ""


def article_state(engine: Engine, url: str) -> str | None:
    with engine.connect() as conn:
        state = conn.execute(select(Article.state).where(Article.url == url)).scalar()
    return None if state is None else str(state)


def measure_recovery(
    engine: Engine,
    page: StallingPage,
    workers: list[subprocess.Popen[bytes]],
    respawn: Callable[[int], subprocess.Popen[bytes]],
    timeout: float,
) -> Recovery:
    """Kill the worker downloading the stalled page, start a replacement, time the article's recovery."""
    with engine.begin() as conn:
        conn.execute(insert(Feed), [{"url": page.feed_url}])
    if not page.arrived.wait(timeout):
        print("  recovery: no worker fetched the stalled page")
        return Recovery(None, timeout, "never fetched")
    host, port = RECOVERY_HOST, page.site.port
    holder: int | None = None
    deadline = time.monotonic() + 30
    while holder is None and time.monotonic() < deadline:
        for index, worker in enumerate(workers):
            if connected_to(host, port, [worker.pid, *descendants(worker.pid)]):
                holder = index
                break
        else:
            time.sleep(0.05)
    if holder is None:
        print("  recovery: could not tell which worker downloads the stalled page")
        return Recovery(None, timeout, "holder not found")
    victim = workers[holder]
    os.killpg(victim.pid, signal.SIGKILL)
    killed = time.monotonic()
    victim.wait(timeout=30)
    workers[holder] = respawn(holder)
    print(f"  recovery: SIGKILLed worker {holder + 1} (pid {victim.pid}, main and pool) mid-download")
    state: str | None = None
    last_print = killed
    while time.monotonic() - killed < timeout:
        state = article_state(engine, page.url)
        if state in FINAL_STATES:
            seconds = time.monotonic() - killed
            print(f"  recovery: the article was {state} {seconds:.1f} s after the kill", flush=True)
            return Recovery(seconds, timeout, state)
        if time.monotonic() - last_print >= 15:
            last_print = time.monotonic()
            print(f"  recovery: {last_print - killed:5.0f} s after the kill, the article is {state}")
        time.sleep(POLL_S)
    return Recovery(None, timeout, state or "")


FINAL_STATES = frozenset({ArticleState.DONE.value, ArticleState.DUPLICATE.value, ArticleState.FAILED.value})


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
    recovery: Recovery | None = None
    timed_out: bool = False
    # CPU time of the workers' processes per article processed, from the moment a tenth of the
    # articles were processed to the end (start-up, model loading included, is left out).
    cpu_ms_per_article: float = 0.0

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
    stalling: StallingPage | None,
    recovery_timeout: float,
) -> RunResult:
    result = RunResult(workers, concurrency, articles)
    url = recreate_database()
    flush_broker()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Feed), [{"url": feed_url} for feed_url in feed_urls])
    env = service_env(url, articles, [*hosts, RECOVERY_HOST])
    processes: list[subprocess.Popen[bytes]] = []

    def start_worker(index: int, suffix: str = "") -> subprocess.Popen[bytes]:
        name = f"w{index + 1}{suffix}"
        args = ("worker", "--concurrency", str(concurrency), "--hostname", f"{name}@%h")
        process = spawn(env, logs, f"w{workers}-worker-{name}.log", *args)
        processes.append(process)
        return process

    try:
        started = time.monotonic()
        running = [start_worker(k) for k in range(workers)]
        beat_args = ("beat", "--schedule", str(logs / f"w{workers}-beat-schedule"))
        processes.append(spawn(env, logs, f"w{workers}-beat.log", *beat_args))
        deadline = started + timeout
        last_print = 0.0
        cpu_from: tuple[float, int] | None = None
        while True:
            states = count_states(engine)
            total = sum(states.values())
            busy = states.get(ArticleState.PENDING.value, 0) + states.get(ArticleState.FETCHED.value, 0)
            finished = total >= articles and busy == 0
            processed = total - busy
            if cpu_from is None and processed >= articles // 10:
                cpu_from = (workers_cpu_s(running), processed)
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
        result.memory = [tree_memory(p.pid) for p in running if p.poll() is None]
        if cpu_from is not None and articles > cpu_from[1]:
            cpu_s = workers_cpu_s(running) - cpu_from[0]
            result.cpu_ms_per_article = cpu_s * 1000 / (articles - cpu_from[1])
        result.states = count_states(engine)
        result.span_s = processing_span(engine)
        if stalling is not None and not result.timed_out:
            result.recovery = measure_recovery(
                engine, stalling, running, lambda k: start_worker(k, "-replacement"), recovery_timeout
            )
    finally:
        if stalling is not None:
            stalling.release()
        for process in processes:
            stop(process)
        engine.dispose()
        drop_database()
        flush_broker()
    return result


# --------------------------------------------------------------------------- report


def _mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def memory_text(m: TreeMemory) -> str:
    """``main 290 + pool 402 = 692 MiB PSS (RSS 640 + 660)`` for one worker."""
    main, pool = m.role("main"), m.role("pool")
    pss = " + ".join([*(f"main {_mib(p.pss_kib)}" for p in main), *(f"pool {_mib(p.pss_kib)}" for p in pool)])
    rss = " + ".join(_mib(p.rss_kib) for p in [*main, *pool])
    cpu = " + ".join(f"{p.cpu_s:.0f}" for p in [*main, *pool])
    return f"{pss} = {_mib(m.pss_kib)} MiB PSS (RSS {rss}; CPU s {cpu})"


def recovery_text(r: RunResult) -> str:
    if r.recovery is None:
        return "-"
    if r.recovery.seconds is None:
        return f"> {r.recovery.timeout:.0f} s ({r.recovery.state or 'not processed'})"
    return f"{r.recovery.seconds:.0f} s"


def print_report(
    results: list[RunResult],
    skipped: list[str],
    usable: int,
    hosts: list[str],
    load_before: tuple[float, ...],
) -> None:
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
        f"{'workers':>7} {'conc':>4} {'articles':>8} {'seconds':>8} {'art/s':>7} {'/worker':>7} "
        f"{'wall s':>7} {'cpu ms':>6} {'done':>6} {'dup':>5} {'failed':>6} {'recovery':>9}  "
        "memory per worker after processing"
    )
    print(header)
    for r in results:
        memory = "; ".join(memory_text(m) for m in r.memory)
        print(
            f"{r.workers:>7} {r.concurrency:>4} {r.articles:>8} {r.span_s:>8.1f} {r.rate:>7.1f} "
            f"{r.rate / r.workers:>7.1f} {r.wall_s:>7.1f} {r.cpu_ms_per_article:>6.0f} "
            f"{r.states.get('done', 0):>6} {r.states.get('duplicate', 0):>5} {r.states.get('failed', 0):>6} "
            f"{recovery_text(r):>9}  "
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
        "cpu ms = CPU time of the workers' processes per article, from a tenth of the articles on "
        "(start-up excluded): less sensitive than art/s to what else runs on the machine."
    )
    print(
        "recovery = from the SIGKILL of the worker (main and pool) downloading an article until that "
        "article was processed (a replacement worker started at once); default lease and sweeper settings."
    )
    print(
        "memory = PSS of the worker's main process and of each pool process (smaps_rollup): shared "
        "copy-on-write pages split between the processes, so the sum is the worker's cost; RSS counts "
        "them in each."
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
        f"(this process); load average before {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f}, now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}."
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
    parser.add_argument(
        "--recovery",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after each run, SIGKILL the worker downloading a stalled page and time its recovery",
    )
    parser.add_argument(
        "--recovery-timeout", type=float, default=600.0, help="longest wait for the killed worker's article"
    )
    args = parser.parse_args()
    # Stopped from outside (kill, a CI timeout): unwind, so the processes and database are cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    articles = max(args.articles, 1)
    counts = [int(part) for part in args.workers.split(",") if part.strip()]
    hosts = [f"127.0.0.{k}" for k in range(1, min(max(args.hosts, 1), FEEDS) + 1)]
    timeout = args.timeout if args.timeout is not None else 120 + articles / 2
    load_before = os.getloadavg()

    print(
        f"articles N = {articles}, workers {counts}, concurrency {args.concurrency}, "
        f"{len(hosts)} host(s), {os.cpu_count()} cores, load average {load_before[0]:.2f}"
    )
    started = time.perf_counter()
    templates, skipped = prepare_templates()
    print(f"verified injection on {len(templates)} corpus pages in {time.perf_counter() - started:.1f} s")
    results = []
    with contextlib.ExitStack() as stack:
        sites = [stack.enter_context(CorpusSite(host)) for host in hosts]
        recovery_site = stack.enter_context(CorpusSite(RECOVERY_HOST))
        if args.logs is not None:
            args.logs.mkdir(parents=True, exist_ok=True)
        workdir = args.logs or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="mediamon-bench-"))
        )
        feed_urls = serve(sites, templates, articles)
        for workers in counts:
            print(f"run: {workers} worker(s) x concurrency {args.concurrency}", flush=True)
            # A page of its own per run: only its first request stalls.
            page = templates[0].render(articles)
            stalling = StallingPage(recovery_site, sites[0], page) if args.recovery else None
            results.append(
                run(
                    *(feed_urls, hosts, articles, workers, args.concurrency, workdir, timeout),
                    stalling,
                    args.recovery_timeout,
                )
            )
            if results[-1].timed_out:
                for log in sorted(Path(workdir).glob("*.log")):
                    print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}")
    print_report(results, skipped, len(templates), hosts, load_before)


if __name__ == "__main__":
    main()
