"""Per-host politeness shared by every worker process, held in Redis.

:class:`RedisHostGate` implements :class:`ingest.http.HostGate`: ``with gate.slot(host):``
blocks until a request to ``host`` may start, for *all* processes (and machines) sharing
the Redis server, and holds the slot while the request runs. Two rules are enforced:

* at most ``max_concurrent`` requests to one host in flight at once, and
* at least ``min_delay_s`` between the *starts* of two requests to one host.

Design
------
Per host there are two keys (the host is wrapped in a ``{hash tag}`` so both land on the
same Redis Cluster slot)::

    <prefix>{<host>}:holders   sorted set: member = random token of one holder,
                               score = lease expiry (µs since the epoch, Redis time)
    <prefix>{<host>}:next      "next allowed start" (µs since the epoch, Redis time)

*Why Lua.* "Count the holders, compare with the limit, check the next allowed start, add
myself, push the next start forward" must happen as one step, or two processes both see a
free slot and both start. A Lua script runs atomically on the server, costs one round trip
and needs no WATCH/MULTI retry loop. It is registered once (``register_script``) and run by
``EVALSHA``, re-sent automatically if the server has lost its script cache.

*Why leases.* A worker killed mid-request (OOM, SIGKILL, lost machine) never runs its
``finally``. Each holder therefore carries an expiry (``lease_s``), and the script first
drops holders whose lease has passed, so a crash costs a host at most ``lease_s`` of one
slot, never forever. ``lease_s`` must exceed the longest request (connect + read timeouts
plus the time a slow body may take), otherwise a still-running request is forgotten and the
host briefly gets one request more than allowed. Both keys carry a TTL (the longest lease
seen, resp. the delay, plus a margin) so hosts that are no longer fetched leave no keys.

*Clock.* Every timestamp in Redis comes from the server's ``TIME``, read inside the script:
all processes on all machines compare against the one clock, so skew between workers
cannot let two requests start closer than ``min_delay_s``. (Scripts that read ``TIME`` and
then write are replicated by effects, the default since Redis 5 and the only mode of 7.)
The injected ``clock`` (monotonic by default) only measures this caller's own
``wait_timeout_s``; it never meets a timestamp from another process.

*Waiting.* When the script refuses it says how long the start delay still runs and how long
until the oldest lease expires. The caller sleeps the start delay exactly, and while every
slot is taken polls every ``poll_s`` (a holder may release at any moment). After
``wait_timeout_s`` without a slot :class:`PolitenessTimeout` is raised, naming the host.

*Redis down.* Politeness must not make fetching impossible. If Redis cannot be reached
(``redis.ConnectionError`` / ``redis.TimeoutError``) the gate logs one warning and falls
back to an in-process gate (:class:`ingest.http.HostLimiter` for concurrency plus a local
start delay): each process stays polite on its own, though the limits then hold per
process rather than across all of them. Redis is tried again after ``fallback_s``; a
second warning is logged only after Redis has come back and failed again.

Exceptions::

    Exception
     └── PolitenessTimeout   no slot for the host within wait_timeout_s

Importing this module connects to nothing and does not import Celery.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import redis

from ingest.http import HostLimiter, PolitenessTimeout

if TYPE_CHECKING:
    from redis.commands.core import Script

log = logging.getLogger(__name__)

_REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)

#: Extra life given to the keys beyond the lease / the delay, so a TTL never races a use.
_KEY_TTL_MARGIN_MS = 1000

# KEYS[1] holders zset, KEYS[2] next-allowed-start string
# ARGV[1] token, ARGV[2] max_concurrent, ARGV[3] min_delay_us, ARGV[4] lease_us,
# ARGV[5] key TTL margin (ms)
# Returns {1} when granted, else {0, delay_wait_ms, lease_wait_ms}:
#   delay_wait_ms  time until the next start is allowed (0 if it already is)
#   lease_wait_ms  time until the oldest lease expires if all slots are taken (0 if not)
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max_concurrent = tonumber(ARGV[2])
local min_delay = tonumber(ARGV[3])
local lease = tonumber(ARGV[4])
local margin = tonumber(ARGV[5])

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))

local lease_wait = 0
if redis.call('ZCARD', KEYS[1]) >= max_concurrent then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  lease_wait = math.max(tonumber(oldest[2]) - now, 1)
end
local delay_wait = 0
local next_start = tonumber(redis.call('GET', KEYS[2]) or '0')
if next_start > now then
  delay_wait = next_start - now
end
if lease_wait > 0 or delay_wait > 0 then
  return {0, math.ceil(delay_wait / 1000), math.ceil(lease_wait / 1000)}
end

redis.call('ZADD', KEYS[1], string.format('%.0f', now + lease), ARGV[1])
local holders_ttl = math.ceil(lease / 1000) + margin
if redis.call('PTTL', KEYS[1]) < holders_ttl then
  redis.call('PEXPIRE', KEYS[1], holders_ttl)
end
redis.call('SET', KEYS[2], string.format('%.0f', now + min_delay),
           'PX', math.ceil(min_delay / 1000) + margin)
return {1}
"""


class LocalHostGate:
    """Concurrency and start delay per host within one process: the embedded one-shot run's
    gate, and the service's stand-in while Redis is down."""

    def __init__(self, max_concurrent: int, min_delay_s: float, sleep: Callable[[float], None]) -> None:
        self._limiter = HostLimiter(max_concurrent)
        self._min_delay_s = min_delay_s
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        with self._limiter.slot(host):
            with self._lock:  # reserve a start time, then sleep outside the lock
                now = time.monotonic()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + self._min_delay_s
            if start > now:
                self._sleep(start - now)
            yield


class RedisHostGate:
    """Per-host concurrency limit and start delay across every process sharing ``client``.

    ``client`` is owned by the caller (the gate never closes it). Its socket timeouts and
    ``retry`` policy decide how quickly an unreachable Redis is noticed; the gate then
    uses an in-process fallback for ``fallback_s`` before trying Redis again (see the
    module docstring). ``clock`` and ``sleep`` are injectable for tests; ``clock`` only
    measures the local wait timeout, the shared schedule runs on Redis server time.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        max_concurrent: int,
        min_delay_s: float,
        lease_s: float = 120.0,
        poll_s: float = 0.05,
        prefix: str = "mediamon:host:",
        wait_timeout_s: float = 300.0,
        fallback_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if min_delay_s < 0 or lease_s <= 0 or poll_s <= 0 or wait_timeout_s < 0:
            raise ValueError("min_delay_s must be >= 0; lease_s and poll_s > 0; wait_timeout_s >= 0")
        self._client = client
        self.max_concurrent = max_concurrent
        self.min_delay_s = min_delay_s
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.prefix = prefix
        self.wait_timeout_s = wait_timeout_s
        self.fallback_s = fallback_s
        self._clock = clock
        self._sleep = sleep
        self._script: Script = client.register_script(_ACQUIRE_LUA)  # no I/O until first call
        self._fallback = LocalHostGate(max_concurrent, min_delay_s, sleep)
        self._state_lock = threading.Lock()
        self._redis_down_until: float | None = None  # clock() value; None while Redis works

    # ---- the HostGate protocol

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one slot for ``host`` (blocking until it is granted) for the ``with`` body."""
        if self._use_fallback():
            with self._fallback.slot(host):
                yield
            return
        try:
            token = self.acquire(host)
        except _REDIS_DOWN as exc:
            self._mark_down(exc)
            with self._fallback.slot(host):
                yield
            return
        try:
            yield
        finally:
            self.release(host, token)

    # ---- lower level (tests simulate a crashed holder with acquire() and no release())

    def keys(self, host: str) -> tuple[str, str]:
        """The Redis keys of ``host``: (holders sorted set, next-allowed-start)."""
        base = f"{self.prefix}{{{host.lower()}}}"
        return f"{base}:holders", f"{base}:next"

    def acquire(self, host: str) -> str:
        """Block until a slot for ``host`` is granted; return the holder token.

        Raises :class:`PolitenessTimeout` after ``wait_timeout_s``, and lets
        ``redis.ConnectionError`` / ``redis.TimeoutError`` through (``slot`` falls back).
        """
        token = uuid.uuid4().hex
        keys = list(self.keys(host))
        args: list[str | int] = [
            token,
            self.max_concurrent,
            round(self.min_delay_s * 1_000_000),
            round(self.lease_s * 1_000_000),
            _KEY_TTL_MARGIN_MS,
        ]
        deadline = self._clock() + self.wait_timeout_s
        while True:
            reply = self._script(keys=keys, args=args)
            if int(reply[0]) == 1:
                self._mark_up()
                return token
            delay_wait = int(reply[1]) / 1000
            full_wait = min(int(reply[2]) / 1000, self.poll_s) if int(reply[2]) else 0.0
            wait = max(delay_wait, full_wait)
            remaining = deadline - self._clock()
            if remaining <= 0 or delay_wait > remaining:  # cannot be granted in time: fail now
                raise PolitenessTimeout(
                    f"no politeness slot for host {host!r} within {self.wait_timeout_s:g} s "
                    f"(max {self.max_concurrent} concurrent, {self.min_delay_s:g} s between starts)"
                )
            self._sleep(min(wait, remaining))

    def release(self, host: str, token: str) -> None:
        """Give the slot back. If Redis is unreachable the lease expires on its own."""
        try:
            self._client.zrem(self.keys(host)[0], token)
        except _REDIS_DOWN as exc:
            log.warning(
                "could not release politeness slot for %s (%s); its lease expires in %g s",
                host,
                exc,
                self.lease_s,
            )

    # ---- fallback bookkeeping

    def _use_fallback(self) -> bool:
        with self._state_lock:
            return self._redis_down_until is not None and self._clock() < self._redis_down_until

    def _mark_down(self, exc: Exception) -> None:
        with self._state_lock:
            first = self._redis_down_until is None
            self._redis_down_until = self._clock() + self.fallback_s
        if first:
            log.warning(
                "Redis unreachable for per-host politeness (%s: %s); limits now hold per process "
                "only, retrying Redis every %g s",
                type(exc).__name__,
                exc,
                self.fallback_s,
            )

    def _mark_up(self) -> None:
        if self._redis_down_until is None:  # the common case: no lock on the hot path
            return
        with self._state_lock:
            was_down = self._redis_down_until is not None
            self._redis_down_until = None
        if was_down:
            log.info("Redis reachable again; per-host politeness is shared across workers again")
