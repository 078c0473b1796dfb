"""What a worker's processes cost in memory: the matcher is built and warmed up in the worker's
main process before the pool forks, so pool processes share it, and each process gives freed
heap back to the system after every task.

The matcher (knowledge base, Aho-Corasick automaton, the all-MiniLM-L6-v2 model with torch and
sentence-transformers, the claim vectors) is about 550 MiB of a process's memory, nearly all of
it written once and only read afterwards. Built in each prefork pool process at its first task,
it cost every pool process that much of its own (``bench.service``: about 900 MiB PSS per
worker with one pool process, 775 MiB of it the pool process's). Here, at ``worker_init``
(Celery sends it in the main process before the pool starts):

1. the matcher is built, then *warmed up*: one small document, made of the knowledge base's own
   claim statements, goes through the cleaner and the matcher, so what the libraries set up
   lazily at their first call (torch's kernels and buffers, the tokenizer's caches, language
   and date detection data: about 70 MiB) is set up here, once, rather than in every pool
   process;
2. ``gc.freeze()`` moves every object made so far into the collector's permanent generation,
   so the collector in a pool process never walks them: walking writes to them, and a written
   page is copied into the process that wrote it.

The pool processes then get all of it by ``fork`` as copy-on-write pages, shared as long as
nobody writes to them. After every task (``task_postrun``) a process hands the free memory at
the top of its heap and in its arenas back to the system (glibc's ``malloc_trim``, about 1 ms;
nothing elsewhere), or a parse of a large page leaves the process that much larger until it
exits. ``bench.service`` prints the PSS of every process.

Nothing with a socket, a connection or a thread pool that must not cross a fork is made here:
database engines, the HTTP client and the Redis politeness gate are made after the fork, in each
process, at its first task (``workers.tasks._store``, ``_services``). Torch runs one intra-op
thread per process (``services.wiring.build_semantic``), so no OpenMP pool is forked with it.
The threads and solo pools run tasks in the main process: for them this only builds the matcher
before the first task instead of at it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import html
import logging
import os
from functools import cache
from typing import Any

from celery.signals import task_postrun, worker_init

from config.settings import Settings
from ingest.clean import CleanArticle, clean_html
from matching.matcher import Matcher, MatchResult
from workers.tasks import matcher

log = logging.getLogger("mediamon.worker")


@worker_init.connect
def preload_matcher(sender: Any = None, **kwargs: Any) -> None:
    """Build and warm up the app's matcher in the worker's main process, then freeze the heap."""
    app = getattr(sender, "app", None)
    settings = getattr(getattr(app, "conf", None), "mediamon_settings", None)
    if not isinstance(settings, Settings):
        return  # not a mediamon worker
    warm_up(matcher(settings))
    gc.collect()
    gc.freeze()
    log.info("matcher ready before the pool forks (process %d)", os.getpid())


def warm_up(built: Matcher) -> MatchResult:
    """One document through the cleaner and the matcher, for their lazy set-up to happen now.

    The text is the knowledge base's own claim statements (each names the entities it is
    about, so the semantic stage embeds sentences), with a dated line for date detection."""
    statements = [claim.statement for claim in built.kb.claims][:12]
    paragraphs = "".join(
        f"<p>{html.escape(statement)} Officials described it in detail on 3 March 2024.</p>"
        for statement in statements
    )
    page = f"<html><head><title>Warm-up</title></head><body><article>{paragraphs}</article></body></html>"
    cleaned = clean_html(page.encode("utf-8"), min_chars=0)
    return built.match(cleaned.text if isinstance(cleaned, CleanArticle) else " ".join(statements))


@task_postrun.connect
def trim_heap(**kwargs: Any) -> None:
    """Give the heap's free memory back to the system (glibc only)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    return getattr(ctypes.CDLL(name), "malloc_trim", None)
