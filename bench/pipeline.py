"""Pipeline benchmark: the whole feed-to-matches path over the corpus pages served on 127.0.0.1.

Prints, from one run:
* ms per article for each stage (fetch, parse, clean, dedupe, match, store),
* articles per second for the whole one-shot pass and peak memory (max RSS),
* the same pages through trafilatura alone (``bare_extraction``, sequential) and the ratio of
  the whole pipeline to it (target: ≤ 1.5×, extraction should dominate),
* extraction quality against the corpus gold snippets.

Run: ``make bench`` or ``.venv/bin/python -m bench.pipeline [--pages N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import tempfile
import time
from pathlib import Path

import trafilatura

from config.settings import DEFAULT_KB_PATH, Settings
from ingest.http import Fetcher, FetchPolicy
from ingest.outcomes import ArticleReport, PollReport
from matching.kb import load_kb
from matching.matcher import Matcher
from schema.db import make_engine, make_session_factory, upgrade_database
from schema.models import Feed
from services.articles import ArticleProcessor
from services.knowledge import sync_kb
from services.limits import WriteLimits
from services.polling import FeedPoller
from services.run_once import run_once
from services.wiring import build_matcher
from tests.support.corpus_site import PAGES_DIR, CorpusSite, load_manifest
from tests.support.extraction_quality import score_extraction

STAGES = ("fetch", "parse", "clean", "dedupe", "match", "store")


def run_pipeline(
    site: CorpusSite, pages: int, workdir: Path, matcher: Matcher
) -> tuple[float, dict[str, list[float]], int]:
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    policy = FetchPolicy(user_agent="mediamon-bench", allowed_private_hosts=frozenset({"127.0.0.1"}))
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    done = 0

    def on_progress(kind: str, item: object) -> None:
        nonlocal done
        if kind == "feed" and isinstance(item, PollReport):
            timings["parse"].append(item.parse_ms)
        elif kind == "article" and isinstance(item, ArticleReport):
            done += item.outcome in ("done", "duplicate", "failed")
            for stage in STAGES:
                if stage in item.timings_ms:
                    timings[stage].append(item.timings_ms[stage])

    with Fetcher(policy) as fetcher:
        limits = WriteLimits(fetch_workers=4)
        articles = ArticleProcessor(sessions, fetcher, Matcher(load_kb(DEFAULT_KB_PATH)), limits)
        sync_kb(sessions, articles.matcher.kb)
        with sessions.begin() as session:
            feed = Feed(url=site.url(f"/feeds/corpus.rss?n={pages}"))
            session.add(feed)
            session.flush()
            feed_id = feed.id
        started = time.perf_counter()
        run_once(FeedPoller(sessions, fetcher, limits), articles, [feed_id], progress=on_progress)
        elapsed = time.perf_counter() - started
    engine.dispose()
    # The feed's parse time is spread over its articles, as the other stages are per article.
    parse_total = sum(timings["parse"])
    timings["parse"] = [parse_total / max(done, 1)] * max(done, 1)
    return elapsed, timings, done


def run_trafilatura_alone(pages: int) -> float:
    files = [PAGES_DIR / page["file"] for page in load_manifest()[:pages]]
    contents = [f.read_bytes() for f in files]
    started = time.perf_counter()
    for content in contents:
        trafilatura.bare_extraction(content, with_metadata=True, include_comments=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=len(load_manifest()), help="corpus pages (max 160)")
    args = parser.parse_args()
    pages = min(args.pages, len(load_manifest()))

    # Warm up imports and lazy initialisation on both sides so neither pays it in the timing.
    run_trafilatura_alone(3)
    gc.collect()
    alone = run_trafilatura_alone(pages)
    matcher = build_matcher(Settings(), load_kb(DEFAULT_KB_PATH))  # the configured method (semantic)
    matcher.match("Warm-up: the ISI armed the Taliban.")
    with CorpusSite() as site, tempfile.TemporaryDirectory() as workdir:
        elapsed, timings, done = run_pipeline(site, pages, Path(workdir), matcher)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"mediamon pipeline benchmark: {pages} corpus pages served on 127.0.0.1, SQLite store, "
        f"{matcher.claims.method} claim matching"
    )
    print(f"{'stage':<8} {'mean ms':>9} {'median':>9} {'p95':>9} {'n':>5}")
    for stage in STAGES:
        values = timings[stage]
        if not values:
            continue
        p95 = statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]
        mean, median = statistics.fmean(values), statistics.median(values)
        print(f"{stage:<8} {mean:>9.2f} {median:>9.2f} {p95:>9.2f} {len(values):>5}")
    print(f"whole pipeline: {elapsed:.2f} s for {done} articles = {done / elapsed:.1f} articles/s")
    print(f"trafilatura alone on the same pages: {alone:.2f} s = {pages / alone:.1f} pages/s")
    print(f"ratio whole pipeline / trafilatura alone: {elapsed / alone:.2f}x (target <= 1.5x)")
    print(f"peak memory (max RSS): {peak_mib:.0f} MiB")
    quality = score_extraction("en")
    print(
        f"extraction quality (English pages, gold snippets): precision {quality.precision:.3f} "
        f"recall {quality.recall:.3f} F1 {quality.f1:.3f} ({quality.failed} pages not extracted)"
    )


if __name__ == "__main__":
    main()
