"""Failures a user can see: `run --once` ends with article failures by reason, `articles --state
failed` lists them, `export --include-failed` writes them.

A real local site serves one feed whose articles fail in different ways (gone, not HTML, a real
corpus page nested deeper than libxml2 parses, a soft 404) next to two good corpus pages; the
commands run in-process on a SQLite store, with the lexical matcher (no model to load).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Invocation, local_site_env, mediamon
from tests.support.corpus_site import PAGES_DIR, CorpusSite, Response, build_rss
from tests.support.nesting import nest_body

NESTED_REASON = "page nested deeper than libxml2's limit of 256 levels; text lost"
GOOD_PAGES = ("tonedeaf.thebrag.com.luboku.html", "blog.python.org.html")
NESTED_PAGE = "reuters.com.parasite.html"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return local_site_env(tmp_path / "cli.db", MEDIAMON_CLAIM_METHOD="lexical")


@pytest.fixture
def site() -> Iterator[CorpusSite]:
    with CorpusSite() as running:
        running.add_route("/gone/a", lambda _request: Response(410, b"gone"))
        running.add_route("/gone/b", lambda _request: Response(410, b"gone"))
        running.set_static("/nested", nest_body((PAGES_DIR / NESTED_PAGE).read_bytes(), 300))
        running.set_static("/report.pdf", b"%PDF-1.4 not a page", content_type="application/pdf")
        links = [
            *(f"/pages/{name}" for name in GOOD_PAGES),
            "/gone/a",
            "/gone/b",
            "/nested",
            "/report.pdf",
            "/status/404",
        ]
        feed = build_rss([{"title": f"item {i}", "link": running.url(link)} for i, link in enumerate(links)])
        running.set_static("/feeds/mixed.rss", feed, content_type="application/rss+xml")
        yield running


@pytest.fixture
def feeds(site: CorpusSite, tmp_path: Path) -> Path:
    listed = tmp_path / "feeds.txt"
    listed.write_text(f"{site.url('/feeds/mixed.rss')}\n{site.url('/status/500')}\n")
    return listed


def _line(output: str, text: str) -> str:
    lines = [line for line in output.splitlines() if text in line]
    assert lines, f"{text!r} not in:\n{output}"
    return lines[0]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("│┃").split("│")]


def _articles(env: dict[str, str], *args: str) -> Any:
    result = mediamon(env, "articles", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _run(env: dict[str, str], feeds: Path) -> Invocation:
    result = mediamon(env, "run", "--once", "--feeds", str(feeds))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_run_once_ends_with_article_failures_by_reason_beside_the_feed_errors(env, site, feeds):
    result = _run(env, feeds)

    out = result.stdout
    assert "HTTP 500" in _line(out, site.url("/status/500")), "the feed error listing stays"
    assert "5 article(s) failed or to retry, by reason" in out
    gone = _cells(_line(out, "HTTP 410"))
    assert gone[1:3] == ["2", "0"], "two articles gone, counted on one row, none to retry"
    assert site.url("/gone/a") in gone[3]
    assert site.url("/gone/b") in out, "both examples are shown"
    assert _cells(_line(out, NESTED_REASON))[1:4] == ["1", "0", site.url("/nested")]
    assert _cells(_line(out, "not an HTML page (application/pdf)"))[1:4] == [
        "1",
        "0",
        site.url("/report.pdf"),
    ]
    soft = _cells(_line(out, "HTTP 404"))
    assert soft[1:4] == ["0", "1", site.url("/status/404")], "a soft failure waits for another try"
    assert "(attempt" not in out, "the retry note is not part of the reason"

    # The next run shows only its own failures: the 404 tried again, not the earlier ones.
    again = _run(env, feeds).stdout
    assert "1 article(s) failed or to retry, by reason" in again
    assert _cells(_line(again, "HTTP 404"))[1:3] == ["0", "1"]
    assert "HTTP 410" not in again


def test_articles_state_failed_lists_url_reason_attempts_and_last_try(env, site, feeds):
    _run(env, feeds)

    failed = _articles(env, "--state", "failed")

    assert failed["total"] == 4
    listed = {row["url"]: row for row in failed["articles"]}
    assert {url: row["reason"] for url, row in listed.items()} == {
        site.url("/gone/a"): "HTTP 410",
        site.url("/gone/b"): "HTTP 410",
        site.url("/nested"): NESTED_REASON,
        site.url("/report.pdf"): "not an HTML page (application/pdf)",
    }
    for row in listed.values():
        assert row["state"] == "failed"
        assert row["attempts"] == 1
        assert row["last_tried"] is not None
    assert [(g["reason"], g["failed"]) for g in failed["by_reason"]] == [
        ("HTTP 410", 2),
        ("not an HTML page (application/pdf)", 1),
        (NESTED_REASON, 1),
    ], "most articles first, then by reason"

    limited = _articles(env, "--state", "failed", "--limit", "2")
    assert limited["total"] == 4
    assert len(limited["articles"]) == 2

    pending = _articles(env, "--state", "pending")
    assert [(row["url"], row["reason"]) for row in pending["articles"]] == [
        (site.url("/status/404"), "HTTP 404 (attempt 1 of 3, will retry)")
    ]
    done = _articles(env, "--state", "done")
    assert done["total"] == len(GOOD_PAGES)
    assert all(row["reason"] is None for row in done["articles"])

    table = mediamon(env, "articles", "--state", "failed")
    assert table.returncode == 0, table.stderr
    assert "failed articles: 4" in table.stdout
    assert "all 4 failed articles by reason" in table.stdout
    assert site.url("/gone/a") in table.stdout
    assert mediamon(env, "articles", "--state", "lost").returncode == 2


def test_export_includes_failed_articles_only_when_asked(env, site, feeds):
    _run(env, feeds)

    plain = [json.loads(line) for line in mediamon(env, "export").stdout.splitlines()]
    assert sorted(r["url"] for r in plain) == sorted(site.url(f"/pages/{p}") for p in GOOD_PAGES)
    assert all("state" not in r for r in plain), "the default export is unchanged"

    exported = mediamon(env, "export", "--include-failed")
    assert exported.returncode == 0, exported.stderr
    records = {r["url"]: r for r in map(json.loads, exported.stdout.splitlines())}
    assert len(records) == len(GOOD_PAGES) + 4, "the pending 404 is not final yet: not exported"
    nested = records[site.url("/nested")]
    assert (nested["state"], nested["reason"], nested["attempts"]) == ("failed", NESTED_REASON, 1)
    assert nested["title"] == "item 4", "a failed article keeps its feed entry's title"
    assert nested["text"] is None and nested["entities"] == [] and nested["claims"] == []
    for page in GOOD_PAGES:
        done = records[site.url(f"/pages/{page}")]
        assert (done["state"], done["reason"]) == ("done", None)
        assert done["text"]

    as_csv = mediamon(env, "export", "--include-failed", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(as_csv)))
    assert {"state", "reason", "attempts"} <= set(rows[0])
    assert {(r["url"], r["state"], r["reason"]) for r in rows if r["state"] == "failed"} >= {
        (site.url("/gone/a"), "failed", "HTTP 410"),
        (site.url("/report.pdf"), "failed", "not an HTML page (application/pdf)"),
    }
