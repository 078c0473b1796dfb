"""A real local web site built from the shared test corpus, for HTTP, feed and pipeline tests.

:class:`CorpusSite` runs a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a
daemon thread. It serves the saved corpus pages, RSS/Atom feeds linking to them, the raw
feedparser test documents, and routes that misbehave on purpose (redirect chains, slow,
oversize and compressed-bomb bodies, error statuses, flaky answers, odd charsets).

Routes (``site.url(path)`` makes an absolute URL)::

    /pages/<file>                     corpus page, text/html, ETag + Last-Modified, 304 on match
    /feeds/corpus.rss[?n=10&utm=1]    RSS 2.0 over the manifest (n entries; utm=1 adds utm_* params)
    /feeds/corpus.atom[?n=..&utm=1]   Atom 1.0, same entries; both honour If-None-Match/-Modified-Since
    /feedparser/<relative path>       raw file from corpus/feeds/feedparser-tests (application/xml)
    /redirect/<n>/<target path>       n chained 302 hops, then <target path> (query kept)
    /redirect-to?url=<absolute URL>   one 302 to any URL (SSRF tests)
    /slow?seconds=S                   sleeps S seconds (at most 10) before answering
    /oversize?mb=N                    streams N MiB without Content-Length (at most 256)
    /oversize-declared?mb=N           Content-Length claims N MiB, only a little is sent
    /gzip-bomb                        ~50 kB gzip body inflating to 50 MiB (Content-Encoding: gzip)
    /status/<code>[?retry_after=X]    answers with that status (and Retry-After if given)
    /flaky/<key>?fail=K&code=503      fails K times (per key) with ``code``, then serves a page
    /latin1                           article page in ISO-8859-1 (charset only in the header)
    /brotli                           a corpus page with Content-Encoding: br

Every request is counted per path (query excluded): :meth:`CorpusSite.hits`. Tests add or
replace routes at runtime with :meth:`CorpusSite.add_route` / :meth:`CorpusSite.set_static`.
Only stdlib + ``brotli``: the benchmark in ``bench/`` imports this module too.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import hashlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape, quoteattr

import brotli

CORPUS_DIR = Path(__file__).resolve().parents[3] / "shared" / "corpus"
PAGES_DIR = CORPUS_DIR / "pages"
FEEDPARSER_DIR = CORPUS_DIR / "feeds" / "feedparser-tests"

#: Newest entry date of the corpus feeds; entry i is published i hours earlier.
FEED_EPOCH = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
#: Last-Modified of every corpus page (fixed, so conditional GETs are reproducible).
PAGES_LAST_MODIFIED = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)

MIB = 1024 * 1024
MAX_SLOW_SECONDS = 10.0
MAX_OVERSIZE_MB = 256
GZIP_BOMB_MIB = 50

_CONNECTION_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)

LATIN1_TEXT = (
    "Le café de la gare a rouvert ses portes après une longue rénovation. Les habitués "
    "racontent que l'été dernier, la façade était couverte d'échafaudages et que le "
    "propriétaire, Günther Müller, avait promis une réouverture avant Noël. "
    "Über zwanzig Jahre führt er das Lokal nun schon; die Gäste schätzen vor allem den "
    "Kuchen, die Ruhe und die freundliche Bedienung. « Nous voulions garder l'âme du lieu », "
    "explique-t-il, en montrant les carreaux d'origine restaurés à la main. "
    "La municipalité a financé une partie des travaux, ce qui a suscité des débats animés "
    "au conseil, mais la plupart des riverains se réjouissent de retrouver leur café préféré."
)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Request:
    """What a route handler sees of one request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    """What a route handler returns. ``body`` may be an iterator of chunks (then it is streamed
    without Content-Length unless ``headers`` sets one, and the connection is closed after)."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


@dataclass
class StreamRecord:
    """How far a streamed body got before the client hung up (or not)."""

    path: str
    total: int
    sent: int = 0
    aborted: bool = False
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str
    guid: str | None = None
    summary: str | None = None
    published: datetime | None = None
    guid_is_permalink: bool = False


# --------------------------------------------------------------------------- feed builders


def _as_item(item: FeedItem | Mapping[str, Any]) -> FeedItem:
    if isinstance(item, FeedItem):
        return item
    published = item.get("published", item.get("pubDate"))
    return FeedItem(
        title=str(item["title"]),
        link=str(item["link"]),
        guid=item.get("guid"),
        summary=item.get("summary"),
        published=published,
        guid_is_permalink=bool(item.get("guid_is_permalink", False)),
    )


def http_date(moment: datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)


def build_rss(
    items: Sequence[FeedItem | Mapping[str, Any]],
    *,
    title: str = "mediamon test feed",
    link: str = "http://127.0.0.1/",
    ttl: int | None = None,
) -> bytes:
    """An RSS 2.0 document with the given items (dict keys: title, link, guid, summary, pubDate)."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0">',
        "<channel>",
        f"<title>{escape(title)}</title>",
        f"<link>{escape(link)}</link>",
        "<description>Generated by tests/support/corpus_site.py</description>",
    ]
    if ttl is not None:
        out.append(f"<ttl>{ttl}</ttl>")
    for raw in items:
        item = _as_item(raw)
        out.append("<item>")
        out.append(f"<title>{escape(item.title)}</title>")
        out.append(f"<link>{escape(item.link)}</link>")
        if item.guid is not None:
            permalink = "true" if item.guid_is_permalink else "false"
            out.append(f'<guid isPermaLink="{permalink}">{escape(item.guid)}</guid>')
        if item.summary is not None:
            out.append(f"<description>{escape(item.summary)}</description>")
        if item.published is not None:
            out.append(f"<pubDate>{http_date(item.published)}</pubDate>")
        out.append("</item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out).encode("utf-8")


def build_atom(
    items: Sequence[FeedItem | Mapping[str, Any]],
    *,
    title: str = "mediamon test feed",
    link: str = "http://127.0.0.1/",
    feed_id: str = "urn:mediamon:test-feed",
) -> bytes:
    """An Atom 1.0 document with the given items (same keys as :func:`build_rss`)."""
    parsed = [_as_item(raw) for raw in items]
    dates = [item.published for item in parsed if item.published is not None]
    updated = max(dates) if dates else FEED_EPOCH
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title>",
        f"<link href={quoteattr(link)}/>",
        f"<id>{escape(feed_id)}</id>",
        f"<updated>{updated.astimezone(UTC).isoformat()}</updated>",
    ]
    for item in parsed:
        out.append("<entry>")
        out.append(f"<title>{escape(item.title)}</title>")
        out.append(f'<link rel="alternate" href={quoteattr(item.link)}/>')
        out.append(f"<id>{escape(item.guid or item.link)}</id>")
        stamp = (item.published or updated).astimezone(UTC).isoformat()
        if item.published is not None:
            out.append(f"<published>{stamp}</published>")
        out.append(f"<updated>{stamp}</updated>")
        if item.summary is not None:
            out.append(f"<summary>{escape(item.summary)}</summary>")
        out.append("</entry>")
    out += ["</feed>", ""]
    return "\n".join(out).encode("utf-8")


# --------------------------------------------------------------------------- corpus data


@cache
def load_manifest() -> tuple[dict[str, Any], ...]:
    """The corpus manifest (one dict per page), read once."""
    data = json.loads((PAGES_DIR / "manifest.json").read_text(encoding="utf-8"))
    return tuple(data)


def page_title(file_name: str) -> str:
    return file_name.removesuffix(".html")


def corpus_items(base_url: str, n: int | None = None, *, utm: bool = False) -> list[FeedItem]:
    """Feed items for the first ``n`` manifest pages, newest first, linking to ``base_url``."""
    manifest = load_manifest()
    chosen = manifest if n is None else manifest[: max(0, n)]
    items = []
    for index, page in enumerate(chosen):
        link = f"{base_url}/pages/{quote(page['file'])}"
        if utm:
            link += "?utm_source=rss&utm_medium=feed&utm_campaign=corpus"
        items.append(
            FeedItem(
                title=page_title(page["file"]),
                link=link,
                guid=f"urn:mediamon-corpus:{page['file']}",
                summary=f"Saved page from {page['url']}",
                published=FEED_EPOCH - timedelta(hours=index),
            )
        )
    return items


@cache
def gzip_bomb() -> bytes:
    """Gzip of 50 MiB of zeros (about 50 kB), built once per process."""
    return gzip.compress(b"\0" * (GZIP_BOMB_MIB * MIB), compresslevel=9, mtime=0)


def latin1_page() -> bytes:
    html = (
        "<!DOCTYPE html>\n<html><head><title>Le café rouvert</title></head><body>"
        "<nav><a href='/'>Accueil</a> | <a href='/contact'>Contact</a></nav>"
        "<article><h1>Le café de la gare rouvre après l'été</h1>"
        + "".join(f"<p>{sentence.strip()}.</p>" for sentence in LATIN1_TEXT.split(". ") if sentence)
        + "</article><footer>© Gazette de Test</footer></body></html>"
    )
    return html.encode("iso-8859-1")


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        tags = {tag.strip().removeprefix("W/") for tag in inm.split(",")}
        return "*" in tags or etag in tags
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            since = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since
    return False


def _conditional(request: Request, body: bytes, content_type: str, last_modified: datetime) -> Response:
    etag = _etag(body)
    headers = {"ETag": etag, "Last-Modified": http_date(last_modified), "Content-Type": content_type}
    if _not_modified(request, etag, last_modified):
        return Response(304, b"", headers)
    return Response(200, body, headers)


# --------------------------------------------------------------------------- the site


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    site: CorpusSite

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-body is what several tests do on purpose; stay quiet.
        return


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CorpusSite/1.0"
    timeout = 15  # idle keep-alive connections do not outlive a test run
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        self.server.site._track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.site._track(self.connection, open_=False)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        site = self.server.site
        site._count(request.path)
        try:
            response = site._dispatch(request)
        except Exception as exc:  # a bug in a route must show up as a 500, not a hung client
            response = Response(500, f"route failed: {type(exc).__name__}: {exc}".encode(), {})
        self._send(request, response)

    def _send(self, request: Request, response: Response) -> None:
        headers = {k.lower(): v for k, v in response.headers.items()}
        streamed = not isinstance(response.body, bytes)
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if "content-type" not in headers:
                self.send_header("Content-Type", "text/plain; charset=utf-8")
            if isinstance(response.body, bytes):
                if "content-length" not in headers:
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if response.status != 304:
                    self.wfile.write(response.body)
                return
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
            for chunk in response.body:
                self.wfile.write(chunk)
        except _CONNECTION_ERRORS:
            self.close_connection = True
        finally:
            if streamed and hasattr(response.body, "close"):
                response.body.close()


class CorpusSite:
    """The local corpus web site. Use as a context manager or call :meth:`start`/:meth:`stop`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._hits: Counter[str] = Counter()
        self._flaky: Counter[str] = Counter()
        self._routes: dict[str, Handler] = {}
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self.streams: list[StreamRecord] = []

    # ---- lifecycle

    def start(self) -> CorpusSite:
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _RequestHandler)
        server.site = self
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="corpus-site", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes /slow sleepers
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # unblock handler threads waiting on keep-alive reads
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> CorpusSite:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- addresses and counters

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("CorpusSite is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def hits(self, path: str) -> int:
        """Requests seen for ``path`` (query string ignored)."""
        with self._lock:
            return self._hits[urlsplit(path).path]

    def total_hits(self) -> int:
        with self._lock:
            return sum(self._hits.values())

    def reset_counts(self) -> None:
        with self._lock:
            self._hits.clear()
            self._flaky.clear()

    # ---- runtime routes

    def add_route(self, path: str, handler: Handler) -> None:
        """Serve ``path`` (exact match, query ignored) with ``handler``; replaces built-ins."""
        with self._lock:
            self._routes[path] = handler

    def set_static(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        conditional: bool = False,
    ) -> None:
        """Serve fixed bytes at ``path`` (with ETag/Last-Modified and 304s if ``conditional``)."""

        def handler(request: Request) -> Response:
            if conditional:
                response = _conditional(request, body, content_type, PAGES_LAST_MODIFIED)
            else:
                response = Response(status, body, {"Content-Type": content_type})
            response.headers.update(headers or {})
            return response

        self.add_route(path, handler)

    def remove_route(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    # ---- internals used by the handler

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _count(self, path: str) -> None:
        with self._lock:
            self._hits[path] += 1

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            custom = self._routes.get(request.path)
        if custom is not None:
            return custom(request)
        path = request.path
        if path.startswith("/pages/"):
            return self._page(request, path.removeprefix("/pages/"))
        if path in ("/feeds/corpus.rss", "/feeds/corpus.atom"):
            return self._corpus_feed(request, atom=path.endswith(".atom"))
        if path.startswith("/feedparser/"):
            return self._feedparser_file(path.removeprefix("/feedparser/"))
        if path.startswith("/redirect/"):
            return self._redirect_chain(request)
        if path == "/redirect-to":
            target = request.arg("url")
            if not target:
                return Response(400, b"url parameter required")
            return Response(302, b"", {"Location": target})
        if path == "/slow":
            return self._slow(request)
        if path == "/oversize":
            return self._oversize(request)
        if path == "/oversize-declared":
            mb = self._bounded_mb(request)
            return Response(
                200,
                iter([b"x" * 1024]),
                {"Content-Type": "text/html", "Content-Length": str(mb * MIB)},
            )
        if path == "/gzip-bomb":
            return Response(200, gzip_bomb(), {"Content-Type": "text/html", "Content-Encoding": "gzip"})
        if path.startswith("/status/"):
            return self._status(request, path.removeprefix("/status/"))
        if path.startswith("/flaky/"):
            return self._flaky_route(request, path.removeprefix("/flaky/"))
        if path == "/latin1":
            return Response(200, latin1_page(), {"Content-Type": "text/html; charset=iso-8859-1"})
        if path == "/brotli":
            body = (PAGES_DIR / load_manifest()[0]["file"]).read_bytes()
            return Response(
                200,
                brotli.compress(body),
                {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "br"},
            )
        return Response(404, b"not found")

    def _page(self, request: Request, name: str) -> Response:
        file = _safe_child(PAGES_DIR, name)
        if file is None or file.suffix != ".html":
            return Response(404, b"no such page")
        return _conditional(request, file.read_bytes(), "text/html", PAGES_LAST_MODIFIED)

    def _corpus_feed(self, request: Request, *, atom: bool) -> Response:
        n_arg = request.arg("n")
        n = int(n_arg) if n_arg and n_arg.isdigit() else None
        utm = request.arg("utm", "0") not in ("0", "", "false")
        items = corpus_items(self.base_url, n, utm=utm)
        if atom:
            body = build_atom(items, title="mediamon corpus", link=self.base_url + "/")
            content_type = "application/atom+xml; charset=utf-8"
        else:
            body = build_rss(items, title="mediamon corpus", link=self.base_url + "/")
            content_type = "application/rss+xml; charset=utf-8"
        return _conditional(request, body, content_type, FEED_EPOCH)

    def _feedparser_file(self, relative: str) -> Response:
        file = _safe_child(FEEDPARSER_DIR, relative)
        if file is None:
            return Response(404, b"no such feed")
        return Response(200, file.read_bytes(), {"Content-Type": "application/xml"})

    def _redirect_chain(self, request: Request) -> Response:
        _, _, rest = request.path.partition("/redirect/")
        count, _, target = rest.partition("/")
        if not count.isdigit():
            return Response(400, b"bad hop count")
        query = urlsplit(request.path).query or "&".join(
            f"{quote(k)}={quote(v)}" for k, values in request.query.items() for v in values
        )
        suffix = f"?{query}" if query else ""
        hops = int(count)
        location = f"/redirect/{hops - 1}/{target}" if hops > 1 else f"/{target}"
        return Response(302, b"", {"Location": location + suffix})

    def _slow(self, request: Request) -> Response:
        try:
            seconds = float(request.arg("seconds", "1") or "1")
        except ValueError:
            seconds = 1.0
        self._stopping.wait(min(max(seconds, 0.0), MAX_SLOW_SECONDS))
        return Response(200, b"<html><body><p>finally</p></body></html>", {"Content-Type": "text/html"})

    @staticmethod
    def _bounded_mb(request: Request) -> int:
        raw = request.arg("mb", "10") or "10"
        return min(max(int(raw) if raw.isdigit() else 10, 1), MAX_OVERSIZE_MB)

    def _oversize(self, request: Request) -> Response:
        total = self._bounded_mb(request) * MIB
        record = StreamRecord(path=request.path, total=total)
        with self._lock:
            self.streams.append(record)
        return Response(200, _stream_zeros(record, self._stopping), {"Content-Type": "text/html"})

    def _status(self, request: Request, code_text: str) -> Response:
        if not code_text.isdigit() or not 100 <= int(code_text) <= 599:
            return Response(400, b"bad status")
        code = int(code_text)
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        retry_after = request.arg("retry_after")
        if retry_after:
            headers["Retry-After"] = retry_after
        return Response(code, f"status {code}".encode(), headers)

    def _flaky_route(self, request: Request, key: str) -> Response:
        fail_arg = request.arg("fail", "1") or "1"
        code_arg = request.arg("code", "503") or "503"
        fails = int(fail_arg) if fail_arg.isdigit() else 1
        code = int(code_arg) if code_arg.isdigit() else 503
        with self._lock:
            self._flaky[key] += 1
            seen = self._flaky[key]
        if seen <= fails:
            return Response(code, f"failure {seen} of {fails}".encode(), {})
        body = (PAGES_DIR / load_manifest()[0]["file"]).read_bytes()
        return Response(200, body, {"Content-Type": "text/html"})


def _stream_zeros(record: StreamRecord, stopping: threading.Event) -> Iterator[bytes]:
    chunk = b"0" * (64 * 1024)
    try:
        while record.sent < record.total and not stopping.is_set():
            piece = chunk[: record.total - record.sent]
            yield piece
            record.sent += len(piece)
        record.aborted = record.sent < record.total
    except GeneratorExit:
        record.aborted = True
        raise
    finally:
        record.done.set()


def _safe_child(root: Path, relative: str) -> Path | None:
    """``root / relative`` if it is an existing file inside ``root`` (no ``..`` escapes)."""
    candidate = (root / relative).resolve()
    if not candidate.is_file() or not candidate.is_relative_to(root.resolve()):
        return None
    return candidate
