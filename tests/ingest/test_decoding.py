"""ingest/decoding.py on its own: every decoding call stays within a step, the total never
passes the limit by more than a step, and the Content-Encoding header is read as RFC 9110 says."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest

from ingest.decoding import STEP, BoundedDecoder, EncodingRefused, OutputTooLarge, codings_to_undo
from tests.support.hostile import brotli_of_zeros, gzip_of_zeros

SIZE = 64 << 20  # 64 MiB of zeros from a few kB

BOMBS: dict[str, Callable[[], bytes]] = {
    "br": lambda: brotli_of_zeros(SIZE),
    "gzip": lambda: gzip_of_zeros(SIZE),
    "gzip, gzip": lambda: gzip.compress(gzip_of_zeros(SIZE)),
    "br, gzip": lambda: gzip.compress(brotli_of_zeros(SIZE)),
}


def _feed(decoder: BoundedDecoder, body: bytes, chunk: int = 64 * 1024) -> tuple[int, int]:
    """Feed ``body`` in network-sized chunks; the total decoded and the largest piece."""
    total = largest = 0
    for start in range(0, len(body), chunk):
        for piece in decoder.decode(body[start : start + chunk]):
            total += len(piece)
            largest = max(largest, len(piece))
            assert not piece.strip(b"\0")
    return total, largest


@pytest.mark.parametrize("coding", list(BOMBS))
def test_bombs_decode_in_bounded_steps_to_their_full_size(coding: str) -> None:
    decoder = BoundedDecoder(coding, SIZE)
    total, largest = _feed(decoder, BOMBS[coding]())
    assert total == SIZE == decoder.size  # real streams, decoded to the last byte
    assert largest <= 2 * STEP  # brotli may give up to about one and a half steps


@pytest.mark.parametrize("coding", list(BOMBS))
def test_the_limit_stops_decoding_within_a_step(coding: str) -> None:
    limit = 3 * 1024 * 1024 + 123
    decoder = BoundedDecoder(coding, limit)
    with pytest.raises(OutputTooLarge):
        _feed(decoder, BOMBS[coding]())
    assert limit < decoder.size <= limit + 2 * STEP  # counted, never handed out


@pytest.mark.parametrize(
    ("header", "undo"),
    [
        (None, []),
        ("", []),
        ("identity", []),
        ("gzip", ["gzip"]),
        ("GZIP", ["gzip"]),
        ("x-gzip", ["x-gzip"]),
        ("br, gzip", ["gzip", "br"]),  # applied br then gzip: undone gzip first
        ("gzip,deflate", ["deflate", "gzip"]),
        ("gzip, identity, gzip", ["gzip", "gzip"]),
        ("utf-8", []),  # a lone unknown token: the body is passed as it is
    ],
)
def test_codings_are_undone_last_applied_first(header: str | None, undo: list[str]) -> None:
    assert codings_to_undo(header) == undo


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("zstd", "zstd is not decoded"),
        ("x-compress", "x-compress is not decoded"),
        ("br, dcb", "dcb is not decoded"),
        ("gzip, binary", "unknown coding 'binary'"),
        ("gzip, gzip, gzip, gzip", "more than 3 stacked codings"),
    ],
)
def test_codings_that_cannot_be_undone_are_refused(header: str, reason: str) -> None:
    with pytest.raises(EncodingRefused, match=reason):
        codings_to_undo(header)
