"""`mediamon report trends | top | claim` on an embedded SQLite store of real articles."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from schema.db import make_engine, make_session_factory, upgrade_database
from tests.support.cli import local_site_env, mediamon
from tests.support.news import news
from tests.support.stored import store_matched, sync_shipped_kb

CLAIM = "isi-arms-militant-proxies"
PERIOD = ("--since", "2025-05-01", "--until", "2025-05-07")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A store of real articles from 1 to 7 May 2025 (every fourth one on the ISI claim)."""
    database = tmp_path_factory.mktemp("reports") / "reports.db"
    url = f"sqlite:///{database}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    chosen = [
        a for a in news() if date(2025, 5, 1) <= a.published.astimezone(UTC).date() <= date(2025, 5, 7)
    ][::20]
    with sessions.begin() as session:
        sync_shipped_kb(session)
        for i, article in enumerate(chosen):
            claims = [(CLAIM, "asserts" if i % 8 else "denies")] if i % 4 == 0 else []
            store_matched(session, article, entities=["pakistan"] + ["ttp"] * (i % 3 == 0), claims=claims)
    engine.dispose()
    return {**local_site_env(database), "STORED": str(len(chosen))}


def test_trends_table_has_a_sparkline_per_series(env):
    result = mediamon(env, "report", "trends", *PERIOD)
    assert result.returncode == 0, result.stderr
    assert "trends by day, 7 buckets (UTC)" in result.stdout
    for series in ("articles", "on_theme", "entity mentions", "claims:asserts", "claims:denies"):
        assert series in result.stdout
    assert any(glyph in result.stdout for glyph in "▂▃▄▅▆▇█")


def test_trends_csv_carries_count_total_and_ratio(env):
    result = mediamon(env, "report", "trends", *PERIOD, "--normalize", "--entity", "TTP", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {"bucket", "series", "count", "total", "ratio"} == set(rows[0])
    articles = [r for r in rows if r["series"] == "articles"]
    assert sum(int(r["count"]) for r in articles) == int(env["STORED"])
    for row in (r for r in rows if r["series"] == "entity:ttp"):
        total, count = int(row["total"]), int(row["count"])
        assert float(row["ratio"]) == pytest.approx(count / total if total else 0, abs=1e-6)


def test_trends_json_and_markdown_agree(env):
    as_json = json.loads(
        mediamon(env, "report", "trends", *PERIOD, "--by", "week", "--format", "json").stdout
    )
    markdown = mediamon(env, "report", "trends", *PERIOD, "--by", "week", "--format", "md").stdout
    weeks = sorted({r["bucket"] for r in as_json})
    assert weeks == ["2025-04-28T00:00:00+00:00", "2025-05-05T00:00:00+00:00"]
    lines = markdown.splitlines()
    assert lines[0].startswith("| bucket | articles | on_theme")
    totals = {r["bucket"][:10]: r["count"] for r in as_json if r["series"] == "articles"}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert int(cells[1]) == totals[cells[0]]


def test_trends_png_is_a_chart(env, tmp_path: Path):
    target = tmp_path / "trends.png"
    result = mediamon(env, "report", "trends", *PERIOD, "--format", "png", "-o", str(target))
    assert result.returncode == 0, result.stderr
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_top_and_claim_history(env):
    top = json.loads(
        mediamon(env, "report", "top", *PERIOD, "--entity", "pakistan", "--format", "json").stdout
    )
    assert top["total"] == int(env["STORED"])
    assert top["entities"][0]["key"] == "pakistan" and top["entities"][0]["share"] == 1.0
    assert [i["key"] for i in top["cooccurring"]] == ["ttp"]
    table = mediamon(env, "report", "top", *PERIOD)
    assert "top outlets" in table.stdout and "dawn.com" in table.stdout

    history = mediamon(env, "report", "claim", CLAIM)
    assert history.returncode == 0, history.stderr
    assert "first seen 2025-05-0" in history.stdout
    assert "denies→asserts" in history.stdout or "asserts→denies" in history.stdout
    as_json = json.loads(mediamon(env, "report", "claim", CLAIM, "--format", "json").stdout)
    assert as_json["articles"] == len(as_json["latest_events"]) == (int(env["STORED"]) + 3) // 4
    assert f"the {min(10, as_json['articles'])} latest of {as_json['articles']}" in history.stdout
    newest = as_json["latest_events"][0]
    assert newest["at"] == max(e["at"] for e in as_json["latest_events"])
    assert newest["title"][:20] in history.stdout, "the newest article is listed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("trends", "--by", "fortnight"), "--by must be one of hour, day, week, month"),
        (("trends", "--since", "last tuesday"), "neither a span like 30d"),
        (("trends", "--since", "2025-05-07", "--until", "2025-05-01"), "the period is empty"),
        (("trends", "--tz", "Mars/Olympus"), "unknown time zone"),
        (("trends", "--entity", "nobody"), "no entity called 'nobody'"),
        (("trends", "--stance", "maybe"), "--stance must be one of"),
        (("claim", "no-such-claim"), "no claim 'no-such-claim'"),
    ],
)
def test_mistakes_get_one_clear_line(env, args, message):
    result = mediamon(env, "report", *args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_an_empty_store_reports_zeros_not_an_error(tmp_path: Path):
    env = local_site_env(tmp_path / "empty.db")
    assert mediamon(env, "db", "upgrade").returncode == 0
    result = mediamon(env, "report", "trends", "--since", "7d", "--format", "json")
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert records and all(r["count"] == 0 for r in records)
    assert datetime.fromisoformat(records[-1]["bucket"]).date() == datetime.now(UTC).date()
