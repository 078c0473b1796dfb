"""One wall-clock deadline for a whole HTTP exchange, enforced at the socket.

httpx and httpcore only have per-operation timeouts: a read timeout is per socket read, so a
server sending a header byte a second, or an endless stream of ``103 Early Hints`` (httpcore
skips 1xx responses in a loop of its own), never trips one. httpcore has no overall timeout
(encode/httpcore#936 was declined), so it is done here, one layer down: the fetcher opens a
:class:`Budget` around each request, and :class:`DeadlineBackend` wraps httpcore's network
backend so that every connect, TLS handshake, write and read gets the smaller of its own
timeout and the time left. When the time is up the operation raises :class:`DeadlineExceeded`
and httpcore closes the connection as it does for any error: no watchdog thread, no socket
left open.

While the response head is arriving the bytes read are also fed to a second h11 parser (the
one httpcore uses), only to count informational responses; more than the budget allows
raises :class:`TooManyInformational`.

The budget is found through a context variable, so a pooled connection reused by a later
request is held to that request's deadline; without a budget (a client used elsewhere) the
streams behave exactly like httpcore's own.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import h11
import httpcore

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
Phase = Literal["response", "body"]

# httpcore's own limit for one event of its h11 parser, so the counting parser never gives up
# before httpcore's does.
_MAX_HEAD_BYTES = httpcore.HTTP11Connection.MAX_INCOMPLETE_EVENT_SIZE


class DeadlineExceeded(Exception):
    """The request's wall-clock deadline passed; the message says in which phase."""


class TooManyInformational(Exception):
    """The server sent more informational (1xx) responses than the budget accepts."""


@dataclass
class Budget:
    """Time left for one request, and the informational responses seen so far."""

    seconds: float  # the limit as configured, for messages
    deadline: float  # time.monotonic() by which the last body byte must have arrived
    max_informational: int
    phase: Phase = "response"
    informational: int = 0
    _head: h11.Connection | None = field(default=None, repr=False)
    _head_done: bool = False

    def expired_error(self) -> DeadlineExceeded:
        if self.phase == "response":
            return DeadlineExceeded(
                f"no complete response within {self.seconds:g} s (headers still arriving)"
            )
        return DeadlineExceeded(f"the whole body took longer than {self.seconds:g} s")

    def remaining(self) -> float:
        """Seconds left; :class:`DeadlineExceeded` when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.expired_error()
        return left

    def clamp(self, timeout: float | None) -> tuple[float, bool]:
        """The timeout for one socket operation, and whether the deadline (not the
        operation's own timeout) is what bounds it."""
        left = self.remaining()
        if timeout is None or left < timeout:
            return left, True
        return timeout, False

    def saw(self, data: bytes) -> None:
        """Count the informational responses in bytes read before the final response head."""
        if self.phase != "response" or self._head_done:
            return
        if self._head is None:
            self._head = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD_BYTES)
            self._head.send(h11.Request(method="GET", target="/", headers=[("Host", "count")]))
            self._head.send(h11.EndOfMessage())
        try:
            self._head.receive_data(data)
            while True:
                event = self._head.next_event()
                if event is h11.NEED_DATA:
                    return
                if isinstance(event, h11.InformationalResponse) and event.status_code != 101:
                    self.informational += 1
                    if self.informational > self.max_informational:
                        raise TooManyInformational(
                            f"more than {self.max_informational} informational (1xx) responses "
                            "before the final response"
                        )
                    continue
                break  # the final response (or 101): nothing more to count
        except h11.RemoteProtocolError:
            pass  # httpcore's own parser reports the same error
        self._head_done = True
        self._head = None


_current: ContextVar[Budget | None] = ContextVar("mediamon_request_budget", default=None)


@contextmanager
def request_budget(seconds: float, max_informational: int, deadline: float | None = None) -> Iterator[Budget]:
    """Hold requests made inside the block (in this thread or task) to one deadline:
    ``deadline`` (a ``time.monotonic()`` value) if given, else ``seconds`` from now."""
    budget = Budget(
        seconds=seconds,
        deadline=time.monotonic() + seconds if deadline is None else deadline,
        max_informational=max_informational,
    )
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)


class DeadlineStream(httpcore.NetworkStream):
    """httpcore's network stream with every operation bounded by the current budget."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        budget = _current.get()
        if budget is None:
            return self._inner.read(max_bytes, timeout)
        bounded, by_deadline = budget.clamp(timeout)
        try:
            data = self._inner.read(max_bytes, bounded)
        except httpcore.ReadTimeout:
            if by_deadline:
                raise budget.expired_error() from None
            raise
        budget.saw(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        budget = _current.get()
        if budget is None:
            self._inner.write(buffer, timeout)
            return
        bounded, by_deadline = budget.clamp(timeout)
        try:
            self._inner.write(buffer, bounded)
        except httpcore.WriteTimeout:
            if by_deadline:
                raise budget.expired_error() from None
            raise

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        budget = _current.get()
        if budget is None:
            return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))
        try:
            bounded, by_deadline = budget.clamp(timeout)
        except DeadlineExceeded:
            self._inner.close()  # httpcore closes a stream whose TLS fails, not one never started
            raise
        try:
            return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))
        except httpcore.ConnectTimeout:
            if by_deadline:
                raise budget.expired_error() from None
            raise

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Wraps a network backend (the SSRF-guarded one) so its streams honour the budget."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        budget = _current.get()
        by_deadline = False
        if budget is not None:
            timeout, by_deadline = budget.clamp(timeout)
        try:
            stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        except httpcore.ConnectTimeout:
            if budget is not None and by_deadline:
                raise budget.expired_error() from None
            raise
        return DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        budget = _current.get()
        if budget is not None:
            timeout, _ = budget.clamp(timeout)
        return DeadlineStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
