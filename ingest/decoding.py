"""Content-Encoding undone with a bound on the output, whatever the compression ratio.

httpx decodes a whole network chunk at a time with no output limit and checks the size
afterwards: a 1.6 KB brotli body inflates to 1 GiB in one call, and a stacked
``Content-Encoding: gzip, gzip`` multiplies zlib's ratio (about 1,000) by itself. So the
fetcher reads the raw body (``httpx.Response.iter_raw``) and decodes it here, every coding
in steps of at most about :data:`STEP` bytes of output (zlib's ``max_length``, brotli's
``output_buffer_limit``), stopping as soon as the total passes the caller's limit. Memory is
the limit plus a step per stacked coding, never the bomb's size.

Only codings that can be bounded this way are asked for (:data:`ACCEPT_ENCODING`). A
response may still carry others:

* a registered coding we do not decode (``zstd``, ``compress``...), or one we do not know
  inside a stack, or more than :data:`MAX_CODINGS` stacked: :class:`EncodingRefused`;
* a lone token we do not know (``Content-Encoding: utf-8`` and the like, a common server
  misconfiguration over a plain body): ignored, the body passed through as httpx and
  browsers do.

Truncated compressed data is accepted as far as it goes and bytes after the end of a stream
are ignored (httpx does the same); data that is not what its coding says raises
:class:`EncodingRefused`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

import brotli

#: Output per decoding call; brotli may return up to about one and a half times this.
STEP = 64 * 1024
#: More stacked codings than this are refused (real servers stack two by mistake at most).
MAX_CODINGS = 3
#: Registered content codings (IANA) that are not decoded here.
NOT_DECODED = frozenset({"compress", "x-compress", "zstd", "exi", "pack200-gzip", "aes128gcm", "dcb", "dcz"})
_GZIP_MAGIC = b"\x1f\x8b"


class EncodingRefused(Exception):
    """The body's Content-Encoding is not decoded here, or its data is not valid for it."""


class OutputTooLarge(Exception):
    """The decoded body passed the limit (it was not decoded any further)."""


class _Stage(Protocol):
    name: str

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded output for ``data``, in pieces of at most about :data:`STEP` bytes."""
        ...


class _Zlib:
    """gzip (several members allowed, RFC 1952) or deflate, bounded by ``max_length``."""

    def __init__(self, name: str, wbits: int, members: bool) -> None:
        self.name = name
        self._wbits = wbits
        self._members = members
        self._inflate = zlib.decompressobj(wbits)
        self._after_end = b""  # bytes after a finished stream: the start of the next member?
        self._done = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self._done:
            if self._inflate.eof:
                self._after_end += data
                if not self._members:
                    self._after_end = b""  # trailing bytes after a deflate stream: ignored
                    return
                if len(self._after_end) < len(_GZIP_MAGIC):
                    return
                if not self._after_end.startswith(_GZIP_MAGIC):
                    self._done = True  # trailing garbage after the last member: ignored
                    return
                data, self._after_end = self._after_end, b""
                self._inflate = zlib.decompressobj(self._wbits)
            out = self._inflate.decompress(data, STEP)
            if out:
                yield out
            if self._inflate.eof:
                data = self._inflate.unused_data
                continue
            data = self._inflate.unconsumed_tail
            # A full step may leave output inside zlib even with no input left: drain it.
            if not data and len(out) < STEP:
                return


class _Deflate(_Zlib):
    """``deflate`` means zlib-wrapped data (RFC 9110), but some servers send raw deflate;
    the first bytes tell which (as httpx and browsers accept both)."""

    def __init__(self) -> None:
        super().__init__("deflate", zlib.MAX_WBITS, members=False)
        self._sniffed = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._sniffed and data:
            self._sniffed = True
            if not _zlib_header(data):
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        yield from super().feed(data)


def _zlib_header(data: bytes) -> bool:
    """RFC 1950: method 8 (deflate) and a header checksum that is a multiple of 31."""
    return len(data) < 2 or (data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0)


class _Brotli:
    """brotli, bounded by ``output_buffer_limit`` (brotli >= 1.2)."""

    name = "br"

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._decompressor.is_finished():
            return  # bytes after the end of the stream: ignored
        out = self._decompressor.process(data, output_buffer_limit=STEP)
        if out:
            yield out
        # Past the limit brotli keeps output back (and takes only empty input) until drained;
        # it may hold some even when it would take input again, so drain until it gives none.
        while not self._decompressor.is_finished():
            out = self._decompressor.process(b"", output_buffer_limit=STEP)
            if not out:
                return
            yield out


def _brotli_is_bounded() -> bool:
    """Whether the installed brotli can decode in bounded steps (1.2 and later can)."""
    return hasattr(brotli.Decompressor(), "can_accept_more_data")


_STAGES: dict[str, Callable[[], _Stage]] = {
    "gzip": lambda: _Zlib("gzip", 16 + zlib.MAX_WBITS, members=True),
    "x-gzip": lambda: _Zlib("gzip", 16 + zlib.MAX_WBITS, members=True),
    "deflate": _Deflate,
}
if _brotli_is_bounded():
    _STAGES["br"] = _Brotli

#: What the fetcher asks for: only what :class:`BoundedDecoder` decodes with a bound.
ACCEPT_ENCODING = ", ".join(name for name in ("gzip", "deflate", "br") if name in _STAGES)


def codings_to_undo(content_encoding: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` value in the order they are undone (the last
    applied first); :class:`EncodingRefused` when they cannot all be."""
    named = [name.strip().lower() for name in (content_encoding or "").split(",")]
    codings = [name for name in named if name and name != "identity"]
    if len(codings) > MAX_CODINGS:
        raise EncodingRefused(
            f"Content-Encoding {content_encoding!r}: more than {MAX_CODINGS} stacked codings"
        )
    for coding in codings:
        if coding in _STAGES:
            continue
        if coding in NOT_DECODED or coding == "br":  # br: only when brotli cannot be bounded
            raise EncodingRefused(
                f"Content-Encoding {content_encoding!r}: {coding} is not decoded "
                f"(only {ACCEPT_ENCODING} is asked for)"
            )
        if len(codings) > 1:
            raise EncodingRefused(
                f"Content-Encoding {content_encoding!r}: unknown coding {coding!r} in a stack of codings"
            )
        return []  # a lone unknown token: a misconfigured server, the body is passed as it is
    return list(reversed(codings))


class BoundedDecoder:
    """Undoes a response's Content-Encoding, raising :class:`OutputTooLarge` before the
    decoded total passes ``limit``."""

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        self._stages: list[_Stage] = [_STAGES[coding]() for coding in codings_to_undo(content_encoding)]
        self._limit = limit
        self.size = 0

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces for the next raw bytes of the body (each at most about a step)."""
        return self._push(0, data)

    def _push(self, level: int, data: bytes) -> Iterator[bytes]:
        if level == len(self._stages):
            self.size += len(data)
            if self.size > self._limit:
                raise OutputTooLarge(f"decoded body larger than {self._limit} bytes")
            if data:
                yield data
            return
        stage = self._stages[level]
        pieces = stage.feed(data)
        while True:
            try:
                piece = next(pieces)
            except StopIteration:
                return
            except (zlib.error, brotli.error) as exc:
                raise EncodingRefused(f"cannot decode the {stage.name} body: {exc}") from exc
            yield from self._push(level + 1, piece)
