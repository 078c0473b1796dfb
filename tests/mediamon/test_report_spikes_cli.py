"""`mediamon report spikes` on an embedded SQLite store: the service tests' real articles (a
steady background and the burst of 21 May 2025, the Khuzdar school bus attack)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from schema.db import make_engine, make_session_factory, upgrade_database
from tests.services.test_spikes import BURST_DAY, CLAIM, background, host, planted_burst, store_burst
from tests.support.cli import local_site_env, mediamon
from tests.support.news import NewsArticle
from tests.support.stored import store_matched, sync_shipped_kb

PERIOD = ("--since", "2025-05-14", "--until", BURST_DAY.isoformat())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], list[NewsArticle]]:
    database = tmp_path_factory.mktemp("spikes") / "spikes.db"
    url = f"sqlite:///{database}"
    upgrade_database(url)
    engine = make_engine(url)
    used: set[str] = set()
    with make_session_factory(engine).begin() as session:
        sync_shipped_kb(session)
        for article, entities in background(35, BURST_DAY, used):
            store_matched(session, article, entities=entities)
        burst = planted_burst(used)
        store_burst(session, burst)
    engine.dispose()
    return local_site_env(database), burst


def test_the_table_names_the_spike_its_outlets_and_story(store):
    env, burst = store
    result = mediamon(env, "report", "spikes", *PERIOD)
    assert result.returncode == 0, result.stderr
    assert "4 series × 8 days tested, sensitivity normal" in result.stdout
    lines = [line for line in result.stdout.splitlines() if "entity ttp" in line]
    assert lines and BURST_DAY.isoformat() in lines[0]
    (outlet, n), *_ = Counter(host(a) for a in burst).most_common()
    assert f"{outlet} {n}" in result.stdout
    assert "Security forces to" in result.stdout, "the top story's first article, shortened"
    assert "claim ttp-isk-attacks" in result.stdout


def test_json_has_the_report_fields_and_explanations(store):
    env, burst = store
    result = mediamon(env, "report", "spikes", *PERIOD, "--format", "json", "--sensitivity", "low")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["series_tested"], report["buckets_tested"], report["false_alarm_budget"]) == (4, 8, 0.01)
    ttp = next(s for s in report["spikes"] if s["key"] == "ttp")
    assert set(ttp) >= {"kind", "key", "label", "bucket", "observed", "expected", "ratio", "p_value"}
    assert (ttp["bucket"], ttp["observed"]) == (f"{BURST_DAY}T00:00:00+00:00", 8)
    assert ttp["explanation"]["stories"][0]["url"] == burst[0].url
    claims_only = json.loads(
        mediamon(env, "report", "spikes", *PERIOD, "--claim", CLAIM, "--format", "json").stdout
    )
    assert {s["kind"] for s in claims_only["spikes"]} == {"claim"}


def test_no_spikes_says_what_was_tested(store):
    env, _burst = store
    steady = mediamon(env, "report", "spikes", *PERIOD, "--entity", "Pakistan")
    assert steady.returncode == 0, steady.stderr
    assert "no spikes: 1 series × 8 days tested" in steady.stdout
    before = mediamon(env, "report", "spikes", "--since", "2020-01-01", "--until", "2020-01-31")
    assert "no spikes: nothing stored to test" in before.stdout


def test_hours_cover_the_last_48_before_until(store):
    env, _burst = store
    result = mediamon(env, "report", "spikes", "--by", "hour", "--until", f"{BURST_DAY}T20:00+00:00")
    assert result.returncode == 0, result.stderr
    assert "× 48 hours tested" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--sensitivity", "extreme"), "neither low, normal, high"),
        (("--entity", "Nobody At All"), "no entity called"),
        (("--claim", "no-such-claim"), "no claim 'no-such-claim'"),
        (("--since", "yesterday"), "neither a span"),
    ],
)
def test_bad_options_are_one_line_errors(store, args, message):
    env, _burst = store
    result = mediamon(env, "report", "spikes", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
