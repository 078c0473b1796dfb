"""The SSRF guard (ingest/ssrf.py); the fetcher's use of it is tested in test_http.py."""

from __future__ import annotations

import pytest

from ingest.ssrf import FetchRefused, check_target


def test_check_target() -> None:
    with pytest.raises(FetchRefused):
        check_target("http://127.0.0.1:8080/", frozenset())
    with pytest.raises(FetchRefused):
        check_target("gopher://example.org/", frozenset({"example.org"}))
    check_target("http://127.0.0.1:8080/", frozenset({"127.0.0.1"}))  # allowed explicitly
