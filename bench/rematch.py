"""Rematch benchmark: how long stored articles take to reach a new matcher version.

Stores ``--articles`` real corpus articles (Dawn and APP, the first by id: on and off the
theme, as a real store holds them) as an older matcher left them, then has the configured
matcher (semantic by default) match them again batch by batch, as a worker's
``rematch_stale`` does (``services.rematch.rematch_batch``). Prints, from one run:

* articles per second and ms per article (wall time, one process, one encoder thread),
* the time one worker would take over the whole 6,447-article corpus at that rate,
* claim matches before (none: the older matcher's were cleared) and after,
* peak memory (max RSS).

Run: ``.venv/bin/python -m bench.rematch [--articles N] [--database-url URL]`` (default: a
fresh SQLite file in a temporary folder; a PostgreSQL URL is migrated and must be empty).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from config.settings import Settings
from matching.kb import load_kb
from schema.db import make_engine, make_session_factory, upgrade_database
from services.knowledge import sync_kb
from services.rematch import BATCH, announce_worker_version, rematch_batch
from services.wiring import build_matcher
from tests.support.news import NewsArticle, news
from tests.support.stored import store_matched

CORPUS_ARTICLES = 6447


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="stored articles to match again")
    parser.add_argument("--database-url", help="an empty database (default: SQLite in a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database_url or f"sqlite:///{Path(workdir) / 'rematch.db'}"
        run(url, args.articles)


def run(url: str, count: int) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    settings = Settings()
    kb = load_kb(settings.kb_path)
    by_url: dict[str, NewsArticle] = {}
    for article in sorted(news(), key=lambda article: article.id):
        by_url.setdefault(article.url, article)  # one row per URL, as the store keeps them
    chosen = list(by_url.values())[:count]
    sync_kb(sessions, kb)
    with sessions.begin() as session:
        for article in chosen:
            store_matched(session, article).kb_version = "0+older"
    print(f"stored {len(chosen)} corpus articles as an older matcher left them ({url.split(':')[0]})")

    started = time.perf_counter()
    matcher = build_matcher(settings, kb)
    announce_worker_version(sessions, matcher)  # what a worker does when it starts
    print(
        f"matcher {matcher.version} ({settings.claim_method}) built in {time.perf_counter() - started:.1f} s"
    )

    batch_seconds: list[float] = []
    done = claims = 0
    started = time.perf_counter()
    while True:
        batch_started = time.perf_counter()
        report = rematch_batch(sessions, matcher)
        assert report is not None, "a newer version than the benchmark's was recorded"
        if not report.articles:
            break
        batch_seconds.append(time.perf_counter() - batch_started)
        done, claims = done + report.articles, claims + report.claims_after
        print(f"  batch of {report.articles}: {batch_seconds[-1]:.1f} s ({done}/{len(chosen)})", flush=True)
    elapsed = time.perf_counter() - started
    engine.dispose()

    per_article = elapsed / done if done else 0.0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"matched {done} stored articles again in {elapsed:.1f} s: {done / elapsed:.1f} articles/s, "
        f"{per_article * 1000:.0f} ms per article (median batch of {BATCH}: "
        f"{statistics.median(batch_seconds):.1f} s)"
    )
    print(f"claim matches: 0 before (cleared), {claims} after")
    print(
        f"one worker over the whole corpus ({CORPUS_ARTICLES} articles): "
        f"{CORPUS_ARTICLES * per_article / 60:.1f} min; peak memory {peak_mib:.0f} MiB"
    )


if __name__ == "__main__":
    main()
