"""Nothing accepted from a feed is lost: the service under faults, with real processes.

Each test runs a real `mediamon worker` and `mediamon beat` against PostgreSQL and Redis,
serves a feed whose article pages answer slowly (so work is surely in flight), breaks one
part of the machine mid-run and asserts the outcome in the database: every accepted entry
ends processed (``done``, ``duplicate`` or ``failed``; neither ``pending`` nor ``fetched``),
by one committed attempt, with no staged page left and no match stored twice.

1. the worker is SIGKILLed (its whole process group) while it downloads an article: the
   article's lease runs out and the sweeper enqueues it again (the old rule for unclaimed rows
   is set to an hour here, and kombu's visibility timeout is an hour, so nothing else can);
   and the opposite: a worker that is slow but alive keeps its article, downloaded once;
2. the broker (a private ``redis-server``, never the machine's shared one) dies and comes back
   empty on the same port;
3. PostgreSQL refuses connections for five seconds: a TCP proxy in front of the shared server
   cuts every connection at the moment an article transaction has written and not committed,
   stops listening, then listens again;
4. unreadable messages wait on the queues (not JSON, not a kombu envelope, a task body that is
   not what its properties say): they are set aside and every article is still processed.

Except in the first two tests, recovery is not assumed to come from any one mechanism
(redelivery, task retries, the sweeper): the tests assert the outcome. Every wait is for a
condition (a request arrived, downloads in flight, articles processed, sweeps run), bounded by
a generous hang guard that is never reached when things go right, since another test run may
share the machine's two cores; when one runs out, the logs of every process are printed.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from schema.db import make_engine, make_session_factory
from schema.models import Article, ArticleState, ClaimMatch, Feed, Mention, Page
from tests.integration.conftest import Spawn, log_tails, stop, wait_for
from tests.integration.test_pipeline import seed_page
from tests.support.corpus_site import (
    PAGES_DIR,
    CorpusSite,
    FeedItem,
    Request,
    Response,
    build_rss,
    load_manifest,
)
from tests.support.net import free_port
from workers.broker import quarantine_key

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("service")]

# Hang guards bound a wait for an outcome and are never reached when things go right; they are
# long because a loaded 2-core machine (another test run beside this one, worker processes
# loading the embedding model) may take long to start a worker. No assertion is about speed.
#: Until a worker is inside its first article tasks (start-up, knowledge base, first poll).
STARTED_S = 600.0
#: Until every article of a test's feed is processed, faults included.
PROCESSED_S = 600.0
#: For the test's own helpers (a thread of this process, a local redis-server) to answer.
HELPER_S = 30.0
#: Longest a held page keeps its client waiting without a byte: below the fetcher's read timeout
#: (20 s), so a held download is never cut short by it.
HELD_S = 15.0


# --------------------------------------------------------------------------- helpers


class SlowPages:
    """Article pages on the corpus site that answer after ``delay`` seconds; a page added
    ``held`` answers its first request only when the test calls :meth:`release` (or after
    ``HELD_S``), so a download is surely in flight while the test acts.

    A test can wait until a request for a path has arrived, or until several downloads run at
    once, to know that worker processes are inside their article tasks at that moment.
    """

    def __init__(self, site: CorpusSite, delay: float) -> None:
        self.site = site
        self.delay = delay
        self.items: list[FeedItem] = []
        self._started: dict[str, threading.Event] = {}
        self._changed = threading.Condition()
        self._in_flight = 0
        self._closing = threading.Event()
        self._released = threading.Event()

    def add(self, path: str, body: bytes, title: str, *, held: bool = False) -> None:
        started = self._started[path] = threading.Event()

        def handler(request: Request) -> Response:
            first = not started.is_set()
            started.set()
            with self._changed:
                self._in_flight += 1
                self._changed.notify_all()
            try:
                if held and first:
                    self._released.wait(HELD_S)
                else:
                    self._closing.wait(self.delay)
            finally:
                with self._changed:
                    self._in_flight -= 1
            return Response(200, body, {"Content-Type": "text/html; charset=utf-8"})

        self.site.add_route(path, handler)
        self.items.append(FeedItem(title, self.site.url(path), guid=f"urn:faults:{path}"))

    def add_corpus(self, n: int) -> None:
        for index, page in enumerate(load_manifest()[:n]):
            self.add(f"/articles/{index}.html", (PAGES_DIR / page["file"]).read_bytes(), page["file"])

    def publish(self, path: str = "/feeds/faults.rss") -> str:
        self.site.set_static(path, build_rss(self.items), content_type="application/rss+xml")
        return self.site.url(path)

    def wait_started(self, path: str, timeout: float = STARTED_S) -> bool:
        return self._started[path].wait(timeout)

    def wait_in_flight(self, count: int, timeout: float = STARTED_S) -> bool:
        """Wait until ``count`` downloads are running at once (so as many worker processes are busy)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._in_flight >= count, timeout)

    def release(self) -> None:
        """Let held pages answer."""
        self._released.set()

    def close(self) -> None:
        """Wake sleeping handlers so the site stops at once."""
        self._released.set()
        self._closing.set()


@pytest.fixture
def site() -> Iterator[CorpusSite]:
    with CorpusSite() as corpus_site:
        yield corpus_site


def worker_log(logs: Path, name: str) -> str:
    path = logs / name
    return path.read_text(errors="replace") if path.exists() else ""


#: The sweeper's line when it found leases that ran out (workers.tasks.sweep_stale_articles).
LEASE_EXPIRED = re.compile(r"lease expired: [1-9]")
#: Celery's line for each sweep that ran in a worker.
SWEEP_DONE = re.compile(r"workers\.tasks\.sweep_stale_articles\[[^\]]+\] succeeded")
#: Longest the slow page takes (below the fetcher's 60 s deadline for a whole download).
TRICKLE_S = 45.0


@pytest.fixture
def db_sessions(service_env: dict[str, str]) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test database directly (never through the proxy of the PostgreSQL test)."""
    engine = make_engine(service_env["MEDIAMON_DATABASE_URL"])
    yield make_session_factory(engine)
    engine.dispose()


def add_feed(sessions: sessionmaker[Session], url: str) -> None:
    with sessions.begin() as session:
        session.add(Feed(url=url))


def states(sessions: sessionmaker[Session]) -> list[ArticleState]:
    with sessions() as session:
        return list(session.scalars(select(Article.state)))


#: Where an article's way ends; ``pending`` and ``fetched`` (page staged for extraction) are on the way.
FINAL_STATES = frozenset({ArticleState.DONE, ArticleState.DUPLICATE, ArticleState.FAILED})


def all_processed(sessions: sessionmaker[Session], expected: int) -> bool:
    found = states(sessions)
    return len(found) == expected and FINAL_STATES.issuperset(found)


def unfinished(sessions: sessionmaker[Session]) -> int:
    return sum(state not in FINAL_STATES for state in states(sessions))


def assert_processed_once(sessions: sessionmaker[Session], pages: SlowPages) -> list[Article]:
    """One row per feed entry, none pending, each stored by a single committed attempt."""
    with sessions() as session:
        articles = list(session.scalars(select(Article).order_by(Article.id)))
        repeated_matches = session.execute(
            select(ClaimMatch.article_id, ClaimMatch.claim_id, func.count())
            .group_by(ClaimMatch.article_id, ClaimMatch.claim_id)
            .having(func.count() > 1)
        ).all()
        repeated_mentions = session.execute(
            select(Mention.article_id, Mention.entity_id, Mention.start, func.count())
            .group_by(Mention.article_id, Mention.entity_id, Mention.start)
            .having(func.count() > 1)
        ).all()
        staged = session.scalar(select(func.count()).select_from(Page))
    assert sorted(a.url for a in articles) == sorted(item.link for item in pages.items)
    assert len({a.canonical_url for a in articles}) == len(pages.items)
    assert [(a.url, a.state) for a in articles if a.state not in FINAL_STATES] == []
    assert staged == 0, "every staged page was consumed by its extraction"
    # The article transaction increments ``attempts``: a task that died or rolled back left no trace.
    assert [(a.url, a.attempts) for a in articles if a.attempts != 1] == []
    assert repeated_matches == []
    assert repeated_mentions == []
    return articles


# --------------------------------------------------------------------------- 1. worker killed


def test_worker_killed_mid_article_loses_and_duplicates_nothing(
    service_env: dict[str, str],
    spawn: Spawn,
    site: CorpusSite,
    db_sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    """The killed worker's message waits in the broker's unacked hash for kombu's visibility
    timeout (an hour) and the sweeper's rule for unclaimed rows is set to an hour: only the
    article's lease running out (6 s here) can bring it back within the hang guard."""
    kb = load_kb(DEFAULT_KB_PATH)
    pages = SlowPages(site, delay=0.5)
    seed_path = "/articles/seed.html"
    pages.add(seed_path, seed_page(SEEDS_DIR / kb.sources["seed-2021"].file), "seed", held=True)
    pages.add_corpus(3)
    add_feed(db_sessions, pages.publish())
    # The killed worker's per-host politeness slots (Redis leases) free themselves after the
    # lease; the default (75 s) covers the slowest real request, these pages need much less.
    env = {**service_env, "MEDIAMON_HOST_LEASE_S": "8", "MEDIAMON_SWEEP_AFTER_S": "3600"}

    # One pool process with prefetch 1: the only message the worker holds is the article it
    # downloads (none it has taken and not yet started, which only the hour-long timeout frees).
    worker = spawn(env, "worker", "--concurrency", "1", "--hostname", "w1@%h", log="worker1.log")
    spawn(env, "beat", "--schedule", str(tmp_path / "beat"), log="beat.log")
    if not pages.wait_started(seed_path):
        pytest.fail(f"no worker fetched the seed article\n{log_tails(tmp_path)}")
    with db_sessions() as session:
        seed_row = session.scalars(select(Article).where(Article.url == site.url(seed_path))).one()
    assert seed_row.state == ArticleState.PENDING, "the worker dies while it downloads the seed article"
    assert seed_row.lease_owner is not None, "its task holds the article"
    stop(worker, signal.SIGKILL)  # the whole process group: main process and pool children
    assert worker.returncode == -signal.SIGKILL
    pages.release()

    spawn(env, "worker", "--concurrency", "2", "--hostname", "w2@%h", log="worker2.log")
    wait_for(
        lambda: all_processed(db_sessions, len(pages.items)), PROCESSED_S, "every article processed", tmp_path
    )
    time.sleep(3)  # late redeliveries (sweeper rounds) must not store anything again
    pages.close()

    articles = assert_processed_once(db_sessions, pages)
    seed = next(a for a in articles if a.url.endswith(seed_path))
    assert seed.state == ArticleState.DONE
    assert site.hits(seed_path) >= 2, "the killed download was done again"
    assert LEASE_EXPIRED.search(worker_log(tmp_path, "worker2.log")), "the sweeper took it back"
    with db_sessions() as session:
        matched = session.scalars(select(ClaimMatch.claim_id).where(ClaimMatch.article_id == seed.id)).all()
    assert len(matched) >= 0.8 * len(kb.claims_from("seed-2021"))


def test_a_slow_live_workers_article_is_never_taken_from_it(
    service_env: dict[str, str],
    spawn: Spawn,
    site: CorpusSite,
    db_sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    """A download that outlives its lease four times over, while the sweeper runs every second
    and the rule for unclaimed rows fires after 3 s: the heartbeat keeps the lease, so no
    second task (the worker has a second, idle pool process) downloads it again."""
    lease_s = 3.0
    env = {
        **service_env,
        "MEDIAMON_ARTICLE_LEASE_S": str(lease_s),
        "MEDIAMON_ARTICLE_HEARTBEAT_S": "0.25",
        "MEDIAMON_SWEEP_INTERVAL_S": "1",
    }
    slow_path = "/articles/slow.html"
    arrived = threading.Event()
    done = threading.Event()
    body = seed_page(SEEDS_DIR / load_kb(DEFAULT_KB_PATH).sources["seed-2021"].file)

    def sweeps() -> int:
        return len(SWEEP_DONE.findall(worker_log(tmp_path, "worker.log")))

    def trickle() -> Iterable[bytes]:
        """Leading white space a byte a second (so no read timeout trips), until four leases
        have passed and the sweeper has run four times since the download began; then the page.
        At most TRICKLE_S, within the fetcher's whole-download deadline (60 s)."""
        started, swept = time.monotonic(), sweeps()
        while not done.is_set() and time.monotonic() - started < TRICKLE_S:
            if time.monotonic() - started >= 4 * lease_s and sweeps() >= swept + 4:
                break
            yield b" "
            done.wait(1.0)
        yield body

    def handler(request: Request) -> Response:
        arrived.set()
        return Response(200, trickle(), {"Content-Type": "text/html; charset=utf-8"})

    site.add_route(slow_path, handler)
    site.set_static(
        "/feeds/slow.rss",
        build_rss([FeedItem("slow", site.url(slow_path), guid="urn:faults:slow")]),
        content_type="application/rss+xml",
    )
    add_feed(db_sessions, site.url("/feeds/slow.rss"))

    spawn(env, "worker", "--concurrency", "2", "--hostname", "w1@%h", log="worker.log")
    spawn(env, "beat", "--schedule", str(tmp_path / "beat"), log="beat.log")
    try:
        if not arrived.wait(STARTED_S):
            pytest.fail(f"no worker fetched the slow article\n{log_tails(tmp_path)}")
        wait_for(lambda: all_processed(db_sessions, 1), PROCESSED_S, "the slow article processed", tmp_path)
    finally:
        done.set()

    with db_sessions() as session:
        article = session.scalars(select(Article)).one()
    assert article.state == ArticleState.DONE
    assert article.attempts == 1
    assert site.hits(slow_path) == 1, "downloaded once: nobody took the article from its live worker"
    log = worker_log(tmp_path, "worker.log")
    assert sweeps() >= 4, "the sweeper ran while the download went on"
    assert not LEASE_EXPIRED.search(log), "no lease ran out"


# --------------------------------------------------------------------------- 2. broker restarted


class PrivateRedis:
    """A ``redis-server`` of this test alone, keeping nothing on disk (a restart loses all)."""

    def __init__(self, logs: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is required for the broker fault test (apt install redis-server)")
        self.binary = binary
        self.logs = logs
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.logs / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                    *("--appendonly", "no", "--daemonize", "no", "--dir", str(self.logs)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            deadline = time.monotonic() + HELPER_S
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.process.poll() is not None:
                        pytest.fail(f"private redis-server did not start\n{log_tails(self.logs)}")
                    time.sleep(0.1)
        finally:
            client.close()

    def kill(self) -> None:
        if self.process is not None:
            stop(self.process, signal.SIGKILL)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def test_broker_restart_with_empty_queues_loses_no_accepted_entry(
    service_env: dict[str, str],
    spawn: Spawn,
    site: CorpusSite,
    db_sessions: sessionmaker[Session],
    private_redis: PrivateRedis,
    tmp_path: Path,
) -> None:
    env = {**service_env, "MEDIAMON_BROKER_URL": private_redis.url}
    pages = SlowPages(site, delay=1.5)
    pages.add_corpus(8)
    add_feed(db_sessions, pages.publish())

    spawn(env, "worker", "--concurrency", "2", "--hostname", "w1@%h", log="worker.log")
    spawn(env, "beat", "--schedule", str(tmp_path / "beat"), log="beat.log")
    if not pages.wait_in_flight(1):
        pytest.fail(f"no worker fetched an article\n{log_tails(tmp_path)}")
    assert unfinished(db_sessions) >= 4, "the broker must die with work queued and in flight"

    private_redis.kill()  # queued, unacked and scheduled messages are gone with it
    time.sleep(4)
    private_redis.start()  # same port, empty

    wait_for(
        lambda: all_processed(db_sessions, len(pages.items)), PROCESSED_S, "every article processed", tmp_path
    )
    time.sleep(2)
    pages.close()
    assert_processed_once(db_sessions, pages)


# --------------------------------------------------------------------------- 3. database refusing


@dataclass(eq=False)
class _Link:
    """One proxied connection, and what the server last said about its transaction."""

    client: socket.socket
    server: socket.socket
    pending: bytearray = field(default_factory=bytearray)  # server bytes not yet a whole message
    wrote: bool = False  # an INSERT/UPDATE/DELETE ran in the open transaction


_WRITES = (b"INSERT", b"UPDATE", b"DELETE")


class RefusingProxy:
    """A TCP proxy to PostgreSQL that can refuse: drop every connection and stop listening.

    One thread accepts (and owns the listening socket, closing and reopening it on the same
    port); each proxied connection has two pump threads. Refusing resets the clients'
    connections (RST) and closes the upstream ones, so the server rolls their transactions back.

    The proxy reads the server's side of the protocol (type byte + length framing;
    CommandComplete tags, ReadyForQuery transaction status) so :meth:`cut_mid_write` can start
    refusing at the worst moment: a transaction has written rows and not committed, and the
    client still waits for the answer to its write.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.tripped = threading.Event()
        self._serving = True
        self._armed = False
        self._stopped = False
        self._listening = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name="pg-proxy", daemon=True)

    def url_for(self, direct: URL) -> str:
        """``direct`` through the proxy, in plain text (no TLS/GSS negotiation to frame around)."""
        proxied = direct.set(host="127.0.0.1", port=self.port).update_query_dict(
            {"sslmode": "disable", "gssencmode": "disable"}
        )
        return proxied.render_as_string(hide_password=False)

    def __enter__(self) -> RefusingProxy:
        self._acceptor.start()
        if not self._listening.wait(HELPER_S):
            raise RuntimeError("proxy did not start listening")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped = True
        self._acceptor.join(timeout=5)
        self._drop_all()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._links)

    def cut_mid_write(self) -> None:
        """Refuse (as :meth:`refuse`) as soon as a transaction has written and not committed."""
        with self._lock:
            self._armed = True

    def refuse(self) -> None:
        # ``_closed`` is cleared when the listener opens, not here: a mid-write trip may have
        # closed it already, and then it must not be waited for a second time.
        with self._lock:
            self._serving = False
        if not self._closed.wait(HELPER_S):
            raise RuntimeError("proxy did not stop listening")
        self._drop_all()

    def restore(self) -> None:
        self._listening.clear()
        with self._lock:
            self._serving = True
        if not self._listening.wait(HELPER_S):
            raise RuntimeError("proxy did not listen again")

    # ---- threads

    def _accept_loop(self) -> None:
        listener: socket.socket | None = None
        try:
            while not self._stopped:
                if self._serving and listener is None:
                    listener = socket.socket()
                    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    listener.bind(("127.0.0.1", self.port))
                    listener.listen(64)
                    listener.settimeout(0.05)
                    self._closed.clear()
                    self._listening.set()
                elif not self._serving and listener is not None:
                    listener.close()
                    listener = None
                    self._closed.set()
                if listener is None:
                    time.sleep(0.05)
                    continue
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                self._connect(client)
        finally:
            if listener is not None:
                listener.close()

    def _connect(self, client: socket.socket) -> None:
        client.settimeout(None)
        try:
            server = socket.create_connection(self.upstream, timeout=HELPER_S)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        link = _Link(client, server)
        with self._lock:
            accepted = self._serving
            if accepted:
                self._links.add(link)
        if not accepted:  # refusing began while this one was being accepted
            _close(link, reset=True)
            return
        for source, target, watch in ((client, server, False), (server, client, True)):
            thread = threading.Thread(target=self._pump, args=(link, source, target, watch), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _pump(self, link: _Link, source: socket.socket, target: socket.socket, watch: bool) -> None:
        try:
            while data := source.recv(65536):
                if watch and self._mid_write(link, data):
                    self._trip()  # the answer to the write is never forwarded
                    break
                target.sendall(data)
        except OSError:
            pass
        self._drop(link, reset=False)

    def _mid_write(self, link: _Link, data: bytes) -> bool:
        """Follow the server's messages; True when armed and a written transaction is open."""
        buffer = link.pending
        buffer += data
        found = False
        while len(buffer) >= 5:
            end = 1 + int.from_bytes(buffer[1:5], "big")
            if len(buffer) < end:
                break
            kind, body = buffer[0], bytes(buffer[5:end])
            del buffer[:end]
            if kind == ord("C") and body.startswith(_WRITES):  # CommandComplete
                link.wrote = True
            elif kind == ord("Z"):  # ReadyForQuery: I idle, T in a transaction, E failed one
                if body[:1] == b"T" and link.wrote and self._armed:
                    found = True
                elif body[:1] == b"I":
                    link.wrote = False
        return found

    def _trip(self) -> None:
        with self._lock:
            self._armed = False
            self._serving = False
        self.tripped.set()
        self._drop_all()

    def _drop(self, link: _Link, *, reset: bool) -> None:
        with self._lock:
            if link not in self._links:
                return
            self._links.discard(link)
        _close(link, reset=reset)

    def _drop_all(self) -> None:
        with self._lock:
            links = list(self._links)
        for link in links:
            self._drop(link, reset=True)


def _close(link: _Link, *, reset: bool) -> None:
    if reset:  # the client sees "connection reset", not a polite end of stream
        with contextlib.suppress(OSError):
            link.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    for sock in (link.client, link.server):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes the other pump thread
        sock.close()


def test_database_refusing_connections_mid_write_loses_and_duplicates_nothing(
    service_env: dict[str, str],
    spawn: Spawn,
    site: CorpusSite,
    db_sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    direct = make_url(service_env["MEDIAMON_DATABASE_URL"])
    pages = SlowPages(site, delay=2.0)
    pages.add_corpus(8)
    add_feed(db_sessions, pages.publish())

    with RefusingProxy((direct.host or "127.0.0.1", direct.port or 5432)) as proxy:
        env = {**service_env, "MEDIAMON_DATABASE_URL": proxy.url_for(direct)}
        spawn(env, "worker", "--concurrency", "2", "--hostname", "w1@%h", log="worker.log")
        spawn(env, "beat", "--schedule", str(tmp_path / "beat"), log="beat.log")
        # Both pool processes downloading: both are past start-up (their knowledge-base sync
        # writes too), so the next transaction that writes is an article's.
        if not pages.wait_in_flight(2):
            pytest.fail(f"the two worker processes never downloaded at once\n{log_tails(tmp_path)}")
        assert proxy.connections > 0, "the worker talks to PostgreSQL through the proxy"

        proxy.cut_mid_write()
        if not proxy.tripped.wait(STARTED_S):
            pytest.fail(f"no write transaction went through the proxy\n{log_tails(tmp_path)}")
        proxy.refuse()
        assert unfinished(db_sessions) >= 4, "the database went away with work in flight"
        time.sleep(5)
        assert not all_processed(db_sessions, len(pages.items))
        proxy.restore()

        wait_for(
            lambda: all_processed(db_sessions, len(pages.items)),
            PROCESSED_S,
            "every article processed",
            tmp_path,
        )
        time.sleep(2)
        pages.close()
    assert_processed_once(db_sessions, pages)
    logs = (tmp_path / "worker.log").read_text(errors="replace")
    assert "OperationalError" in logs, "the outage was seen (and retried) by the tasks"


# --------------------------------------------------------------------------- 4. unreadable messages

#: What a worker may find on its queues besides task messages: not JSON; JSON that is not a
#: kombu envelope; an envelope whose task body is not base64 as its properties say.
UNREADABLE = {
    "fetch": "hello",
    "feeds": json.dumps({"task": "workers.tasks.poll_feed", "args": [1]}),
    "extract": json.dumps(
        {
            "body": "%%% not base64 %%%",
            "content-type": "application/json",
            "content-encoding": "utf-8",
            "headers": {"task": "workers.tasks.extract_article", "id": "forged"},
            "properties": {
                "body_encoding": "base64",
                "delivery_tag": "forged",
                "delivery_info": {"exchange": "extract", "routing_key": "extract"},
            },
        }
    ),
}


def test_unreadable_messages_are_set_aside_and_the_worker_goes_on(
    service_env: dict[str, str],
    spawn: Spawn,
    site: CorpusSite,
    db_sessions: sessionmaker[Session],
    broker_namespace: tuple[redis.Redis, str],
    tmp_path: Path,
) -> None:
    broker, prefix = broker_namespace  # the service's keys: MEDIAMON_BROKER_KEY_PREFIX
    for queue, payload in UNREADABLE.items():  # waiting before the worker starts: it meets them first
        broker.lpush(f"{prefix}{queue}", payload)
    pages = SlowPages(site, delay=0.0)
    pages.add_corpus(3)
    add_feed(db_sessions, pages.publish())

    worker = spawn(service_env, "worker", "--concurrency", "1", "--hostname", "w1@%h", log="worker.log")
    spawn(service_env, "beat", "--schedule", str(tmp_path / "beat"), log="beat.log")
    wait_for(
        lambda: all_processed(db_sessions, len(pages.items)), PROCESSED_S, "every article processed", tmp_path
    )

    assert worker.poll() is None, f"the worker stopped\n{log_tails(tmp_path)}"
    assert_processed_once(db_sessions, pages)
    kept = {p.decode() if isinstance(p, bytes) else p for p in broker.lrange(quarantine_key(prefix), 0, -1)}
    # Kept whole for a person to read (the non-JSON one byte for byte, the others as JSON).
    assert "hello" in kept
    assert {json.dumps(json.loads(p), sort_keys=True) for p in kept if p != "hello"} == {
        json.dumps(json.loads(UNREADABLE[q]), sort_keys=True) for q in ("feeds", "extract")
    }
    # Messages in flight (the beat dispatches every second) are rightly unacknowledged; none of
    # them may be one of the unreadable ones, or it would be restored to a queue on shutdown.
    in_flight = [json.loads(v)[0] for v in broker.hvals(f"{prefix}unacked")]
    tags = {m.get("properties", {}).get("delivery_tag") for m in in_flight if isinstance(m, dict)}
    assert "forged" not in tags, "nothing unreadable waits to be restored to a queue"
    assert not any(m.get("body") == "%%% not base64 %%%" for m in in_flight if isinstance(m, dict))
    stop(worker)
    log = (tmp_path / "worker.log").read_text()
    assert "Unrecoverable error" not in log
    assert log.count("set aside an unreadable broker message") == 3
