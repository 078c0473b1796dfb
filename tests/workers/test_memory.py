"""A mediamon worker builds and warms up its matcher in its main process, when Celery sends
``worker_init`` (before the prefork pool forks), and freezes the heap so the pool processes
share those pages (workers.memory).

A real Celery WorkController is constructed (it sends ``worker_init``; it is never started, so
no pool forks and nothing is consumed). The lexical matcher keeps the test quick: the handler
builds whichever matcher the settings name. ``bench.service`` measures what the sharing saves.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from celery import Celery

from config.settings import Settings
from tests.support.redis_keys import REDIS_URL
from workers import memory, tasks
from workers.app import create_app

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """The handler freezes this process's heap; thaw it so the rest of the run collects as usual."""
    yield
    gc.unfreeze()


def construct_worker(app: Celery) -> None:
    worker = app.WorkController(pool_cls="solo", concurrency=1, hostname="preload-test@localhost")
    worker.pool = None  # never started: nothing to stop


def test_a_mediamon_worker_builds_its_matcher_before_its_pool(worker_id):
    prefix = f"preload-{worker_id}:"
    settings = Settings(broker_url=REDIS_URL, broker_key_prefix=prefix, claim_method="lexical")
    app = create_app(settings)
    assert id(settings) not in tasks._matchers
    gc.unfreeze()

    construct_worker(app)

    assert id(settings) in tasks._matchers, "built at worker_init, before any task"
    built = tasks.matcher(settings)
    assert built is tasks._matchers[id(settings)][1], "the tasks use that one, not one of their own"
    assert built.kb.claims, "the configured knowledge base"
    assert gc.get_freeze_count() > 0, "the heap is frozen for the fork"
    app.close()


def test_the_warm_up_document_goes_through_the_cleaner_and_matches_its_own_claims():
    """Its text is the knowledge base's claim statements: the matcher's every stage runs on it."""
    built = tasks.matcher(Settings(claim_method="lexical"))
    result = memory.warm_up(built)
    assert result.mentions, "entities found"
    assert result.claims, "claims matched: the whole matching path ran"


def test_another_apps_worker_is_left_alone():
    app = Celery("not-mediamon", broker=REDIS_URL, set_as_current=False)
    before = dict(tasks._matchers)
    gc.unfreeze()

    construct_worker(app)

    assert tasks._matchers == before
    assert gc.get_freeze_count() == 0
    app.close()
