"""No fetching of private, loopback or link-local addresses: the SSRF guard of the one HTTP client.

Only http(s) is fetched, and every address a host resolves to must be public unless the host
is allowed by configuration (``MEDIAMON_ALLOWED_PRIVATE_HOSTS``; the tests allow 127.0.0.1).
The check is made twice: early, before a politeness slot is taken, for a clear reason
(:func:`check_target`); and at connect time inside httpcore's socket layer
(:class:`GuardedBackend`), on the very addresses the socket uses, so DNS rebinding between
the two gains nothing. ``ingest.http`` turns both exceptions into fetch results.

    FetchRefused    the target is not http(s), has no host, or resolves to a non-public address
    Unresolvable    the host does not resolve (a network failure, retried by the caller)
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class FetchRefused(Exception):
    """The target is not allowed (scheme, or a private address without permission)."""


class Unresolvable(Exception):
    """The host name does not resolve (DNS down, or no such host): a network error, retried later."""


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


def guarded_transport(
    limits: httpx.Limits,
    allowed_hosts: frozenset[str],
    wrap: Callable[[httpcore.NetworkBackend], httpcore.NetworkBackend] | None = None,
) -> httpx.HTTPTransport:
    """httpx's transport over a :class:`GuardedBackend` (httpx takes no backend argument, so
    its connection pool is replaced by an equal one that has it). ``wrap`` wraps the guarded
    backend (``ingest.http`` adds its per-request deadline, ``ingest.deadline``)."""
    backend: httpcore.NetworkBackend = GuardedBackend(allowed_hosts)
    transport = httpx.HTTPTransport(limits=limits, trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=wrap(backend) if wrap else backend,
    )
    return transport
