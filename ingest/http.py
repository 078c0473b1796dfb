"""The one HTTP client: limits, conditional GET, SSRF guard (``ingest.ssrf``), retries, politeness.

Every byte mediamon downloads goes through :meth:`Fetcher.fetch`. It never raises for
anything a remote server can do; it returns a :class:`FetchResult` whose ``error`` says
what went wrong, so callers record the failure as data.

Errors (``FetchResult.error_kind``)::

    refused      the target resolves to a private/loopback/link-local address, or the URL
                 is not http(s): never retried
    too_large    the body (after decompression) is over the limit: never retried
    encoding     the body's Content-Encoding is not one we decode (``ingest.decoding``: not
                 asked for, unknown inside a stack, too many stacked) or its compressed data
                 is corrupt: never retried
    redirects    more redirect hops than allowed
    http         a status >= 400 after retries (``status`` says which; the error text shows
                 a ``Retry-After`` wait)
    network      DNS, connect, read or TLS failure, a timeout, or a server breaking the
                 protocol (too many 1xx responses), after retries. The text says which limit
                 was hit: the per-read timeout ("no data for 20 s (read timeout)"), or the
                 fetch's deadline ("no complete response within 60 s (headers still
                 arriving)", "the whole body took longer than 60 s")
    host_busy    no politeness slot for the host within the gate's wait limit: not retried
                 here (the wait already happened), a soft failure for the caller

Time: one wall-clock deadline (``download_timeout``) per fetch, from the moment its first
request holds its politeness slot to the last body byte, over connect, TLS, response headers,
informational (1xx) responses, body, redirects and retries; it is enforced at the socket
(``ingest.deadline``), so a server sending a byte a second cannot stretch it. At most
``max_informational`` 1xx responses are accepted before the final one.

Retries: 429 and 5xx responses and network errors are retried with exponential backoff,
honouring ``Retry-After`` up to ``max_retry_wait``, as long as the deadline leaves time; a
longer ``Retry-After`` is returned to the caller (``retry_after``) so the scheduler, not a
sleeping worker, waits it out.

Bodies are read raw and decoded here with a bound on the output (``ingest.decoding``), so no
compression ratio or stack of codings gets past ``max_bytes``.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from ingest.deadline import Budget, DeadlineBackend, DeadlineExceeded, TooManyInformational, request_budget
from ingest.decoding import ACCEPT_ENCODING, BoundedDecoder, EncodingRefused, OutputTooLarge
from ingest.ssrf import FetchRefused, Unresolvable, check_target, guarded_transport

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one kind of download (feeds and pages get their own maximum size)."""

    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    # A whole fetch (connect, headers, 1xx responses, body, redirects, retries) must end
    # within this: a server trickling a byte per read timeout cannot hold a worker (or a
    # politeness slot) for ever.
    download_timeout: float = 60.0
    # Informational (1xx) responses accepted before the final one (103 Early Hints may come
    # more than once; an endless stream of them is an attack or a broken server).
    max_informational: int = 10
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 0.5
    max_retry_wait: float = 30.0
    per_host_concurrency: int = 2
    allowed_private_hosts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int | None = None
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    error_kind: str | None = None
    retry_after: float | None = None
    elapsed_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def fresh_for_s(self) -> float | None:
        """How long the server says the response stays fresh (``Cache-Control: max-age``, else
        ``Expires`` minus ``Date``); the scheduler never polls sooner than that."""
        for directive in self.headers.get("cache-control", "").lower().split(","):
            name, _, value = directive.strip().partition("=")
            if name in ("max-age", "s-maxage") and value.strip('"').isdigit():
                return float(value.strip('"'))
        expires = self.headers.get("expires")
        if expires:
            try:
                until = email.utils.parsedate_to_datetime(expires)
                sent = (
                    email.utils.parsedate_to_datetime(self.headers.get("date", ""))
                    if "date" in self.headers
                    else None
                )
            except (TypeError, ValueError):
                return None
            reference = sent.timestamp() if sent else time.time()
            return max(0.0, until.timestamp() - reference)
        return None

    @property
    def charset(self) -> str | None:
        """The charset the server declared, if any (``None`` lets the parser sniff)."""
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"'").lower()
        return None


class _TooLarge(Exception):
    pass


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


class PolitenessTimeout(Exception):
    """No slot for a host became free within a gate's wait limit; :meth:`Fetcher.fetch` turns
    it into a ``host_busy`` result, so the caller records it like any other failure."""


class HostGate(Protocol):
    """Politeness per host: ``slot(host)`` blocks until a request to ``host`` may start and
    holds the slot while it runs. :class:`HostLimiter` does it within one process; the
    service passes a gate shared by every worker (``ingest.politeness.RedisHostGate``)."""

    def slot(self, host: str) -> AbstractContextManager[None]: ...


class HostLimiter:
    """At most N requests in flight per host within this process."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._lock:
            semaphore = self._semaphores.setdefault(host, threading.BoundedSemaphore(self._per_host))
        with semaphore:
            yield


class Fetcher:
    """Downloads with limits. Thread-safe; share one per process.

    ``client`` is injected so tests and the benchmark can pass their own; it must not follow
    redirects itself (the fetcher follows them so it can check every hop). Without the
    fetcher's own transport (``ingest.deadline.DeadlineBackend``) the deadline is only
    checked between body chunks.
    """

    def __init__(
        self,
        policy: FetchPolicy,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        host_gate: HostGate | None = None,
    ) -> None:
        self.policy = policy
        self._client = client or httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
            # Only codings ingest.decoding can decode with a bound on the output.
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            transport=guarded_transport(
                httpx.Limits(max_connections=64, max_keepalive_connections=16),
                policy.allowed_private_hosts,
                wrap=DeadlineBackend,
            ),
            trust_env=False,
        )
        self._owns_client = client is None
        self._limiter: HostGate = host_gate or HostLimiter(policy.per_host_concurrency)
        self._sleep = sleep

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        max_bytes: int | None = None,
        accept: str = "*/*",
    ) -> FetchResult:
        """GET ``url`` following redirects, with retries. Never raises for remote failures."""
        started = time.monotonic()
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        limit = self.policy.max_bytes if max_bytes is None else max_bytes
        clock = _Clock()
        attempt = 0
        while True:
            result = self._follow(url, headers, limit, clock)
            retryable = result.error_kind == "network" or (
                result.error_kind == "http" and result.status in RETRYABLE_STATUSES
            )
            if not retryable or attempt >= self.policy.retries:
                break
            wait = self.policy.backoff * (2**attempt)
            if result.retry_after is not None:
                if result.retry_after > self.policy.max_retry_wait:
                    break  # the scheduler waits this out, not a worker thread
                wait = max(wait, result.retry_after)
            if clock.deadline is not None and time.monotonic() + wait >= clock.deadline:
                break  # no time left for another try within this fetch's deadline
            self._sleep(wait)
            attempt += 1
        elapsed = int((time.monotonic() - started) * 1000)
        return replace(result, elapsed_ms=elapsed)

    def _follow(self, url: str, headers: dict[str, str], limit: int, clock: _Clock) -> FetchResult:
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            try:
                # refused early with a clear reason, or at connect time (GuardedBackend)
                check_target(current, self.policy.allowed_private_hosts)
                result = self._get_once(url, current, headers, limit, clock)
            except FetchRefused as exc:
                return FetchResult(url, current, error=str(exc), error_kind="refused")
            except Unresolvable as exc:
                return FetchResult(url, current, error=str(exc), error_kind="network")
            if result.status in REDIRECT_STATUSES and "location" in result.headers:
                target = urljoin(current, result.headers["location"])
                if urlsplit(target).netloc != urlsplit(current).netloc:
                    # Validators belong to the original host; never hand them to another one.
                    headers = {k: v for k, v in headers.items() if not k.startswith("If-")}
                current = target
                continue
            return result
        return FetchResult(
            url, current, error=f"more than {self.policy.max_redirects} redirects", error_kind="redirects"
        )

    def _get_once(
        self, url: str, current: str, headers: dict[str, str], limit: int, clock: _Clock
    ) -> FetchResult:
        host = urlsplit(current).hostname or ""
        policy = self.policy
        try:
            with self._limiter.slot(host):
                if clock.deadline is None:  # the clock starts when the first request may go
                    clock.deadline = time.monotonic() + policy.download_timeout
                budget_cm = request_budget(policy.download_timeout, policy.max_informational, clock.deadline)
                with budget_cm as budget, self._client.stream("GET", current, headers=headers) as response:
                    budget.phase = "body"
                    return self._read_response(url, current, response, limit, budget)
        except PolitenessTimeout as exc:
            return FetchResult(url, current, error=str(exc), error_kind="host_busy")
        except (_TooLarge, OutputTooLarge):
            return FetchResult(url, current, error=f"body larger than {limit} bytes", error_kind="too_large")
        except EncodingRefused as exc:
            return FetchResult(url, current, error=str(exc), error_kind="encoding")
        except (DeadlineExceeded, TooManyInformational) as exc:
            return FetchResult(url, current, error=str(exc), error_kind="network")
        except httpx.ReadTimeout:
            error = f"no data for {policy.read_timeout:g} s (read timeout)"
            return FetchResult(url, current, error=error, error_kind="network")
        except httpx.ConnectTimeout:
            error = f"no connection within {policy.connect_timeout:g} s (connect timeout)"
            return FetchResult(url, current, error=error, error_kind="network")
        except httpx.TimeoutException as exc:
            return FetchResult(url, current, error=f"timeout: {type(exc).__name__}", error_kind="network")
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
            return FetchResult(url, current, error=f"{type(exc).__name__}: {exc}", error_kind="network")

    def _read_response(
        self, url: str, current: str, response: httpx.Response, limit: int, budget: Budget
    ) -> FetchResult:
        response_headers = {k.lower(): v for k, v in response.headers.items()}
        status = response.status_code
        base = FetchResult(
            url,
            current,
            status=status,
            headers=response_headers,
            etag=response_headers.get("etag"),
            last_modified=response_headers.get("last-modified"),
        )
        if status in REDIRECT_STATUSES or status == 304:
            return base
        if status >= 400:
            retry_after = parse_retry_after(response_headers.get("retry-after"))
            error = f"HTTP {status}"
            if retry_after is not None:
                error += f" (retry after {retry_after:.0f} s)"
            return replace(base, error=error, error_kind="http", retry_after=retry_after)
        declared = response_headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        return replace(base, content=_read_limited(response, limit, budget))


@dataclass
class _Clock:
    """The deadline of one fetch, set when its first request gets its politeness slot."""

    deadline: float | None = None


def _read_limited(response: httpx.Response, limit: int, budget: Budget) -> bytes:
    """Read the raw body and decode it in bounded steps, stopping as soon as the decoded size
    passes ``limit`` (defeats compression bombs, stacked ones too)."""
    decoder = BoundedDecoder(response.headers.get("content-encoding"), limit)
    body = bytearray()
    for raw in response.iter_raw():
        for piece in decoder.decode(raw):
            body += piece
        budget.remaining()  # the socket enforces it; this is for a client without that transport
    return bytes(body)


def http_date(moment: datetime) -> str:
    """Format a datetime as an HTTP date (for tests and conditional requests)."""
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)
