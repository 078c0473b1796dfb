"""Hostile HTTP servers on 127.0.0.1, on raw sockets (what ``http.server`` cannot be made to do),
and compression bombs built in a second.

A :class:`RawServer` hands every connection to a script (a function of a :class:`Peer`) in a
thread of its own. The scripts here trickle a response a byte at a time, flood informational
responses, or answer normally; each one stops by itself (a time and byte budget), when the
client hangs up, or when the server is closed, so a test never leaves a thread behind.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import brotli

#: No script runs longer than this, whatever the client does.
MAX_SCRIPT_S = 10.0


@dataclass
class Peer:
    """One accepted connection, as its script sees it; the test reads what happened."""

    sock: socket.socket
    stop: threading.Event
    requests: list[bytes] = field(default_factory=list)
    sent: int = 0
    client_closed: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def read_request(self, timeout: float = 5.0) -> bytes | None:
        """The next request head (up to the blank line), or None if the client hung up."""
        self.sock.settimeout(timeout)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 64 * 1024:
                chunk = self.sock.recv(4096)
                if not chunk:
                    self.client_closed.set()
                    return None
                data += chunk
        except OSError:
            self.client_closed.set()
            return None
        self.requests.append(data)
        return data

    def hung_up(self) -> bool:
        """Whether the client closed its side (an EOF waiting to be read)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if readable and self.sock.recv(1, socket.MSG_PEEK) == b"":
                self.client_closed.set()
        except OSError:
            self.client_closed.set()
        return self.client_closed.is_set()

    def send(self, data: bytes) -> bool:
        """Send ``data``; False once the client is gone or the server is stopping."""
        if self.stop.is_set() or self.hung_up():
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            self.client_closed.set()
            return False
        self.sent += len(data)
        return True

    def trickle(self, data: bytes, interval: float, *, repeat: bool = False) -> None:
        """Send ``data`` a byte every ``interval`` seconds (over and over if ``repeat``),
        until the client hangs up or the script's time is up."""
        started = time.monotonic()
        position = 0
        while time.monotonic() - started < MAX_SCRIPT_S and (repeat or position < len(data)):
            index = position % len(data)
            if not self.send(data[index : index + 1]):
                return
            position += 1
            if self.stop.wait(interval):
                return

    def wait_for_hang_up(self, timeout: float = MAX_SCRIPT_S) -> None:
        """Hold the connection open, sending nothing and discarding what comes (a TLS hello,
        say), until the client closes it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                readable, _, _ = select.select([self.sock], [], [], 0.05)
                if readable and not self.sock.recv(65536):
                    self.client_closed.set()
                    return
            except OSError:
                self.client_closed.set()
                return


Script = Callable[[Peer], None]


class RawServer:
    """A TCP server on ``host`` (a loopback address, 127.0.0.1 unless said) running ``script``
    for every connection."""

    def __init__(self, script: Script, host: str = "127.0.0.1") -> None:
        self._script = script
        self.host = host
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.peers: list[Peer] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="raw-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def connections(self) -> int:
        with self._lock:
            return len(self.peers)

    def __enter__(self) -> RawServer:
        self._acceptor.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._acceptor.join(5)
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            peer = Peer(sock, self._stop)
            thread = threading.Thread(target=self._run, args=(peer,), name="raw-peer", daemon=True)
            with self._lock:
                self.peers.append(peer)
                self._threads.append(thread)
            thread.start()

    def _run(self, peer: Peer) -> None:
        try:
            self._script(peer)
        except OSError:
            peer.client_closed.set()
        finally:
            peer.finished.set()
            peer.sock.close()


# --------------------------------------------------------------------------- scripts


def response_head(status: str = "200 OK", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def trickle_from_status_line(peer: Peer) -> None:
    """The whole response a byte a second, from the first byte of the status line."""
    if peer.read_request():
        peer.trickle(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000, 1.0)


def trickle_header(peer: Peer) -> None:
    """A status line and half a header at once, then the header's value a byte a second."""
    if peer.read_request() and peer.send(b"HTTP/1.1 200 OK\r\nX-Slow: "):
        peer.trickle(b"a", 1.0, repeat=True)


def trickle_body(peer: Peer) -> None:
    """Complete headers at once, then the body a byte every half second."""
    if peer.read_request():
        head = response_head(headers={"Content-Type": "text/html", "Content-Length": "1000"})
        if peer.send(head):
            peer.trickle(b"<p>" + b"x" * 997, 0.5)


def early_hints(count: int | None, interval: float, final: bytes | None = None) -> Script:
    """``count`` (None: endless) ``103 Early Hints`` responses every ``interval`` seconds,
    then ``final`` (a whole response) if given."""
    hint = response_head("103 Early Hints", {"Link": "</style.css>; rel=preload; as=style"})

    def script(peer: Peer) -> None:
        if not peer.read_request():
            return
        started = time.monotonic()
        sent = 0
        while (count is None or sent < count) and time.monotonic() - started < MAX_SCRIPT_S:
            if not peer.send(hint):
                return
            sent += 1
            if interval and peer.stop.wait(interval):
                return
        if final is not None and peer.send(final):
            peer.wait_for_hang_up(2.0)

    return script


def silent(peer: Peer) -> None:
    """Accept, read the request, answer nothing."""
    if peer.read_request():
        peer.wait_for_hang_up()


def mute(peer: Peer) -> None:
    """Accept and read nothing, say nothing: a TLS handshake that never completes."""
    peer.wait_for_hang_up()


def keep_alive_then(scripts: list[Script]) -> Script:
    """Serve successive requests on one connection with ``scripts`` in turn (each reads its
    own request): for showing a reused connection is held to the new request's deadline."""

    def script(peer: Peer) -> None:
        for each in scripts:
            if peer.client_closed.is_set():
                return
            each(peer)

    return script


def answer(body: bytes, headers: dict[str, str] | None = None, status: str = "200 OK") -> Script:
    """A normal response, connection kept open for the next request's script."""

    def script(peer: Peer) -> None:
        if peer.read_request():
            all_headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))}
            peer.send(response_head(status, {**all_headers, **(headers or {})}) + body)

    return script


def answer_after(delay: float, status: str = "503 Service Unavailable") -> Script:
    """Every request on the connection answered with an empty ``status`` after ``delay`` s."""

    def script(peer: Peer) -> None:
        while peer.read_request():
            if peer.stop.wait(delay):
                return
            if not peer.send(response_head(status, {"Content-Length": "0"})):
                return

    return script


# --------------------------------------------------------------------------- compression bombs


def gzip_of_zeros(size: int) -> bytes:
    """A valid one-member gzip stream of ``size`` zero bytes (whole MiB), built in a second:
    after a full flush deflate's output for the same input repeats, so one block is reused."""
    mib = bytes(1 << 20)
    count = size >> 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    final_block = compressor.flush()[:-8]  # the trailer is for all the data, written below
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(mib, crc)
    return first + block * (count - 1) + final_block + struct.pack("<II", crc, size & 0xFFFFFFFF)


def brotli_of_zeros(size: int) -> bytes:
    """A valid brotli stream of ``size`` zero bytes (whole 16 MiB blocks), 1.6 KB for 1 GiB,
    built in half a second: flushed after each block, brotli's output for the next identical
    block repeats, so one block is reused."""
    block_size = 16 << 20
    zeros = bytes(block_size)
    compressor = brotli.Compressor(quality=5)
    first: bytes = compressor.process(zeros) + compressor.flush()
    block: bytes = compressor.process(zeros) + compressor.flush()
    assert compressor.process(zeros) + compressor.flush() == block
    end: bytes = compressor.finish()
    return first + block * (size // block_size - 1) + end
