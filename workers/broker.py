"""kombu's Redis transport, made to survive a message that is not a readable task message.

kombu pops a message off a Redis list, parses it as JSON, builds its envelope and hands it to
Celery, all in the worker's *main* process. A payload that is not JSON, JSON without the
envelope's fields, or an envelope whose body is not what its headers say (a stray
``LPUSH fetch hello`` by hand, a client of another library, a bit flip) raised out of the event
loop and stopped the worker; worse, a message already recorded as unacknowledged was restored
on shutdown and stopped the next worker too. Every task on every queue waited.

Here such a payload is logged, kept whole on a capped Redis list for a person to look at
(:data:`QUARANTINE`), acknowledged so it never comes back, and the worker carries on. Real
messages go through kombu untouched; broker connection errors still propagate, so kombu's
reconnection works as before. ``workers.app`` selects this transport for ``redis://`` and
``rediss://`` broker URLs.

Key prefix. With ``global_keyprefix`` (``MEDIAMON_BROKER_KEY_PREFIX``) kombu's client prefixes
the keys of the commands it knows (queues, bindings, unacked hash, index and mutex, fanout
channels), not all: LTRIM and EXISTS go out unprefixed (kombu 5.7). So the quarantine is
written by a plain client under an explicitly prefixed name (:func:`quarantine_key`), and a
passive ``queue_declare`` (the sweeper asks whether a queue is empty) checks the prefixed lists
instead of kombu's unprefixed EXISTS, which answers "no such queue" for a full one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)

#: The Redis list (in the broker's database) that keeps payloads no worker could read.
QUARANTINE = "mediamon.quarantine"
#: Oldest payloads drop off past this many: a flood of garbage must not fill the broker's memory.
QUARANTINE_MAX = 1000


def quarantine_key(key_prefix: str) -> str:
    """The quarantine list's key for a deployment whose broker keys carry ``key_prefix``."""
    return f"{key_prefix}{QUARANTINE}"


class Channel(kombu_redis.Channel):
    def _has_queue(self, queue: str, **kwargs: Any) -> bool:
        # kombu asks EXISTS, which its prefixing client sends unprefixed. A Redis list exists
        # while it holds an item, and LLEN (what _size sends) is prefixed.
        return bool(self._size(queue))  # type: ignore[no-untyped-call]

    def _brpop_read(self, **options: Any) -> Any:
        try:
            return super()._brpop_read(**options)  # type: ignore[no-untyped-call]
        except json.JSONDecodeError as exc:
            # kombu has already taken the payload off its queue; exc.doc is all of it.
            self.quarantine(exc.doc, f"not JSON ({exc.msg})")
            return True  # one message handled (set aside), as kombu returns for a delivery

    def quarantine(self, payload: str, reason: str) -> None:
        key = quarantine_key(self.global_keyprefix)
        log.error("set aside an unreadable broker message (%s) on %s: %.200r", reason, key, payload)
        try:
            # A plain client on the channel's pool: kombu's would prefix the LPUSH and not the LTRIM.
            with redis.Redis(connection_pool=self.pool).pipeline() as pipe:
                pipe.lpush(key, payload)
                pipe.ltrim(key, 0, QUARANTINE_MAX - 1)
                pipe.execute()
        except self.connection_errors:
            log.exception("could not keep the unreadable message on %s", key)


class Transport(kombu_redis.Transport):
    Channel = Channel

    def _deliver(self, message: Any, queue: str) -> None:
        if not _is_envelope(message):
            self._set_aside(message, "JSON but not a kombu message")
            return
        try:
            super()._deliver(message, queue)  # type: ignore[no-untyped-call]
        except self.connection_errors:
            raise  # the broker went away: kombu reconnects and the message is restored
        except Exception as exc:
            self._set_aside(message, f"{type(exc).__name__}: {exc}", message["properties"]["delivery_tag"])

    def _set_aside(self, message: Any, reason: str, tag: str | None = None) -> None:
        channel = next((c for c in self.channels if isinstance(c, Channel)), None)
        if channel is None:  # pragma: no cover -- a delivery always comes through a channel
            log.error("dropped an unreadable broker message (%s): %.200r", reason, message)
            return
        channel.quarantine(json.dumps(message), reason)
        if tag is not None and tag in channel.qos._delivered:
            # Recorded as unacknowledged before it failed: acknowledge it, or kombu restores it
            # to the queue when the worker stops, and it stops the next worker too.
            channel.qos.reject(tag, requeue=False)


def _is_envelope(message: Any) -> bool:
    """What kombu needs to deliver, acknowledge and requeue a message: a body, and properties
    with a delivery tag and the exchange and routing key it came by."""
    if not isinstance(message, dict) or "body" not in message:
        return False
    properties = message.get("properties")
    if not isinstance(properties, dict) or "delivery_tag" not in properties:
        return False
    route = properties.get("delivery_info")
    return isinstance(route, dict) and "exchange" in route and "routing_key" in route
