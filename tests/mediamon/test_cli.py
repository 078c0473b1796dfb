"""The `mediamon` command: a real local web site, SQLite, the real model and knowledge base.

The commands run in-process through Typer's CliRunner (tests/support/cli.py), each with its own
streams, exit code and MEDIAMON_ settings; the last tests start the installed command as a real
subprocess, once each way users start it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from config.settings import DEFAULT_KB_PATH
from matching.kb import load_kb
from schema.db import make_engine, make_session_factory
from schema.models import Article, ArticleState, KbVersion
from tests.support.cli import (
    clean_env,
    console_script,
    local_site_env,
    mediamon,
    mediamon_process,
    python_module,
)
from tests.support.corpus_site import CorpusSite
from tests.support.redis_keys import REDIS_URL, redis_namespace
from workers.broker import quarantine_key

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The settings of one test (every other MEDIAMON_ variable is unset for each call)."""
    return local_site_env(tmp_path / "cli.db")


@pytest.fixture
def site() -> Iterator[CorpusSite]:
    with CorpusSite() as running:
        yield running


def test_run_once_export_and_matches_over_a_local_feed(env, site, tmp_path):
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"{site.url('/feeds/corpus.rss?n=6')}\n{site.url('/status/500')}\n")

    first = mediamon(env, "run", "--once", "--feeds", str(feeds))

    assert first.returncode == 0, first.stderr
    assert "feeds polled" in first.stdout
    assert "articles new" in first.stdout
    assert "HTTP 500" in first.stdout, "the failing feed is listed with its reason"
    second = mediamon(env, "run", "--once", "--feeds", str(feeds))
    assert second.returncode == 0
    exported = mediamon(env, "export", "--format", "jsonl")
    records = [json.loads(line) for line in exported.stdout.splitlines()]
    assert 4 <= len(records) <= 6
    for record in records:
        assert set(record) >= {
            "url",
            "canonical_url",
            "title",
            "published",
            "source",
            "language",
            "relevance",
            "text",
            "entities",
            "claims",
        }
        assert record["text"]
    assert len({r["canonical_url"] for r in records}) == len(records)

    # --since counts by each article's date (the page's own, when it has one).
    since = "2018-01-01"
    as_csv = mediamon(env, "export", "--format", "csv", "--since", since)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    expected = [r for r in records if r["published"] is None or r["published"] >= since]
    assert 0 < len(expected) < len(records), "the saved pages carry dates on both sides of --since"
    assert sorted(r["canonical_url"] for r in rows) == sorted(r["canonical_url"] for r in expected)
    table = mediamon(env, "matches")
    assert table.returncode == 0
    assert "(page)" in table.stdout, "each date says where it came from"


def test_run_without_network_ends_with_a_per_feed_error_summary(env, tmp_path):
    feeds = tmp_path / "feeds.txt"
    feeds.write_text("https://feeds.invalid/rss\nhttps://news.invalid/atom\n")

    result = mediamon(env, "run", "--once", "--feeds", str(feeds))

    assert result.returncode == 0
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.count("cannot resolve") == 2


def test_private_addresses_are_refused_without_the_setting(env, site, tmp_path):
    env = {**env, "MEDIAMON_ALLOWED_PRIVATE_HOSTS": ""}
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(site.url("/feeds/corpus.rss?n=2") + "\n")

    result = mediamon(env, "run", "--once", "--feeds", str(feeds))

    assert result.returncode == 0
    assert "non-public address" in result.stdout
    assert site.total_hits() == 0


@pytest.mark.parametrize("seed_key", ["seed-2021", "seed-2023"])
def test_match_finds_every_claim_the_kb_attributes_to_a_seed(env, seed_key):
    kb = load_kb(DEFAULT_KB_PATH)
    seed = SEEDS_DIR / kb.sources[seed_key].file

    result = mediamon(env, "match", str(seed))

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    text = seed.read_text(encoding="utf-8")
    found = {c["id"] for c in document["claims"]}
    assert {c.id for c in kb.claims_from(seed_key)} <= found
    for claim in document["claims"]:
        evidence = claim["evidence"]
        assert text[evidence["start"] : evidence["end"]] == evidence["text"]
        assert 0 < claim["score"] <= 1
        assert claim["statement"]
    for entity in document["entities"]:
        assert set(entity) >= {"id", "name", "type", "mentions"}
        for mention in entity["mentions"]:
            assert text[mention["start"] : mention["end"]] == mention["text"]


def test_match_reads_standard_input(env):
    result = mediamon(env, "match", "-", stdin="Lashkar-e-Tayyiba carried out the 2008 Mumbai attacks.")
    document = json.loads(result.stdout)
    assert {"let"} <= {e["id"] for e in document["entities"]}


def test_feeds_add_list_export_import_remove(env, tmp_path):
    assert mediamon(env, "feeds", "add", "https://a.example/rss", "https://b.example/atom").returncode == 0
    listed = mediamon(env, "feeds", "list")
    assert "https://a.example/rss" in listed.stdout
    assert "https://b.example/atom" in listed.stdout

    opml = tmp_path / "out.opml"
    assert mediamon(env, "feeds", "export-opml", "-o", str(opml)).returncode == 0
    assert b'xmlUrl="https://a.example/rss"' in opml.read_bytes()

    assert mediamon(env, "feeds", "remove", "https://a.example/rss").returncode == 0
    assert "https://a.example/rss" not in mediamon(env, "feeds", "list").stdout
    imported = mediamon(env, "feeds", "import-opml", str(opml))
    assert "2 feed(s)" in imported.stdout
    assert "1 new" in imported.stdout
    missing = mediamon(env, "feeds", "remove", "999")
    assert missing.returncode == 1
    assert "not found" in missing.stderr

    bad = mediamon(env, "feeds", "add", "ftp://nope")
    assert bad.returncode == 2
    assert "not http(s)" in bad.stderr


def test_config_masks_secrets(env):
    env = {
        **env,
        "MEDIAMON_SMTP_URL": "smtp://mailer:hunter2@smtp.example:587",
        "MEDIAMON_SECRET_KEY": "k3y-material",
        "MEDIAMON_BROKER_URL": "redis://:pw123@localhost/0",
    }
    result = mediamon(env, "config")
    assert result.returncode == 0
    assert "MEDIAMON_DATABASE_URL" in result.stdout and "MEDIAMON_SMTP_URL" in result.stdout
    assert "smtp.example" in result.stdout
    for secret in ("hunter2", "k3y-material", "pw123"):
        assert secret not in result.stdout


def test_bad_configuration_and_bad_input_are_clear_errors(env, tmp_path):
    bad_env = mediamon({**env, "MEDIAMON_READ_TIMEOUT": "soon"}, "config")
    assert bad_env.returncode == 2
    assert "MEDIAMON_READ_TIMEOUT" in bad_env.stderr
    assert "Traceback" not in bad_env.stderr

    broken_kb = tmp_path / "kb.yaml"
    broken_kb.write_text("version: 1\nentities: [\n")
    result = mediamon({**env, "MEDIAMON_KB_PATH": str(broken_kb)}, "match", "-", stdin="x")
    assert result.returncode == 2
    assert "not valid YAML" in result.stderr

    assert mediamon(env, "run").returncode == 2
    assert mediamon(env, "export", "--since", "yesterday").returncode == 2
    assert mediamon(env, "matches", "--entity", "Nobody").returncode == 2
    unreachable = mediamon(
        {**env, "MEDIAMON_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}, "feeds", "list"
    )
    assert unreachable.returncode == 2
    assert "cannot open the database" in unreachable.stderr


def test_kb_show_and_check(env, tmp_path):
    shown = mediamon(env, "kb", "show")
    assert shown.returncode == 0
    assert "Inter-Services Intelligence" in shown.stdout
    assert "claims" in shown.stdout
    checked = mediamon(env, "kb", "check")
    assert checked.returncode == 0
    assert "ok" in checked.stdout
    invalid = tmp_path / "kb.yaml"
    invalid.write_text("version: '1'\nentities: []\nclaims: [{id: x, statement: too short}]\n")
    failed = mediamon(env, "kb", "check", str(invalid))
    assert failed.returncode == 2
    assert "not a valid knowledge base" in failed.stderr


def test_match_jsonl_writes_one_result_per_line_with_stance(env, tmp_path):
    lines = [
        {"id": "a", "text": "Islamabad flatly denied that the ISI has ever trained or armed the Taliban."},
        {"id": "b", "text": "The bakery on Main Street reopened after a long renovation."},
        {"text": "Lashkar-e-Tayyiba carried out the 2008 Mumbai attacks, Indian investigators say."},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")

    result = mediamon(env, "match", "--jsonl", str(source))

    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d.get("id") for d in documents] == ["a", "b", None]
    denial = {c["id"]: c for c in documents[0]["claims"]}
    assert denial["isi-arms-militant-proxies"]["stance"] == "denies"
    assert documents[1]["claims"] == [] and documents[1]["entities"] == []
    assert {c["id"]: c["stance"] for c in documents[2]["claims"]}.get("let-mumbai-2008") == "reports"

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"no_text": 1}\n')
    failed = mediamon(env, "match", "--jsonl", str(bad))
    assert failed.returncode == 2 and "bad.jsonl:2" in failed.stderr


def test_status_shows_queues_feeds_and_articles(env, worker_id):
    with redis_namespace(worker_id, REDIS_URL) as (broker, prefix):
        env = {**env, "MEDIAMON_BROKER_URL": REDIS_URL, "MEDIAMON_BROKER_KEY_PREFIX": prefix}
        assert mediamon(env, "feeds", "add", "https://a.example/rss", "https://b.example/rss").returncode == 0
        # as the workers set unreadable messages aside
        broker.lpush(quarantine_key(prefix), "hello", "[1, 2]")
        broker.lpush(f"{prefix}fetch", "waiting")  # one message in the fetch queue

        result = mediamon(env, "status")

    assert result.returncode == 0, result.stderr
    for row in ("queue fetch", "queue extract", "feeds active", "feeds due", "feeds dead"):
        assert row in result.stdout
    assert re.search(r"quarantined messages\W+2\b", result.stdout), result.stdout
    assert re.search(r"queue fetch\W+1\b", result.stdout), result.stdout
    assert "broker unreachable" not in result.stdout
    unreachable = mediamon({**env, "MEDIAMON_BROKER_URL": "redis://127.0.0.1:1/0"}, "status")
    assert unreachable.returncode == 0 and "broker unreachable" in unreachable.stdout


def test_a_broken_calibration_file_is_a_clear_error(env, tmp_path):
    broken = tmp_path / "calibration.json"
    broken.write_text('{"thresholds": ')
    result = mediamon({**env, "MEDIAMON_CALIBRATION_PATH": str(broken)}, "match", "-", stdin="ISI")
    assert result.returncode == 2
    assert "not a valid calibration file" in result.stderr and "Traceback" not in result.stderr


def test_eval_refuses_bad_requests_with_a_clear_error(env, tmp_path):
    one_fold = mediamon(env, "eval", "--folds", "1")
    assert one_fold.returncode == 2
    assert "--folds needs at least 2 folds" in one_fold.stderr
    # a labelled set with no claim anywhere: nothing to fit a blend on
    data = tmp_path / "tiny.jsonl"
    item = {"id": "t1", "text": "The ISI met Taliban envoys in Doha.", "split": "dev", "kind": "entity_only"}
    data.write_text(json.dumps(item) + "\n", encoding="utf-8")
    env = {**env, "MEDIAMON_CALIBRATION_PATH": str(tmp_path / "calibration.json")}  # never the shipped one
    calibrate = mediamon(env, "eval", "--data", str(data), "--calibrate")
    assert calibrate.returncode == 2
    assert "cannot calibrate on the dev split" in calibrate.stderr
    assert "too little labelled data" in calibrate.stderr


def test_calibrating_without_the_news_corpus_says_the_floors_are_not_fitted(env, tmp_path, monkeypatch):
    """The per-claim floors come from real prose read out of the news corpus: without it the
    calibration is still fitted and saved, and the command says it holds no floors."""
    import mediamon.cli.matching as matching_cli
    from matching.calibration import load_calibration
    from matching.evaluation import DEFAULT_DEV_SET

    monkeypatch.setattr(matching_cli, "DEFAULT_NEWS_CORPUS", tmp_path / "no-corpus.jsonl.gz")
    data = tmp_path / "dev.jsonl"
    data.write_text("".join(DEFAULT_DEV_SET.read_text(encoding="utf-8").splitlines(keepends=True)[:120]))
    saved = tmp_path / "calibration.json"

    result = mediamon(
        {**env, "MEDIAMON_CALIBRATION_PATH": str(saved), "COLUMNS": "240"},
        "eval",
        "--data",
        str(data),
        "--calibrate",
    )

    assert result.returncode == 0, result.stderr
    assert "no per-claim semantic floors were fitted" in result.stdout
    assert saved.exists() and load_calibration(saved).claim_floors == {}


# --- the installed command, as a real process ------------------------------------------------


def test_the_installed_console_script_starts(tmp_path):
    """A subprocess on purpose: only a real process runs the `mediamon` script pip installed
    (its entry point and the installed package's import paths, away from the checkout), which
    the in-process tests above bypass by importing the app."""
    result = mediamon_process(console_script(), clean_env(COLUMNS="200"), "--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    for command in ("run", "match", "eval", "export", "matches", "status", "feeds", "kb", "db"):
        assert re.search(rf"^\W*{command}\s", result.stdout, re.MULTILINE), command


def test_rematch_matches_stored_articles_again_only_when_asked_or_stale(env, site, tmp_path):
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"{site.url('/feeds/corpus.rss?n=3')}\n")
    first = mediamon(env, "run", "--once", "--feeds", str(feeds))
    assert first.returncode == 0 and "mediamon rematch" not in first.stdout, first.stdout

    current = mediamon(env, "rematch")
    everything = mediamon(env, "rematch", "--all")

    assert current.returncode == 0 and "nothing to do" in current.stdout, current.stdout
    assert everything.returncode == 0, everything.stderr
    assert re.search(r"matched [1-9]\d* stored articles again under \S+: \d+ claim", everything.stdout)

    # a worker of a newer knowledge base has run since (a rollback, or an old checkout here)
    engine = make_engine(env["MEDIAMON_DATABASE_URL"])
    sessions = make_session_factory(engine)
    with sessions() as session:
        assert session.scalars(select(KbVersion)).all() == [], "only workers announce a version"
    with sessions.begin() as session:
        session.add(KbVersion(version="9+newer", first_seen_at=datetime.now(UTC) + timedelta(minutes=1)))
    behind = mediamon(env, "rematch")
    assert behind.returncode == 0, behind.stderr
    assert "workers have run a newer matcher version (9+newer)" in behind.stdout, behind.stdout
    assert "nothing to do" in behind.stdout  # the store is current for this knowledge base

    # the one-shot run has no worker to match stored articles again: it says how many wait
    with sessions.begin() as session:
        stale = session.scalars(select(Article).where(Article.state == ArticleState.DONE)).all()
        for article in stale:
            article.kb_version = "0+old"
    engine.dispose()
    again = mediamon(env, "run", "--once", "--feeds", str(feeds))
    assert again.returncode == 0, again.stderr
    assert f"{len(stale)} stored article(s) were matched under another matcher version" in again.stdout
    assert "mediamon rematch" in again.stdout


@pytest.mark.parametrize("module", ["mediamon", "mediamon.cli"])
def test_python_dash_m_runs_a_command_with_real_streams_and_exit_code(module, tmp_path):
    """A subprocess on purpose: `python -m` (mediamon/__main__.py, mediamon/cli/__main__.py),
    settings read from the real process environment, messages on the real standard output and
    error, and the exit code reaching the caller are what the in-process runner stands in for."""
    env = clean_env(MEDIAMON_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", COLUMNS="200")

    result = mediamon_process(python_module(module), env, "feeds", "remove", "999", cwd=tmp_path)

    assert result.returncode == 1
    assert "0 feed(s) removed" in result.stdout
    assert "not found" in result.stderr
    assert "not found" not in result.stdout
    assert "Traceback" not in result.stderr
    assert (tmp_path / "cli.db").exists(), "the database of MEDIAMON_DATABASE_URL was used"


def test_eval_reports_the_real_prose_set_beside_the_written_one(env):
    """`mediamon eval` measures the blind-labelled sentences of real news too, with the recall of
    each claim labelled there (found/labelled) computed from the same matcher's output."""
    from config.settings import DEFAULT_CALIBRATION_PATH
    from matching.calibration import load_calibration
    from matching.evaluation import evaluate_claims, load_real_prose
    from matching.matcher import Matcher
    from matching.news_corpus import DEFAULT_NEWS_CORPUS

    if not DEFAULT_NEWS_CORPUS.exists():
        pytest.skip(f"the news corpus is not at {DEFAULT_NEWS_CORPUS}")  # the set's own test fails in CI
    test_items = [item for item in load_real_prose() if item.split == "test"]
    threshold = load_calibration(DEFAULT_CALIBRATION_PATH).threshold("lexical")
    lexical = evaluate_claims(Matcher(load_kb(DEFAULT_KB_PATH), threshold=threshold), test_items)

    result = mediamon({**env, "COLUMNS": "240"}, "eval", "--split", "test")

    assert result.returncode == 0, result.stderr
    with_claims = sum(1 for item in test_items if item.claims)
    assert (
        f"real prose: {len(test_items)} test sentences of Dawn and APP news ({with_claims} with a claim)"
        in (result.stdout)
    )
    section = result.stdout.split("real prose:", 1)[1]
    labelled = Counter(claim for item in test_items for claim in item.claims)
    claim, n = labelled.most_common(1)[0]
    found = lexical.per_claim[claim].tp
    assert re.search(rf"{re.escape(claim)}\s+│\s+\S+ \({found}/{n}, \d+\)", section), section
    assert re.search(r"real prose, entity mentions: precision 0\.\d{3} recall 0\.\d{3} F1 0\.\d{3}", section)
    # and relevance on the labelled real articles of the split, at the configured threshold
    assert re.search(
        r"relevance on 120 real test articles at the threshold 0\.30: on-theme passed \d+/46 "
        r"\(recall \d\.\d{3}\), off-theme passed \d+/74 \(pass rate \d\.\d{3}\); "
        r"a claim matched on \d+ of the 74 off-theme articles and on \d+ of the 46 on-theme ones",
        section,
    ), section
    # what found the reported claims, right and wrong: frames among them
    by_method = re.search(
        r"what found the claims the semantic matcher reports \(right / wrong\): ([^\n]+)", section
    )
    assert by_method and re.search(r"\bframe \d+ / \d+", by_method.group(1)), section


def test_match_explain_shows_each_match_and_near_miss_with_its_reasons(env, tmp_path):
    matched = "Kabul accused Islamabad of using IS-K to kill Taliban commanders."
    missed = "For years the ISI handed rifles, cash and safe houses to Jaish fighters."
    wide = {**env, "COLUMNS": "240"}

    match = mediamon(wide, "match", "--explain", "-", stdin=matched)
    near = mediamon(wide, "match", "--explain", "-", stdin=missed)

    assert match.returncode == near.returncode == 0, match.stderr + near.stderr
    assert match.stdout.startswith("MATCH kabul-accuses-pakistan-isk-killings (semantic)")
    assert re.search(r"score 0\.\d\d against 0\.\d\d; cosine 0\.\d\d, margin [+-]0\.\d\d", match.stdout)
    assert near.stdout.startswith("near miss isi-arms-militant-proxies (semantic)")
    assert re.search(r"why: semantic score 0\.\d\d < 0\.\d\d", near.stdout)
    assert "MATCH" not in near.stdout

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "k", "text": f"{matched} {missed}"}) + "\n")
    lines = mediamon(env, "match", "--jsonl", str(source), "--explain")
    assert lines.returncode == 0, lines.stderr
    [document] = [json.loads(line) for line in lines.stdout.splitlines()]
    explained = {e["claim_id"]: e for e in document["explanations"]}
    assert {c["id"] for c in document["claims"]} == {i for i, e in explained.items() if e["matched"]}
    assert all(e["why"] for e in explained.values()) and len(explained) > len(document["claims"])
