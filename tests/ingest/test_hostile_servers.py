"""ingest/http.py against hostile servers on 127.0.0.1: slow and endless responses (raw sockets,
tests/support/hostile.py) and compression bombs (tests/support/corpus_site.py).

The fetcher's deadline is 2 s here; the scripts trickle for up to 10 s, so "finished, with
this error" is the assertion, and a generous bound on the wall time only guards against a hang.
"""

from __future__ import annotations

import gzip
import time
import tracemalloc
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace

import brotli
import pytest

from ingest.decoding import ACCEPT_ENCODING, STEP
from ingest.http import Fetcher, FetchResult
from tests.support import hostile
from tests.support.corpus_site import PAGES_DIR, CorpusSite, Request, Response

DEADLINE_S = 2.0
HANG_GUARD_S = hostile.MAX_SCRIPT_S  # the old fetcher ran as long as a script (or longer)
HEADERS_LATE = f"no complete response within {DEADLINE_S:g} s (headers still arriving)"
BODY_LATE = f"the whole body took longer than {DEADLINE_S:g} s"
# A real page big enough to span several network reads and decoding steps.
BIG_PAGE = (PAGES_DIR / "dailymail.co.uk.food.html").read_bytes()
BOMB_GIB = 1 << 30
CAP = 1024 * 1024  # the body limit for the bombs: small, so each test is quick


@pytest.fixture
def impatient(fetcher: Fetcher) -> Iterator[Fetcher]:
    """The test fetcher (2 s per read, 2 retries) with a 2 s deadline for a whole fetch."""
    with Fetcher(replace(fetcher.policy, download_timeout=DEADLINE_S)) as client:
        yield client


def _timed_fetch(fetcher: Fetcher, url: str, **kwargs: object) -> tuple[FetchResult, float]:
    started = time.monotonic()
    result = fetcher.fetch(url, **kwargs)  # type: ignore[arg-type]
    return result, time.monotonic() - started


# --------------------------------------------------------------------------- one deadline


@pytest.mark.parametrize(
    "script", [hostile.trickle_from_status_line, hostile.trickle_header], ids=["status-line", "header"]
)
def test_trickled_response_head_stops_at_the_deadline(impatient: Fetcher, script: hostile.Script) -> None:
    with hostile.RawServer(script) as server:
        result, elapsed = _timed_fetch(impatient, server.url("/slow-head"))
        assert elapsed < HANG_GUARD_S, "a byte a second held the fetch past its deadline"
        assert result.error_kind == "network"
        assert result.error == HEADERS_LATE
        assert server.connections() == 1, "the deadline is for the whole fetch: no retry after it"
        peer = server.peers[0]
        assert peer.client_closed.wait(5), "the fetcher left the connection open"
        assert peer.sent < 40  # the trickle never got far


def test_trickled_body_says_the_body_was_too_slow(impatient: Fetcher) -> None:
    with hostile.RawServer(hostile.trickle_body) as server:
        result, elapsed = _timed_fetch(impatient, server.url("/slow-body"))
        assert elapsed < HANG_GUARD_S
        assert result.error_kind == "network"
        assert result.error == BODY_LATE
        assert result.content == b""
        assert server.connections() == 1
        assert server.peers[0].client_closed.wait(5)


def test_endless_early_hints_are_capped(impatient: Fetcher) -> None:
    cap = impatient.policy.max_informational
    with hostile.RawServer(hostile.early_hints(None, 0.0)) as server:
        result, elapsed = _timed_fetch(impatient, server.url("/hints"))
        assert elapsed < HANG_GUARD_S
        assert result.error_kind == "network"
        assert result.error == f"more than {cap} informational (1xx) responses before the final response"
        assert all(peer.client_closed.wait(5) for peer in server.peers)


def test_slow_early_hints_within_the_cap_still_meet_the_deadline(fetcher: Fetcher) -> None:
    policy = replace(fetcher.policy, download_timeout=DEADLINE_S, max_informational=10_000)
    with Fetcher(policy) as patient_about_hints, hostile.RawServer(hostile.early_hints(None, 0.2)) as server:
        result, elapsed = _timed_fetch(patient_about_hints, server.url("/slow-hints"))
        assert elapsed < HANG_GUARD_S
        assert result.error == HEADERS_LATE
        assert server.connections() == 1


@pytest.mark.parametrize(("hints", "ok"), [(0, True), (3, True), (10, True), (11, False)])
def test_informational_responses_up_to_the_cap_are_skipped(impatient: Fetcher, hints: int, ok: bool) -> None:
    page = hostile.response_head(
        headers={"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(BIG_PAGE))}
    )
    with hostile.RawServer(hostile.early_hints(hints, 0.0, page + BIG_PAGE)) as server:
        result = impatient.fetch(server.url("/hinted"))
    assert impatient.policy.max_informational == 10
    if ok:
        assert result.ok, result.error
        assert result.content == BIG_PAGE
    else:
        assert result.error_kind == "network"
        assert "more than 10 informational (1xx) responses" in (result.error or "")


def test_a_reused_connection_is_held_to_the_new_requests_deadline(impatient: Fetcher) -> None:
    script = hostile.keep_alive_then([hostile.answer(BIG_PAGE), hostile.trickle_header])
    with hostile.RawServer(script) as server:
        first = impatient.fetch(server.url("/first"))
        assert first.ok, first.error
        assert first.content == BIG_PAGE
        second, elapsed = _timed_fetch(impatient, server.url("/second"))
        assert elapsed < HANG_GUARD_S
        assert second.error == HEADERS_LATE
        assert server.connections() == 1, "the second request did not reuse the connection"
        assert len(server.peers[0].requests) == 2


def test_retries_stop_at_the_deadline(fetcher: Fetcher) -> None:
    policy = replace(fetcher.policy, download_timeout=DEADLINE_S, retries=5)
    with Fetcher(policy) as retrying, hostile.RawServer(hostile.answer_after(1.5)) as server:
        result, elapsed = _timed_fetch(retrying, server.url("/slow-503"))
        assert elapsed < HANG_GUARD_S
        requests = sum(len(peer.requests) for peer in server.peers)
    assert requests <= 2, "retries went on past the fetch's deadline"
    assert result.error_kind in ("network", "http")
    assert result.error in (HEADERS_LATE, "HTTP 503")


def test_a_silent_server_is_a_per_read_timeout(fetcher: Fetcher) -> None:
    policy = replace(fetcher.policy, read_timeout=0.5, download_timeout=30, retries=0)
    with Fetcher(policy) as client, hostile.RawServer(hostile.silent) as server:
        result, elapsed = _timed_fetch(client, server.url("/silent"))
        assert elapsed < HANG_GUARD_S
        assert result.error_kind == "network"
        assert result.error == "no data for 0.5 s (read timeout)"
        assert server.peers[0].client_closed.wait(5)


def test_a_stalled_tls_handshake_meets_the_deadline(fetcher: Fetcher) -> None:
    policy = replace(fetcher.policy, download_timeout=DEADLINE_S, connect_timeout=30)
    with Fetcher(policy) as client, hostile.RawServer(hostile.mute) as server:
        result, elapsed = _timed_fetch(client, server.url("/").replace("http://", "https://"))
        assert elapsed < HANG_GUARD_S
        assert result.error == HEADERS_LATE
        assert server.connections() == 1
        assert server.peers[0].client_closed.wait(5)


# --------------------------------------------------------------------------- bounded decoding


@pytest.fixture(scope="module")
def brotli_bomb() -> bytes:
    return hostile.brotli_of_zeros(BOMB_GIB)


@pytest.fixture(scope="module")
def gzip_bomb_1gib() -> bytes:
    return hostile.gzip_of_zeros(BOMB_GIB)


def _serve(site: CorpusSite, body: bytes, content_encoding: str) -> str:
    path = f"/encoded-{uuid.uuid4().hex}"
    site.set_static(path, body, headers={"Content-Encoding": content_encoding})
    return site.url(path)


def _fetch_traced(fetcher: Fetcher, url: str, max_bytes: int) -> tuple[FetchResult, int]:
    """The result and the peak of Python memory allocated while fetching."""
    tracemalloc.start()
    try:
        result = fetcher.fetch(url, max_bytes=max_bytes)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize("stack", ["br", "gzip, gzip", "br, gzip"])
def test_compression_bombs_stop_at_the_cap_in_bounded_memory(
    corpus_site: CorpusSite, fetcher: Fetcher, brotli_bomb: bytes, gzip_bomb_1gib: bytes, stack: str
) -> None:
    bodies: dict[str, Callable[[], bytes]] = {
        "br": lambda: brotli_bomb,  # 1.6 KB -> 1 GiB
        "gzip, gzip": lambda: gzip.compress(gzip_bomb_1gib),  # 2.5 KB -> 1 MiB -> 1 GiB
        "br, gzip": lambda: gzip.compress(brotli_bomb),  # brotli first, then gzip
    }
    body = bodies[stack]()
    assert len(body) < 8 * 1024
    result, peak = _fetch_traced(fetcher, _serve(corpus_site, body, stack), CAP)
    assert result.error_kind == "too_large", result.error
    assert result.content == b""
    # The cap, the step in hand per stacked coding and the buffers of httpx, h11 and the
    # loopback server: far from the GiB the bomb inflates to (the old decoder held it all).
    assert peak < CAP + 16 * STEP, f"peak {peak / 2**20:.1f} MiB"


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _two_gzip_members(data: bytes) -> bytes:
    half = len(data) // 2
    return gzip.compress(data[:half]) + gzip.compress(data[half:])


def _brotli(data: bytes) -> bytes:
    encoded: bytes = brotli.compress(data, quality=5)  # the default (11) takes seconds on a big page
    return encoded


ENCODED: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "br": ("br", _brotli),
    "deflate-zlib": ("deflate", zlib.compress),
    "deflate-raw": ("deflate", _raw_deflate),
    "gzip-two-members": ("gzip", _two_gzip_members),
    "gzip,gzip": ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
    "br,gzip": ("br, gzip", lambda data: gzip.compress(_brotli(data))),
    "mixed-case": (" GZip , identity", gzip.compress),
    "identity": ("identity", lambda data: data),
    "lone-unknown-token": ("utf-8", lambda data: data),  # a misconfigured server: passed as is
}


@pytest.mark.parametrize("case", list(ENCODED))
def test_encoded_pages_decode_exactly(corpus_site: CorpusSite, fetcher: Fetcher, case: str) -> None:
    header, encode = ENCODED[case]
    url = _serve(corpus_site, encode(BIG_PAGE), header)
    result = fetcher.fetch(url)
    assert result.ok, result.error
    assert result.content == BIG_PAGE
    # exactly the page's size is allowed; a byte less is too large, however it was encoded
    assert fetcher.fetch(url, max_bytes=len(BIG_PAGE)).content == BIG_PAGE
    assert fetcher.fetch(url, max_bytes=len(BIG_PAGE) - 1).error_kind == "too_large"


REFUSED: dict[str, tuple[str, bytes, str]] = {
    "zstd": ("zstd", b"(\xb5/\xfd" + bytes(64), "zstd is not decoded"),
    "compress": ("compress", bytes(64), "compress is not decoded"),
    "gzip-then-zstd": ("gzip, zstd", bytes(64), "zstd is not decoded"),
    "unknown-in-stack": ("gzip, snappy", gzip.compress(b"<p>x</p>"), "unknown coding 'snappy'"),
    "four-stacked": ("gzip, gzip, gzip, gzip", b"", "more than 3 stacked codings"),
    "corrupt-gzip": ("gzip", b"\x1f\x8b\x08\x00" + bytes(range(256)), "cannot decode the gzip body"),
    "corrupt-br": ("br", bytes(range(256)) * 4, "cannot decode the br body"),
    "corrupt-inner-of-two": ("gzip, gzip", gzip.compress(b"not gzip inside"), "cannot decode the gzip body"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_codings_that_cannot_be_decoded_are_refused_with_a_reason(
    corpus_site: CorpusSite, fetcher: Fetcher, case: str
) -> None:
    header, body, reason = REFUSED[case]
    url = _serve(corpus_site, body, header)
    result = fetcher.fetch(url)
    assert result.error_kind == "encoding", result.error
    assert reason in (result.error or "")
    assert result.content == b""
    assert corpus_site.hits(url) == 1, "a body that cannot be decoded is not fetched again"


def test_only_bounded_codings_are_asked_for(corpus_site: CorpusSite, fetcher: Fetcher) -> None:
    seen: list[Request] = []
    path = f"/accept-{uuid.uuid4().hex}"

    def echo(request: Request) -> Response:
        seen.append(request)
        return Response(200, b"ok")

    corpus_site.add_route(path, echo)
    assert fetcher.fetch(corpus_site.url(path)).ok
    assert seen[0].headers["accept-encoding"] == ACCEPT_ENCODING == "gzip, deflate, br"
