"""Report speed at scale: trends, top lists, claim histories, spikes and search over a big store.

Builds a fresh PostgreSQL database (``mediamon_bench_<pid>``, migrated by ``alembic upgrade
head``, the shipped knowledge base synced), fills it in SQL with ``--articles`` stored articles
over the last twelve months and ``--matches`` claim matches, fills the trend rollup as the write
path would, then times the service functions the CLI and the read API call, and prints the
PostgreSQL plans of the statements they issue (``EXPLAIN (ANALYZE, BUFFERS)``). A smaller
SQLite store (``--sqlite-articles``, an even sample of the same articles) is timed the same way.

The data:

* daily volume with weekly seasonality (quiet weekends), a slow drift and a few bursts of
  two to four days around one entity and one claim; hours weighted to the Pakistani day;
* 20 outlets with Zipf-like shares; relevance skewed low (``U ** 1.7``, three decimals);
* title and text of a real article from the news corpus (``../shared/corpus/news``, read now,
  reused cyclically), each with its own canonical URL, so search runs on real prose;
* 2-4 entity mentions per article (Zipf-like popularity in the KB's order, so Pakistan is in
  about 60 % of articles; "Pakistan" is in 77 % of the corpus texts), claim matches per article
  in proportion to its relevance (a run of consecutive claims from a Zipf-like start, so each
  is distinct; stances asserts 55 %, reports 35 %, denies 10 %), each with a real sentence of
  the text as evidence;
* ``trend_count`` filled by one ``INSERT … SELECT … GROUP BY`` with the relevance band of
  ``schema.rollup.relevance_band`` written in SQL (checked against the Python function), then
  checked on sample days against a recount from the rows with ``schema.rollup.contribution``.

Bulk-load shortcuts (the schema the queries see is the migrated one): secondary indexes and
unique constraints are dropped during the load and rebuilt from their own definitions; foreign
keys are not checked while loading (``session_replication_role = replica``; the ids are right by
construction). ``article.search_tsv`` is a generated column; computing it for every row costs
~25 CPU-minutes at 1M articles, so by default its expression is dropped (``DROP EXPRESSION``,
the column, its type and its GIN index stay) and each row gets its corpus article's vector,
computed once per corpus article with the migration's own expression (checked on a sample).
``--computed-tsv`` keeps the generated column and lets PostgreSQL compute every row.

Generation takes 10-14 minutes at the defaults on the 2-core development machine, most of it
the GIN build (single-threaded; it runs beside the other steps). ``--keep`` keeps the database;
``--reuse NAME`` times a kept one again without generating (after a change to a query or an
index), ``--only TEXT`` times only the queries whose name holds TEXT.

Run: ``.venv/bin/python -m bench.reports [--articles 1000000] [--matches 5000000]
[--sqlite-articles 100000] [--database-url postgresql://postgres@127.0.0.1/] [--runs 20] [--keep]
[--reuse DATABASE] [--only TEXT] [--no-plans]``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from matching.kb import KnowledgeBase, load_kb
from schema import rollup
from schema.db import make_engine, make_session_factory, upgrade_database
from schema.models import Article, ArticleState, ClaimMatch, Mention, TrendCount, TrendHour
from schema.writes import sync_kb
from services import reports
from tests.support.news import NewsArticle, news

TARGET_MS = 200.0
CHUNK = 50_000  # articles per generating statement: bounded transactions, two run at once
WORKERS = 2
#: Outlets with Zipf-like shares (hosts without www., as ``article.source`` stores them).
OUTLETS = (
    "dawn.com",
    "tribune.com.pk",
    "thenews.com.pk",
    "app.com.pk",
    "geo.tv",
    "arynews.tv",
    "brecorder.com",
    "nation.com.pk",
    "dailytimes.com.pk",
    "pakobserver.net",
    "tolonews.com",
    "pajhwok.com",
    "khaama.com",
    "amu.tv",
    "aljazeera.com",
    "reuters.com",
    "bbc.com",
    "thediplomat.com",
    "voanews.com",
    "hindustantimes.com",
)
#: Share of articles per UTC hour (Pakistan is UTC+5: most news appears 03:00-17:00 UTC).
HOUR_WEIGHTS = (2, 2, 3, 5, 7, 8, 8, 8, 8, 7, 7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 2, 2)
WEEKDAY_FACTOR = (1.05, 1.08, 1.06, 1.04, 0.95, 0.72, 0.62)  # Monday first
SLOTS = 1000  # weighted draws in SQL: an array of SLOTS values, each repeated by its weight


# --------------------------------------------------------------------------------------------
# The plan: what every article will be, decided in Python, expanded in SQL
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    day: date
    first_id: int
    n: int
    span_s: int  # seconds of the day that are in the past (the last day is partial)
    burst_entity: str | None = None
    burst_claim_pos: int | None = None


@dataclass(frozen=True)
class Plan:
    days: list[Day]
    entities: list[str]  # by popularity, most mentioned first (the KB's order: Pakistan first)
    claims: list[str]  # by popularity (a seeded shuffle)
    now: datetime

    @property
    def articles(self) -> int:
        return sum(d.n for d in self.days)

    def busiest(self) -> Day:
        return max(self.days, key=lambda d: d.n)


def slots(values: Sequence[Any], weights: Sequence[float]) -> list[Any]:
    """``SLOTS`` values, each as often as its weight says: a weighted draw in SQL is one index."""
    total = sum(weights)
    counts = [max(1, round(w / total * SLOTS)) for w in weights]
    out = [v for v, c in zip(values, counts, strict=True) for _ in range(c)]
    return (out + [values[0]] * SLOTS)[:SLOTS]


def zipf(n: int, s: float) -> list[float]:
    return [1 / (rank**s) for rank in range(1, n + 1)]


def make_plan(articles: int, kb: KnowledgeBase, now: datetime, rng: random.Random) -> Plan:
    """365 days ending now: each day's article count and, on burst days, the burst's subject."""
    today = now.date()
    days = [today - timedelta(days=364 - i) for i in range(365)]
    entities = [e.id for e in kb.entities]
    claims = [c.id for c in kb.claims]
    rng.shuffle(claims)
    bursts: dict[date, tuple[str, int, float]] = {}
    for _ in range(9):
        start = rng.randrange(0, 360)
        subject = (rng.choice(entities[:15]), rng.randrange(len(claims)))
        peak = rng.uniform(1.8, 3.0)
        for k in range(rng.randint(2, 4)):
            bursts[days[start + k]] = (*subject, 1 + (peak - 1) / (k + 1))
    now_s = int((now - datetime.combine(today, clock(), tzinfo=UTC)).total_seconds())
    weights = []
    for i, day in enumerate(days):
        drift = 0.85 + 0.3 * i / 364 + 0.08 * math.sin(i / 29)
        burst = bursts.get(day, ("", 0, 1.0))[2]
        noise = rng.lognormvariate(0, 0.12)
        partial = max(now_s, 60) / 86400 if day == today else 1.0
        weights.append(WEEKDAY_FACTOR[day.weekday()] * drift * burst * noise * partial)
    # Largest remainder: the counts add up to exactly ``articles``.
    exact = [w / sum(weights) * articles for w in weights]
    counts = [math.floor(x) for x in exact]
    for i in sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)[
        : articles - sum(counts)
    ]:
        counts[i] += 1
    plan, first = [], 1
    for day, n in zip(days, counts, strict=True):
        entity, claim_pos, _ = bursts.get(day, (None, None, 1.0))
        span = max(now_s, 60) if day == today else 86400
        plan.append(Day(day, first, n, span, entity, claim_pos))
        first += n
    return Plan(plan, entities, claims, now)


# --------------------------------------------------------------------------------------------
# PostgreSQL: database, generation, rollup
# --------------------------------------------------------------------------------------------


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(server_url: str, name: str) -> str:
    admin = make_url(server_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(drivername="postgresql+psycopg", database=name).render_as_string(False)


def drop_database(server_url: str, name: str) -> None:
    admin = make_url(server_url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: Session settings of the generating connections (never of the timed ones): foreign keys are not
#: checked row by row, commits do not wait for the disk, sorts and hashes get room, the one-off
#: statements are not JIT-compiled and the rollup's GROUP BY hashes instead of sorting 1.5M rows.
LOADING = (
    "SET session_replication_role = replica",
    "SET synchronous_commit = off",
    "SET maintenance_work_mem = '1GB'",
    "SET work_mem = '512MB'",
    "SET jit = off",
    "SET enable_sort = off",
)


@contextmanager
def loading(url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection set up for bulk loading: no per-row foreign-key triggers, no commit wait."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for setting in LOADING:
            conn.execute(setting)
        yield conn


class Steps:
    """Prints each generation step with its duration as it finishes."""

    def __init__(self) -> None:
        self.began = time.perf_counter()

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        print(f"  {label:<58} {time.perf_counter() - started:8.1f} s", flush=True)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.began


def relevance_band_sql(column: str) -> str:
    """``schema.rollup.relevance_band`` in SQL (PostgreSQL); :func:`check_band` holds them equal."""
    top = round(1 / rollup.RELEVANCE_BAND)
    steps = f"floor(round(({column} / {rollup.RELEVANCE_BAND!r})::numeric, 6))"
    return (
        f"CASE WHEN {column} IS NULL THEN '{rollup.NO_RELEVANCE}' ELSE "
        f"to_char(least(greatest({steps}, 0), {top}) * {rollup.RELEVANCE_BAND!r}, 'FM0.00') END"
    )


def check_band(conn: psycopg.Connection[Any], rng: random.Random) -> int:
    """The SQL band agrees with the Python one on grid points, their neighbours and random values."""
    grid = [k * rollup.RELEVANCE_BAND for k in range(round(1 / rollup.RELEVANCE_BAND) + 1)]
    values = [0.0, 1.0, *grid, *(g + 1e-9 for g in grid), *(g - 1e-9 for g in grid if g > 0)]
    values += [round(rng.random() ** 1.7, 3) for _ in range(5000)] + [rng.random() for _ in range(5000)]
    values += [k / 1000 for k in range(1001)]
    rows = conn.execute(
        f"SELECT r, {relevance_band_sql('r')} FROM unnest(%s::float8[]) AS r", [values]
    ).fetchall()
    wrong = [(r, band, rollup.relevance_band(r)) for r, band in rows if band != rollup.relevance_band(r)]
    if wrong:
        raise SystemExit(f"the SQL relevance band disagrees with schema.rollup on {wrong[:5]}")
    null = conn.execute(f"SELECT {relevance_band_sql('NULL::float8')}").fetchone()
    if not null or null[0] != rollup.relevance_band(None):
        raise SystemExit("the SQL relevance band of NULL disagrees with schema.rollup")
    return len(rows) + 1


SENTENCE = re.compile(r"[^.!?\n]+[.!?]+[\"'”’]?")


def sentences(body: str) -> list[tuple[int, int, str]]:
    """Evidence candidates: the article's sentences of 40-400 characters, with their offsets."""
    found = [
        (m.start(), m.end(), m.group().strip())
        for m in SENTENCE.finditer(body)
        if 40 <= len(m.group().strip()) <= 400
    ]
    return found or [(0, min(len(body), 200), body[:200])]


def load_corpus(conn: psycopg.Connection[Any], corpus: Sequence[NewsArticle], tsv_expression: str) -> None:
    """The real articles and their sentences as work tables; each text's search vector once."""
    conn.execute(
        "CREATE UNLOGGED TABLE bench_corpus "
        "(i int PRIMARY KEY, title text, text text, nsent int, tsv tsvector)"
    )
    conn.execute(
        "CREATE UNLOGGED TABLE bench_sentence (i int, k int, start int, stop int, sentence text, "
        "PRIMARY KEY (i, k))"
    )
    with conn.cursor() as cur:
        with cur.copy("COPY bench_corpus (i, title, text, nsent) FROM STDIN") as copy:
            for i, item in enumerate(corpus):
                copy.write_row((i, item.title, item.text, len(sentences(item.text))))
        with cur.copy("COPY bench_sentence FROM STDIN") as copy:
            for i, item in enumerate(corpus):
                for k, (start, stop, sentence) in enumerate(sentences(item.text)):
                    copy.write_row((i, k, start, stop, sentence))
    conn.execute(f"UPDATE bench_corpus SET tsv = {tsv_expression}")
    conn.execute("ANALYZE bench_corpus")
    conn.execute("ANALYZE bench_sentence")


def load_plan(conn: psycopg.Connection[Any], plan: Plan, corpus_size: int, matches: int) -> None:
    """``bench_plan``: one narrow row per article (date, outlet, relevance, how many mentions and
    claims), from which the article, mention and claim-match rows are generated in chunks."""
    conn.execute(
        "CREATE UNLOGGED TABLE bench_day (day date, first_id int, n int, span int, "
        "burst_entity text, burst_claim_pos int)"
    )
    with conn.cursor() as cur, cur.copy("COPY bench_day FROM STDIN") as copy:
        for d in plan.days:
            copy.write_row((d.day, d.first_id, d.n, d.span_s, d.burst_entity, d.burst_claim_pos))
    mean_relevance = 1 / 2.7  # E[U ** 1.7]
    per_article = matches / max(plan.articles, 1)
    claim_slots = slots(list(range(len(plan.claims))), zipf(len(plan.claims), 0.9))
    conn.execute(
        """
        CREATE UNLOGGED TABLE bench_plan AS
        SELECT id, dated_at, least(dated_at + make_interval(secs => lag_s), %(now)s) AS created_at,
               first_seen, source, relevance, (id - 1) %% %(corpus)s AS corpus_i,
               n_entities, burst_entity,
               least(%(claims)s, CASE WHEN burst_entity IS NULL THEN n_claims ELSE greatest(n_claims, 1) END)
                   AS n_claims,
               CASE WHEN burst_entity IS NULL THEN claim_start ELSE burst_claim_pos END AS claim_start
        FROM (
            SELECT id, day::timestamp AT TIME ZONE 'UTC' + make_interval(secs => second) AS dated_at,
                   CASE WHEN r_seen < 0.1 THEN 0 ELSE 300 + floor(r_lag * 14400) END AS lag_s,
                   r_seen < 0.1 AS first_seen, source, relevance, n_entities,
                   floor(%(per_article)s * relevance / %(mean_relevance)s + r_claims)::int AS n_claims,
                   claim_start,
                   CASE WHEN r_burst < 0.5 THEN burst_entity END AS burst_entity, burst_claim_pos
            FROM (
                SELECT g AS id, d.day, d.burst_entity, d.burst_claim_pos,
                       CASE WHEN h * 3600 < d.span
                            THEN h * 3600 + floor(r_second * least(3600, d.span - h * 3600))
                            ELSE floor(r_second * d.span) END AS second,
                       r_seen, r_lag, r_claims, r_burst, source, relevance, n_entities, claim_start
                FROM (
                    SELECT d.*, g,
                           (%(hours)s::int[])[1 + floor(random() * %(slots)s)::int] AS h,
                           random() AS r_second, random() AS r_seen, random() AS r_lag,
                           random() AS r_claims, random() AS r_burst,
                           (%(outlets)s::text[])[1 + floor(random() * %(slots)s)::int] AS source,
                           round(power(random(), 1.7)::numeric, 3)::float8 AS relevance,
                           2 + floor(random() * 3)::int AS n_entities,
                           (%(claim_slots)s::int[])[1 + floor(random() * %(slots)s)::int] AS claim_start
                    FROM bench_day d CROSS JOIN LATERAL generate_series(d.first_id, d.first_id + d.n - 1) g
                    OFFSET 0
                ) d
            ) e
        ) f
        """,
        {
            "now": plan.now,
            "corpus": corpus_size,
            "claims": len(plan.claims),
            "per_article": per_article,
            "mean_relevance": mean_relevance,
            "hours": slots(list(range(24)), HOUR_WEIGHTS),
            "slots": SLOTS,
            "outlets": slots(list(OUTLETS), zipf(len(OUTLETS), 1.0)),
            "claim_slots": claim_slots,
        },
    )
    conn.execute("ALTER TABLE bench_plan ADD PRIMARY KEY (id)")
    conn.execute("ANALYZE bench_plan")


ARTICLE_SQL = """
INSERT INTO article (id, canonical_url, url, final_url, state, attempts, http_status, title, site_name,
    language, published, published_source, dated_at, source, text, content_hash, relevance, story_id,
    created_at, updated_at, processed_at{tsv_column})
SELECT p.id, 'https://' || p.source || '/news/' || p.id, 'https://' || p.source || '/news/' || p.id,
    'https://' || p.source || '/news/' || p.id, 'done', 1, 200, c.title, p.source, 'en',
    CASE WHEN p.first_seen THEN NULL ELSE p.dated_at END,
    CASE WHEN p.first_seen THEN 'first_seen' WHEN p.id %% 10 = 0 THEN 'feed' ELSE 'page' END,
    p.dated_at, p.source, c.text, md5(p.id::text), p.relevance, p.id,
    p.created_at, p.created_at + interval '40 seconds', p.created_at + interval '40 seconds'{tsv_value}
FROM bench_plan p JOIN bench_corpus c ON c.i = p.corpus_i
WHERE p.id BETWEEN %(lo)s AND %(hi)s
"""

MENTION_SQL = """
INSERT INTO mention (article_id, entity_id, start, "end", text)
SELECT m.article_id, e.id, m.start, m.start + length(e.name), e.name
FROM (
    SELECT p.id AS article_id, (%(entities)s::text[])[1 + floor(random() * %(slots)s)::int] AS entity_id,
           j * 400 + p.id %% 97 AS start
    FROM bench_plan p CROSS JOIN LATERAL generate_series(1, p.n_entities) j
    WHERE p.id BETWEEN %(lo)s AND %(hi)s
    UNION ALL
    SELECT p.id, p.burst_entity, 5 FROM bench_plan p
    WHERE p.burst_entity IS NOT NULL AND p.id BETWEEN %(lo)s AND %(hi)s
    OFFSET 0
) m JOIN entity e ON e.id = m.entity_id
"""

CLAIM_SQL = """
INSERT INTO claim_match (article_id, claim_id, score, method, evidence, evidence_start, evidence_end,
    stance, created_at)
SELECT q.article_id, (%(claims)s::text[])[1 + (q.claim_start + q.j) %% %(n_claims)s], q.score, 'semantic',
       s.sentence, s.start, s.stop,
       CASE WHEN q.r_stance < 0.55 THEN 'asserts' WHEN q.r_stance < 0.9 THEN 'reports' ELSE 'denies' END,
       q.created_at
FROM (
    SELECT p.id AS article_id, p.claim_start, j, p.corpus_i, p.created_at,
           round((0.45 + random() * 0.55)::numeric, 4)::float8 AS score, random() AS r_stance
    FROM bench_plan p CROSS JOIN LATERAL generate_series(0, p.n_claims - 1) j
    WHERE p.id BETWEEN %(lo)s AND %(hi)s
    OFFSET 0
) q
JOIN bench_corpus c ON c.i = q.corpus_i
JOIN bench_sentence s ON s.i = q.corpus_i AND s.k = (q.article_id + q.j * 7) %% c.nsent
"""


#: Each rollup table and its bucket expression: (table, PostgreSQL, SQLite). SQLite keeps times
#: as text in SQLAlchemy's format, so a day or an hour is a prefix of it.
ROLLUP_TABLES = (
    ("trend_count", "(dated_at AT TIME ZONE 'UTC')::date", "substr(dated_at, 1, 10)"),
    ("trend_total", "(dated_at AT TIME ZONE 'UTC')::date", "substr(dated_at, 1, 10)"),
    (
        "trend_hour",
        "date_trunc('hour', dated_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
        "substr(dated_at, 1, 13) || ':00:00.000000'",
    ),
)

ROLLUP_NAMES = tuple(table for table, _, _ in ROLLUP_TABLES)


def rollup_sql(table: str, bucket: str, band: str = relevance_band_sql("relevance")) -> str:
    """One rollup table in one statement: what ``schema.rollup.contribution`` adds per article,
    summed to the table's grain (``schema.rollup.ROLLUPS``: one per article, one per distinct
    entity, one per distinct claim and stance, and, where the table keeps them, one per ordered
    pair of distinct entities and one per article under its outlet). Rows go in bucket by
    bucket, as the write path creates them, so the table's pages hold days together.
    ``bucket`` and ``band`` are the dialect's expressions."""
    spec = next(r for r in rollup.ROLLUPS if r.model.__tablename__ == table)
    grain = "hour" if "hour" in spec.columns else "day"
    outlet = ", source" if "source" in spec.columns else ""
    extra = (
        f"""
        UNION ALL
        SELECT '{rollup.PAIR}', m1.entity_id || '|' || m2.entity_id, '', a.bucket, a.source
        FROM (SELECT DISTINCT article_id, entity_id FROM mention) m1
        JOIN (SELECT DISTINCT article_id, entity_id FROM mention) m2
          ON m2.article_id = m1.article_id AND m2.entity_id <> m1.entity_id
        JOIN a ON a.id = m1.article_id"""
        if rollup.PAIR in spec.kinds
        else ""
    )
    if rollup.SOURCE in spec.kinds:
        extra += f"""
        UNION ALL
        SELECT '{rollup.SOURCE}', a.source, '', a.bucket, a.source FROM a"""
    return f"""
    INSERT INTO {table} (kind, key, stance, {grain}{outlet}, n)
    WITH a AS MATERIALIZED (
        SELECT id, {bucket} AS bucket, coalesce(source, '') AS source,
               {band} AS band
        FROM article WHERE state = 'done' AND dated_at IS NOT NULL
    )
    SELECT kind, key, stance, bucket{outlet}, count(*) FROM (
        SELECT '{rollup.ARTICLES}' AS kind, band AS key, '' AS stance, bucket, source FROM a
        UNION ALL
        SELECT '{rollup.ENTITY}', m.entity_id, '', a.bucket, a.source
        FROM (SELECT DISTINCT article_id, entity_id FROM mention) m JOIN a ON a.id = m.article_id
        UNION ALL
        SELECT '{rollup.CLAIM}', c.claim_id, coalesce(c.stance, ''), a.bucket, a.source
        FROM (SELECT DISTINCT article_id, claim_id, stance FROM claim_match) c
        JOIN a ON a.id = c.article_id{extra}
    ) contributions
    GROUP BY kind, key, stance, bucket{outlet}
    ORDER BY bucket, kind, key, stance{outlet}
    """


@dataclass
class Deferred:
    """Secondary indexes and unique constraints of the loaded tables, dropped for the load and
    rebuilt afterwards from their own definitions (``pg_get_indexdef``). A constraint's index is
    built first (a share lock, beside the other builds) and then attached to it (``ADD CONSTRAINT
    … USING INDEX``, instant), so no build waits for another's lock."""

    indexes: list[str] = field(default_factory=list)  # CREATE [UNIQUE] INDEX …
    constraints: list[str] = field(default_factory=list)  # ALTER TABLE … ADD CONSTRAINT … USING INDEX …

    @classmethod
    def drop(cls, conn: psycopg.Connection[Any], tables: Sequence[str], *, primary: bool = False) -> Deferred:
        """With ``primary`` the primary key goes too (a rollup loaded in one statement)."""
        deferred, drops = cls(), []
        kinds = ["u", "p"] if primary else ["u"]
        for table in tables:
            for name, kind, definition in conn.execute(
                "SELECT conname, contype, pg_get_indexdef(conindid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = ANY(%s)",
                [table, kinds],
            ):
                deferred.indexes.append(definition)
                key = "PRIMARY KEY" if kind == "p" else "UNIQUE"
                deferred.constraints.append(
                    f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {key} USING INDEX "{name}"'
                )
                drops.append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, definition in conn.execute(
                "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [table],
            ):
                deferred.indexes.append(definition)
                drops.append(f'DROP INDEX "{name}"')
        for drop in drops:
            conn.execute(drop)
        return deferred

    @property
    def gin(self) -> list[str]:
        return [d for d in self.indexes if "USING gin" in d]

    @property
    def btrees(self) -> list[str]:
        return [d for d in self.indexes if "USING gin" not in d]


def run_parallel(url: str, jobs: Sequence[tuple[str, dict[str, Any]]], seed: int) -> None:
    """Run statements on ``WORKERS`` loading connections at once, each job in its own transaction."""
    local = threading.local()
    connections: list[psycopg.Connection[Any]] = []
    lock = threading.Lock()

    def run(job: tuple[int, str, dict[str, Any]]) -> None:
        n, sql, params = job
        if not hasattr(local, "conn"):
            conn = psycopg.connect(libpq(url), autocommit=True)
            for setting in LOADING:
                conn.execute(setting)
            local.conn = conn
            with lock:
                connections.append(conn)
        # A seed per job: the same arguments give the same data whichever thread runs it.
        local.conn.execute("SELECT setseed(%s)", [((seed * 7919 + n) % 1999) / 1000 - 0.999])
        local.conn.execute(sql, params or None)

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            for future in [pool.submit(run, (n, sql, p)) for n, (sql, p) in enumerate(jobs)]:
                future.result()
    finally:
        for conn in connections:
            conn.close()


def chunks(total: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + CHUNK - 1, total)) for lo in range(1, total + 1, CHUNK)]


def generate_postgres(
    url: str, plan: Plan, matches: int, corpus: Sequence[NewsArticle], *, computed_tsv: bool, seed: int
) -> None:
    steps = Steps()
    print(f"generating {plan.articles:,} articles over {len(plan.days)} days in PostgreSQL:", flush=True)
    with loading(url) as conn:
        conn.execute("SELECT setseed(%s)", [seed / 1000])
        checked = check_band(conn, random.Random(seed))
        print(f"  relevance band in SQL = schema.rollup.relevance_band on {checked:,} values")
        expression = conn.execute(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
            "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
            "WHERE d.adrelid = 'article'::regclass AND a.attname = 'search_tsv'"
        ).fetchone()
        if expression is None:
            raise SystemExit("article.search_tsv is not a generated column: has the migration changed?")
        with steps.step(f"corpus: {len(corpus):,} real articles, their sentences and search vectors"):
            load_corpus(conn, corpus, expression[0])
        with steps.step("plan: date, outlet, relevance, counts per article"):
            load_plan(conn, plan, len(corpus), matches)
        if not computed_tsv:
            conn.execute("ALTER TABLE article ALTER COLUMN search_tsv DROP EXPRESSION")
        with steps.step("drop secondary indexes and unique constraints for the load"):
            deferred = Deferred.drop(conn, ["article", "mention", "claim_match"])
    slot_entities = slots(plan.entities, zipf(len(plan.entities), 1.1))
    tsv = ("", "") if computed_tsv else (", search_tsv", ", c.tsv")
    article_sql = ARTICLE_SQL.format(tsv_column=tsv[0], tsv_value=tsv[1])
    ranges = chunks(plan.articles)
    tables: list[tuple[str, str, dict[str, Any]]] = [
        ("article", article_sql, {}),
        ("mention", MENTION_SQL, {"entities": slot_entities, "slots": SLOTS}),
        ("claim_match", CLAIM_SQL, {"claims": plan.claims, "n_claims": len(plan.claims)}),
    ]
    for k, (table, sql, params) in enumerate(tables[:1]):
        with steps.step(f"{table} ({len(ranges)} statements, {WORKERS} at once)"):
            run_parallel(url, [(sql, {**params, "lo": lo, "hi": hi}) for lo, hi in ranges], seed * 10 + k)
    # The GIN build is single-threaded and the longest step: it runs beside all the rest.
    with ThreadPoolExecutor(1) as background:
        search_index = background.submit(timed, run_parallel, url, [(d, {}) for d in deferred.gin], seed)
        for k, (table, sql, params) in enumerate(tables[1:], 1):
            with steps.step(f"{table} ({len(ranges)} statements, {WORKERS} at once)"):
                jobs = [(sql, {**params, "lo": lo, "hi": hi}) for lo, hi in ranges]
                run_parallel(url, jobs, seed * 10 + k)
        with steps.step(f"rebuild {len(deferred.btrees)} btree indexes (unique ones too)"):
            run_parallel(url, [(d, {}) for d in deferred.btrees], seed)
        with loading(url) as conn:
            for table in ("article", "mention", "claim_match"):
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            for table, bucket, _ in ROLLUP_TABLES:
                with steps.step(f"{table}: one INSERT … SELECT … GROUP BY, then its indexes"):
                    rollup_indexes = Deferred.drop(conn, [table], primary=True)
                    conn.execute(rollup_sql(table, bucket))
                    for stmt in rollup_indexes.indexes + rollup_indexes.constraints:
                        conn.execute(stmt)
        with steps.step("waiting for the search index (GIN)"):
            gin_seconds = search_index.result()
        print(f"  {'search index (GIN), built beside the steps above':<58} {gin_seconds:8.1f} s")
    with loading(url) as conn:
        for stmt in deferred.constraints:
            conn.execute(stmt)
    with loading(url) as conn:
        with steps.step("VACUUM (ANALYZE)"):
            for table in ("article", "mention", "claim_match", *ROLLUP_NAMES, "entity", "claim"):
                conn.execute(f"VACUUM (ANALYZE) {table}")
        if not computed_tsv:
            check_tsv(conn, expression[0])
        for table in ("bench_plan", "bench_day", "bench_sentence", "bench_corpus"):
            conn.execute(f"DROP TABLE {table}")
        print(f"  {'generation in all':<58} {steps.elapsed:8.1f} s")
        print_sizes(conn)


def timed(function: Callable[..., object], *args: Any) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def check_tsv(conn: psycopg.Connection[Any], expression: str) -> None:
    """The copied search vectors equal what the generated column would have computed."""
    row = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE search_tsv IS DISTINCT FROM ({expression})) "
        "FROM article TABLESAMPLE SYSTEM (1) REPEATABLE (7)"
    ).fetchone()
    assert row is not None
    if row[1]:
        raise SystemExit(f"{row[1]} of {row[0]} sampled search vectors differ from the column's expression")
    print(f"  search vectors: {row[0]:,} sampled rows equal the generated column's expression")


def print_sizes(conn: psycopg.Connection[Any]) -> None:
    print(f"{'table':<14} {'rows':>12} {'total size':>12} {'of which indexes':>17}")
    for table in ("article", "mention", "claim_match", *ROLLUP_NAMES):
        row = conn.execute(
            f"SELECT count(*), pg_total_relation_size('{table}'), pg_indexes_size('{table}') FROM {table}"
        ).fetchone()
        assert row is not None
        print(f"{table:<14} {row[0]:>12,} {mib(row[1]):>12} {mib(row[2]):>17}")
    size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    assert size is not None
    print(f"{'database':<14} {'':>12} {mib(size[0]):>12}")


def mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


# --------------------------------------------------------------------------------------------
# SQLite: an even sample of the same articles
# --------------------------------------------------------------------------------------------


def build_sqlite(pg_url: str, path: Path, wanted: int, total: int, kb: KnowledgeBase) -> str:
    """Copy every (total/wanted)-th PostgreSQL article with its mentions and claim matches into a
    migrated SQLite store (so both cover the same year), then fill its rollup in one statement."""
    url = f"sqlite:///{path}"
    steps = Steps()
    wanted = min(wanted, total)
    print(f"copying {wanted:,} of the {total:,} articles to SQLite ({path}):", flush=True)
    upgrade_database(url)
    engine = make_engine(url)
    columns = [c.name for c in Article.__table__.columns]
    tables: list[tuple[Any, list[str], str]] = [
        (Article.__table__, columns, "id"),
        (Mention.__table__, [c.name for c in Mention.__table__.columns], "article_id"),
        (ClaimMatch.__table__, [c.name for c in ClaimMatch.__table__.columns], "article_id"),
    ]
    with make_session_factory(engine).begin() as session:
        sync_kb(session, kb)
    with engine.begin() as sqlite, psycopg.connect(libpq(pg_url)) as pg:
        pg.execute(
            "CREATE TEMP TABLE bench_sample AS SELECT id FROM article "
            "WHERE floor(id::numeric * %(w)s / %(t)s) <> floor((id - 1)::numeric * %(w)s / %(t)s)",
            {"w": wanted, "t": total},
        )
        for table, names, key in tables:
            with steps.step(f"{table.name}"):
                quoted = ", ".join(f'"{n}"' for n in names)
                with pg.cursor(name=f"copy_{table.name}") as cursor:
                    cursor.itersize = 5000
                    cursor.execute(
                        f"SELECT {quoted} FROM {table.name} "
                        f"WHERE {key} IN (SELECT id FROM bench_sample) ORDER BY id"
                    )
                    while batch := cursor.fetchmany(5000):
                        sqlite.execute(insert(table), [dict(zip(names, row, strict=True)) for row in batch])
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        driver.create_function("relevance_band", 1, rollup.relevance_band, deterministic=True)
        for table, _, bucket in ROLLUP_TABLES:
            with steps.step(f"{table}: one INSERT … SELECT … GROUP BY"):
                # The band is the write path's own function.
                driver.execute(rollup_sql(table, bucket, band="relevance_band(relevance)"))
                driver.commit()
        with steps.step("ANALYZE"):
            driver.execute("ANALYZE")
            driver.commit()
    finally:
        raw.close()
    print(f"  {'copy in all':<58} {steps.elapsed:8.1f} s")
    with engine.connect() as conn:
        for table in ("article", "mention", "claim_match", *ROLLUP_NAMES):
            print(f"{table:<14} {conn.execute(text(f'SELECT count(*) FROM {table}')).scalar_one():>12,}")
    print(f"{'file':<14} {'':>12} {mib(path.stat().st_size):>12}")
    engine.dispose()
    return url


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def verify_rollup(sessions: sessionmaker[Session], days: Sequence[date]) -> None:
    """The rollup of each day equals a recount of that day's rows with the write path's own
    ``schema.rollup.contribution``."""
    checked = 0
    for day in days:
        start = datetime.combine(day, clock(), tzinfo=UTC)
        with sessions() as session:
            rows = session.execute(
                select(Article.id, Article.dated_at, Article.source, Article.relevance).where(
                    Article.state == ArticleState.DONE,
                    Article.dated_at >= start,
                    Article.dated_at < start + timedelta(days=1),
                )
            ).all()
            ids = [r.id for r in rows]
            entities: dict[int, list[str]] = {}
            claims: dict[int, list[tuple[str, str | None]]] = {}
            for i in range(0, len(ids), 5000):
                batch = ids[i : i + 5000]
                for article_id, entity_id in session.execute(
                    select(Mention.article_id, Mention.entity_id).where(Mention.article_id.in_(batch))
                ):
                    entities.setdefault(article_id, []).append(entity_id)
                for article_id, claim_id, stance in session.execute(
                    select(ClaimMatch.article_id, ClaimMatch.claim_id, ClaimMatch.stance).where(
                        ClaimMatch.article_id.in_(batch)
                    )
                ):
                    claims.setdefault(article_id, []).append((claim_id, stance))
            recount: Counter[rollup.CounterKey] = Counter()
            for r in rows:
                assert r.dated_at is not None
                recount += rollup.contribution(
                    r.dated_at, r.source, r.relevance, entities.get(r.id, []), claims.get(r.id, [])
                )
            end = start + timedelta(days=1)
            for table in rollup.ROLLUPS:
                model = table.model
                bucket = model.hour if model is TrendHour else model.day  # type: ignore[union-attr]
                window = (bucket >= start, bucket < end) if model is TrendHour else (bucket == day,)
                columns = [getattr(model, name) for name in table.columns]
                stored = sorted(
                    (tuple(row[:-1]), row[-1])
                    for row in session.execute(select(*columns, model.n).where(*window))
                    if row[-1]
                )
                expected = sorted((tuple(r[c] for c in table.columns), r["n"]) for r in table.rows(recount))
                if stored != expected:
                    differ = sorted(set(stored) ^ set(expected))[:5]
                    raise SystemExit(
                        f"{model.__tablename__} of {day} differs from a recount of its rows, e.g. {differ}"
                    )
                checked += len(stored)
        print(f"  rollup check {day}: {len(rows):,} articles, every rollup table = recount")
    print(f"  rollup check: {len(days)} days, {checked:,} counters, all equal to a recount from the rows")


def sample_days(plan: Plan, rng: random.Random) -> list[date]:
    picks = {plan.busiest().day, plan.days[-2].day, plan.days[-1].day}
    picks.update(rng.choice(plan.days).day for _ in range(3))
    return sorted(picks)


# --------------------------------------------------------------------------------------------
# Timing the service functions
# --------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    call: Callable[[], object]


@dataclass
class Statement:
    sql: str
    params: Any
    ms: float = 0.0


class Capture:
    """Collects the SQL an engine issues (with parameters and time) while switched on, and adds
    up the time of every statement in ``sql_ms`` all the time."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.statements: list[Statement] = []
        self.sql_ms = 0.0
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        self._started = time.perf_counter()
        if self.on:
            self.statements.append(Statement(sql, params))

    def _after(self, conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        ms = (time.perf_counter() - self._started) * 1000
        self.sql_ms += ms
        if self.on and self.statements:
            self.statements[-1].ms = ms

    @contextmanager
    def during(self) -> Iterator[list[Statement]]:
        self.statements = []
        self.on = True
        try:
            yield self.statements
        finally:
            self.on = False


def optional(module: str, name: str) -> Any:
    """A service function if it exists yet (others are writing some of them)."""
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


def cases(sessions: sessionmaker[Session], plan: Plan, settings: Settings, now: datetime) -> list[Case]:
    """The calls ``mediamon report …`` and the read API make, on this store."""
    threshold = settings.relevance_threshold
    popular_entity, middling_entity = plan.entities[0], plan.entities[len(plan.entities) // 2]
    top_outlet = OUTLETS[0]

    def trend(label: str, since: timedelta, by: Any, **filters: Any) -> Case:
        query = reports.TrendQuery(since=now - since, until=now, by=by, **filters)
        return Case(label, lambda: reports.trends(sessions, query, on_theme_threshold=threshold))

    day, year = timedelta(days=30), timedelta(days=365)
    found = [
        trend("trends by day, 30 days", day, "day"),
        trend("trends by day, 365 days", year, "day"),
        trend("trends by week, 365 days", year, "week"),
        trend("trends by hour, 48 hours", timedelta(hours=48), "hour"),
        trend("trends by day, 30 days, --normalize", day, "day", normalize=True),
        trend("trends by day, 365 days, --normalize", year, "day", normalize=True),
        trend(f"trends by day, 365 days, entity {popular_entity}", year, "day", entity_ids=(popular_entity,)),
        trend(f"trends by day, 365 days, source {top_outlet}", year, "day", sources=(top_outlet,)),
        trend("trends by day, 30 days, Asia/Karachi", day, "day", tz="Asia/Karachi"),
    ]
    top, top_query = optional("services.reports", "top"), optional("services.reports", "TopQuery")
    if top and top_query:
        for label, since, entity in (
            ("top lists, 30 days", day, None),
            ("top lists, 365 days", year, None),
            (f"top lists, 30 days, co-occurring with {popular_entity}", day, popular_entity),
            (f"top lists, 30 days, co-occurring with {middling_entity}", day, middling_entity),
        ):
            query = top_query(since=now - since, until=now, sources=(), entity_id=entity, limit=10)
            found.append(Case(label, partial(top, sessions, query)))
    history = optional("services.reports", "claim_history")
    if history:
        with sessions() as session:  # the most matched claim and the median one
            ranked = session.execute(
                select(TrendCount.key, func.sum(TrendCount.n))
                .where(TrendCount.kind == rollup.CLAIM)
                .group_by(TrendCount.key)
                .order_by(func.sum(TrendCount.n).desc(), TrendCount.key)
            ).all()
        for claim_id, n in (ranked[0], ranked[len(ranked) // 2]) if ranked else ():
            label = f"claim history, {claim_id} ({n:,} articles)"
            found.append(Case(label, partial(history, sessions, claim_id, now=now)))
    found += extra_cases(sessions, plan, settings, now)
    return found


def extra_cases(sessions: sessionmaker[Session], plan: Plan, settings: Settings, now: datetime) -> list[Case]:
    """Spikes and search, once their services exist."""
    found: list[Case] = []
    spikes, spike_query = optional("services.spikes", "spikes"), optional("services.spikes", "SpikeQuery")
    if spikes and spike_query:
        for label, granularity in (
            ("spikes by day, 30 days (entities and claims)", "day"),
            ("spikes by hour, 48 hours", "hour"),
        ):
            query = spike_query(now=now, granularity=granularity)
            found.append(Case(label, partial(spikes, sessions, query)))
    search, search_query = (
        optional("services.search", "search"),
        optional("schema.queries.search", "SearchQuery"),
    )
    if search and search_query:
        month = now - timedelta(days=30)
        # Share of corpus articles holding the words: Pakistan 77 %, "Imran Khan" 3 %, Taliban
        # 2.4 %, earthquake 0.4 %.
        for label, words, filters in (
            ("search Pakistan (most articles match)", "Pakistan", {}),
            ("search Pakistan, 30 days", "Pakistan", {"since": month}),
            ("search Taliban", "Taliban", {}),
            ("search Taliban, 30 days", "Taliban", {"since": month}),
            ('search "Imran Khan" (a phrase)', '"Imran Khan"', {}),
            ("search earthquake (a rare word)", "earthquake", {}),
            (f"search drone, entity {plan.entities[0]}", "drone", {"entity_ids": (plan.entities[0],)}),
        ):
            query = search_query(text=words, **filters)
            found.append(Case(label, partial(search, sessions, query)))
    return found


def percentile(values: Sequence[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def time_cases(
    label: str, found: Sequence[Case], capture: Capture, runs: int
) -> list[tuple[Case, list[Statement]]]:
    """Each case: a warm-up (its SQL captured for the plans), then ``runs`` timed calls, or a
    quarter of them when the warm-up took over ten times the target (the verdict is clear and
    the full count would take many minutes). "SQL ms" is the median time spent in the database
    driver's execute per call; the rest of a call is Python (ORM rows, building the result)."""
    print(
        f"\n{label}: {runs} runs each after one warm-up (a quarter when the warm-up took over "
        f"{10 * TARGET_MS / 1000:.0f} s); target p95 < {TARGET_MS:.0f} ms"
    )
    if label.startswith("SQLite"):
        print("(SQLite computes rows as they are fetched: its SQL ms is only the first step of each query)")
    width = max([len(c.name) for c in found] + [20])
    print(
        f"{'query':<{width}} {'runs':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL ms':>8} "
        f"{'stmts':>5}  result"
    )
    captured = []
    for case in found:
        started = time.perf_counter()
        with capture.during() as statements:
            case.call()
        slow = time.perf_counter() - started > 10 * TARGET_MS / 1000
        times, sql = [], []
        for _ in range(max(3, runs // 4) if slow else runs):
            capture.sql_ms = 0.0
            started = time.perf_counter()
            case.call()
            times.append((time.perf_counter() - started) * 1000)
            sql.append(capture.sql_ms)
        p50, p95 = statistics.median(times), percentile(times, 95)
        verdict = "PASS" if p95 < TARGET_MS else "FAIL"
        print(
            f"{case.name:<{width}} {len(times):>4} {p50:>8.1f} {p95:>8.1f} {max(times):>8.1f} "
            f"{statistics.median(sql):>8.1f} {len(statements):>5}  {verdict}",
            flush=True,
        )
        captured.append((case, statements))
    return captured


#: PostgreSQL statements quicker than this in the captured call get no plan (lookups of the KB
#: tables and the like); SQLite's are all shown (its execute time says nothing, see time_cases).
PLAN_FROM_MS = 10.0


def print_plans(engine: Engine, captured: Sequence[tuple[Case, list[Statement]]], analyze: bool) -> None:
    """Each captured statement's plan: ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN
    QUERY PLAN`` on SQLite, with the parameters the service bound."""
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN QUERY PLAN "
    for case, statements in captured:
        quick = [s for s in statements if analyze and s.ms < PLAN_FROM_MS]
        if quick:
            total = sum(s.ms for s in quick)
            print(
                f"\n--- {case.name}: {len(quick)} of {len(statements)} statements took under "
                f"{PLAN_FROM_MS:.0f} ms each ({total:.1f} ms together), plans not shown"
            )
        for n, statement in enumerate(statements, 1):
            if statement in quick:
                continue
            print(f"\n--- {case.name}: statement {n}/{len(statements)} ({statement.ms:.1f} ms in the call)")
            print("    " + " ".join(statement.sql.split()))
            print(f"    parameters: {statement.params}")
            with engine.connect() as conn:
                rows = conn.exec_driver_sql(prefix + statement.sql, statement.params).all()
            for row in rows:
                line = row[0] if analyze else f"{'  ' * _depth(rows, row)}{row[-1]}"
                print(f"    {line}")


def _depth(rows: Sequence[Any], row: Any) -> int:
    """Nesting of an ``EXPLAIN QUERY PLAN`` row (its parent chain)."""
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


# --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000, help="stored articles in PostgreSQL")
    parser.add_argument("--matches", type=int, default=5_000_000, help="claim matches in PostgreSQL (about)")
    parser.add_argument("--sqlite-articles", type=int, default=100_000, help="articles in SQLite (0: none)")
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1/", help="PostgreSQL server"
    )
    parser.add_argument("--runs", type=int, default=20, help="timed runs per query")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database and the SQLite file")
    parser.add_argument(
        "--reuse", metavar="DATABASE", help="time a database kept by an earlier --keep run (same --articles)"
    )
    parser.add_argument("--only", metavar="TEXT", help="time only the queries whose name holds TEXT")
    parser.add_argument(
        "--computed-tsv", action="store_true", help="let PostgreSQL compute every search vector (slow)"
    )
    parser.add_argument("--no-plans", action="store_true", help="skip the EXPLAIN output")
    args = parser.parse_args()

    settings = Settings()
    kb = load_kb(settings.kb_path)
    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(microsecond=0)
    plan = make_plan(args.articles, kb, now, rng)
    corpus = news()
    name = args.reuse or f"mediamon_bench_{os.getpid()}"
    matches = "" if args.reuse else f"~{args.matches:,} claim matches, "
    print(
        f"mediamon report benchmark: {args.articles:,} articles, {matches}"
        f"{len(plan.entities)} entities, {len(plan.claims)} claims, {len(OUTLETS)} outlets, "
        f"{plan.days[0].day} to {now:%Y-%m-%d %H:%M} UTC; texts from {len(corpus):,} real articles"
    )
    if args.reuse:
        url = make_url(args.database_url).set(drivername="postgresql+psycopg", database=name)
        url_text = url.render_as_string(hide_password=False)
    else:
        url_text = create_database(args.database_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="mediamon-bench-reports-"))
    engines: list[Engine] = []
    try:
        engine = make_engine(url_text)
        engines.append(engine)
        sessions = make_session_factory(engine)
        if not args.reuse:
            started = time.perf_counter()
            upgrade_database(url_text)
            with sessions.begin() as session:
                sync_kb(session, kb)
            label = f"database {name} migrated (alembic), KB synced"
            print(f"  {label:<58} {time.perf_counter() - started:8.1f} s")
            generate_postgres(
                url_text, plan, args.matches, corpus, computed_tsv=args.computed_tsv, seed=args.seed
            )
        else:
            with psycopg.connect(libpq(url_text)) as conn:
                print_sizes(conn)
        verify_rollup(sessions, sample_days(plan, rng))
        stores = [(f"PostgreSQL, {args.articles:,} articles", engine, sessions)]
        if args.sqlite_articles:
            sqlite_url = build_sqlite(
                url_text, workdir / "reports.db", args.sqlite_articles, plan.articles, kb
            )
            sqlite_engine = make_engine(sqlite_url)
            engines.append(sqlite_engine)
            sqlite_sessions = make_session_factory(sqlite_engine)
            verify_rollup(sqlite_sessions, sample_days(plan, rng))
            sqlite_label = f"SQLite, {min(args.sqlite_articles, plan.articles):,} articles"
            stores.append((sqlite_label, sqlite_engine, sqlite_sessions))
        timed_stores = []
        for label, store_engine, store_sessions in stores:
            found = [
                c for c in cases(store_sessions, plan, settings, now) if not args.only or args.only in c.name
            ]
            timed_stores.append((store_engine, time_cases(label, found, Capture(store_engine), args.runs)))
        if not args.no_plans:
            for (label, *_), (store_engine, captured) in zip(stores, timed_stores, strict=True):
                postgres = store_engine.dialect.name == "postgresql"
                how = "EXPLAIN (ANALYZE, BUFFERS)" if postgres else "EXPLAIN QUERY PLAN"
                print(f"\n{label}: plans ({how}) of the statements each call issued, with its parameters")
                print_plans(store_engine, captured, analyze=postgres)
    finally:
        for each in engines:
            each.dispose()
        if args.keep or args.reuse:
            print(f"\nkept: database {name} and {workdir}")
        else:
            drop_database(args.database_url, name)
            for path in sorted(workdir.glob("*"), reverse=True):
                path.unlink()
            workdir.rmdir()


if __name__ == "__main__":
    main()
