"""Two test processes on one machine never share a Redis database (tests.support.redis_keys).

Each test process takes a database by locking a file named after it, and keeps it while it
lives; the test's service keys are under a prefix of its own within it (test_service.py checks
that every key the service writes is). Here, real Python processes import the module while
this one holds its database, as a second `make test` run's processes would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.redis_keys import CLAIMED, REDIS_URL, TEST_DATABASES

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
#: Prints the process's Redis URL, then holds it until its standard input closes.
HOLDER = (
    "import sys\n"
    "from tests.support.redis_keys import REDIS_URL\n"
    "print(REDIS_URL, flush=True)\n"
    "sys.stdin.read()\n"
)
#: Bounds a child's start (never reached when things go right).
HANG_S = 120.0


@contextmanager
def holder_process() -> Iterator[str]:
    """Another test process, holding the database it took; yields that database's URL."""
    env = {k: v for k, v in os.environ.items() if k != "MEDIAMON_TEST_REDIS_URL"}
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    with child, child.stdout:  # closes its pipes and waits for it on the way out
        try:
            yield child.stdout.readline().strip()
        finally:
            child.stdin.close()
            child.wait(timeout=HANG_S)


def database(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


@pytest.mark.skipif(not CLAIMED, reason="this process was given its database (MEDIAMON_TEST_REDIS_URL)")
def test_concurrent_test_processes_take_databases_of_their_own():
    with holder_process() as first, holder_process() as second:
        held = [REDIS_URL, first, second]
        assert all(url.startswith("redis://127.0.0.1:6379/") for url in held), held
        assert len(set(held)) == 3, f"each process has its own database: {held}"
        assert {database(url) for url in held} <= set(TEST_DATABASES)
        assert not {0, 8} & {database(url) for url in held}, "never everyone's default nor the benchmark's"

    # Those two have exited, and their locks with them; a new process still avoids ours.
    with holder_process() as third:
        assert third != REDIS_URL
