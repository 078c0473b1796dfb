"""The one HTTP client: limits, conditional GET, SSRF guard, retries, politeness.

Every byte mediamon downloads goes through :meth:`Fetcher.fetch`. It never raises for
anything a remote server can do; it returns a :class:`FetchResult` whose ``error`` says
what went wrong, so callers record the failure as data.

Errors (``FetchResult.error_kind``)::

    refused      the target resolves to a private/loopback/link-local address, or the URL
                 is not http(s): never retried
    too_large    the body (after decompression) is over the limit: never retried
    redirects    more redirect hops than allowed
    http         a status >= 400 after retries (``status`` says which)
    network      DNS, connect, read or TLS failure, or a timeout, after retries

Retries: 429 and 5xx responses and network errors are retried with exponential backoff,
honouring ``Retry-After`` up to ``max_retry_wait``; a longer ``Retry-After`` is returned to
the caller (``retry_after``) so the scheduler, not a sleeping worker, waits it out.
"""

from __future__ import annotations

import email.utils
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

if TYPE_CHECKING:
    from mediamon.settings import Settings

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one kind of download (feeds and pages get their own maximum size)."""

    user_agent: str
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    # A whole body must arrive within this: a server trickling a byte per read timeout
    # cannot hold a worker (or a politeness slot) for ever.
    download_timeout: float = 60.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 0.5
    max_retry_wait: float = 30.0
    per_host_concurrency: int = 2
    allowed_private_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings, *, max_bytes: int) -> FetchPolicy:
        return cls(
            user_agent=settings.user_agent,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            download_timeout=settings.download_timeout,
            max_bytes=max_bytes,
            max_redirects=settings.max_redirects,
            retries=settings.http_retries,
            backoff=settings.retry_backoff,
            max_retry_wait=settings.max_retry_wait,
            per_host_concurrency=settings.per_host_concurrency,
            allowed_private_hosts=settings.allowed_private_hosts,
        )


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


class FetchRefused(Exception):
    """The target is not allowed (scheme, or a private address without permission)."""


class Unresolvable(Exception):
    """The host name does not resolve (DNS down, or no such host): a network error, retried later."""


class _TooLarge(Exception):
    pass


def check_target(url: str, allowed_hosts: frozenset[str]) -> None:
    """Raise :class:`FetchRefused` unless ``url`` is http(s) to a public address.

    The early check, before a request takes a politeness slot, with a clear reason. The one
    that counts is made again at connect time (:class:`GuardedBackend`) on the very addresses
    the socket uses: a DNS server that answers "public" here and "private" a moment later
    (DNS rebinding) gains nothing. Hosts named in ``allowed_hosts`` skip the address check.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"scheme {parts.scheme!r} is not fetched")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefused("URL has no host")
    public_addresses(host, parts.port or (443 if parts.scheme == "https" else 80), allowed_hosts)


def public_addresses(host: str, port: int, allowed_hosts: frozenset[str]) -> list[str]:
    """The addresses ``host`` resolves to, once each, in the resolver's order; :class:`FetchRefused`
    if any is not public (an attacker controlling DNS can return a public and a private one),
    :class:`Unresolvable` if there are none. An allowed host is returned as it is."""
    host = host.lower()
    if host in allowed_hosts:
        return [host]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host}: {exc}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for text in addresses:
        address = ipaddress.ip_address(text)
        if not address.is_global or address.is_multicast:
            raise FetchRefused(
                f"{host} resolves to non-public address {address}; "
                "add it to MEDIAMON_ALLOWED_PRIVATE_HOSTS to allow it"
            )
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket layer, resolving and checking each host itself and connecting to the
    checked address (TLS still verifies the certificate against the host name)."""

    def __init__(self, allowed_hosts: frozenset[str]) -> None:
        self._allowed_hosts = allowed_hosts

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = public_addresses(host, port, self._allowed_hosts)
        for address in addresses[:-1]:  # the next address when one does not answer
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue
        return super().connect_tcp(addresses[-1], port, timeout, local_address, socket_options)


def guarded_transport(limits: httpx.Limits, allowed_hosts: frozenset[str]) -> httpx.HTTPTransport:
    """httpx's transport over a :class:`GuardedBackend` (httpx takes no backend argument, so
    its connection pool is replaced by an equal one that has it)."""
    transport = httpx.HTTPTransport(limits=limits, trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(allowed_hosts),
    )
    return transport


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
    redirects itself (the fetcher follows them so it can check every hop).
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
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate, br"},
            transport=guarded_transport(
                httpx.Limits(max_connections=64, max_keepalive_connections=16), policy.allowed_private_hosts
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
        attempt = 0
        while True:
            result = self._follow(url, headers, limit)
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
            self._sleep(wait)
            attempt += 1
        elapsed = int((time.monotonic() - started) * 1000)
        return replace(result, elapsed_ms=elapsed)

    def _follow(self, url: str, headers: dict[str, str], limit: int) -> FetchResult:
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            try:
                # refused early with a clear reason, or at connect time (GuardedBackend)
                check_target(current, self.policy.allowed_private_hosts)
                result = self._get_once(url, current, headers, limit)
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

    def _get_once(self, url: str, current: str, headers: dict[str, str], limit: int) -> FetchResult:
        host = urlsplit(current).hostname or ""
        try:
            with self._limiter.slot(host), self._client.stream("GET", current, headers=headers) as response:
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
                    return replace(base, error=f"HTTP {status}", error_kind="http", retry_after=retry_after)
                declared = response_headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise _TooLarge
                deadline = time.monotonic() + self.policy.download_timeout
                return replace(base, content=_read_limited(response, limit, deadline))
        except _TooLarge:
            return FetchResult(url, current, error=f"body larger than {limit} bytes", error_kind="too_large")
        except httpx.TimeoutException as exc:
            return FetchResult(url, current, error=f"timeout: {type(exc).__name__}", error_kind="network")
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
            return FetchResult(url, current, error=f"{type(exc).__name__}: {exc}", error_kind="network")


def _read_limited(response: httpx.Response, limit: int, deadline: float) -> bytes:
    """Read the decoded body, stopping as soon as it passes ``limit`` (defeats zip bombs too)
    or the deadline passes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the whole body took longer than the download timeout")
        chunks.append(chunk)
    return b"".join(chunks)


def http_date(moment: datetime) -> str:
    """Format a datetime as an HTTP date (for tests and conditional requests)."""
    return email.utils.format_datetime(moment.astimezone(UTC), usegmt=True)
