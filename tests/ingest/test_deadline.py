"""ingest/deadline.py at the socket: httpcore's own backend wrapped, against raw servers on 127.0.0.1."""

from __future__ import annotations

import ssl
import threading

import httpcore
import pytest

from ingest.deadline import DeadlineBackend, DeadlineExceeded, request_budget
from tests.support import hostile

BACKEND = DeadlineBackend(httpcore.SyncBackend())


def test_without_a_budget_the_stream_is_httpcores_own() -> None:
    with hostile.RawServer(hostile.mute) as server:
        stream = BACKEND.connect_tcp("127.0.0.1", server.port, timeout=2)
        with pytest.raises(httpcore.ReadTimeout):
            stream.read(1024, timeout=0.2)
        stream.close()
        assert server.peers[0].client_closed.wait(5)


def test_a_read_longer_than_the_time_left_is_the_deadline_not_a_read_timeout() -> None:
    with hostile.RawServer(hostile.mute) as server:
        stream = BACKEND.connect_tcp("127.0.0.1", server.port, timeout=2)
        with request_budget(0.3, 10), pytest.raises(DeadlineExceeded, match=r"within 0\.3 s"):
            stream.read(1024, timeout=30)
        # a read timeout shorter than the time left is still reported as one
        with request_budget(30, 10) as budget, pytest.raises(httpcore.ReadTimeout):
            stream.read(1024, timeout=0.2)
        budget.phase = "body"
        assert str(budget.expired_error()) == "the whole body took longer than 30 s"
        stream.close()


def test_a_tls_handshake_after_the_deadline_closes_the_socket() -> None:
    """httpcore closes a stream whose TLS handshake fails but not one whose handshake never
    starts: the wrapper must close it itself."""
    with hostile.RawServer(hostile.mute) as server:
        stream = BACKEND.connect_tcp("127.0.0.1", server.port, timeout=2)
        with request_budget(0.0, 10), pytest.raises(DeadlineExceeded):
            stream.start_tls(ssl.create_default_context(), "example.org", timeout=5)
        assert server.peers[0].client_closed.wait(5), "the TCP socket was left open"


def test_a_budget_holds_only_its_own_thread() -> None:
    errors: list[BaseException] = []

    def read_elsewhere(port: int) -> None:
        stream = BACKEND.connect_tcp("127.0.0.1", port, timeout=2)
        try:
            stream.read(1024, timeout=0.2)
        except BaseException as exc:
            errors.append(exc)
        finally:
            stream.close()

    with hostile.RawServer(hostile.mute) as server, request_budget(0.0, 10):
        thread = threading.Thread(target=read_elsewhere, args=(server.port,))
        thread.start()
        thread.join(5)
    assert [type(error) for error in errors] == [httpcore.ReadTimeout]  # not this thread's deadline
