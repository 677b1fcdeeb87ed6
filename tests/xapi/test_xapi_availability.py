"""A master that stops answering (hanging or closing), comes back, or goes away."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.xapi_server import XapiServer
from tests.xapi.conftest import assert_gone, event_from, login, raw_call, sim_threads


def test_a_hanging_master_times_out_then_answers_after_the_thaw(xapi: XapiServer) -> None:
    s = login(xapi.url, timeout=0.5)
    xapi.freeze("hang")
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        s.xenapi.VM.get_all()
    assert 0.4 <= time.monotonic() - started < 2
    xapi.thaw()
    assert len(s.xenapi.VM.get_all()) == len(xapi.db.tables["VM"])


def test_a_held_request_is_served_after_the_thaw(xapi: XapiServer) -> None:
    s = login(xapi.url)
    xapi.freeze()
    answer: list[object] = []
    thread = threading.Thread(
        target=lambda: answer.append(raw_call(xapi.url, "pool.get_all", s._session))
    )
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive() and answer == []
    xapi.thaw()
    thread.join(timeout=5)
    assert answer == [{"Status": "Success", "Value": [xapi.db.pool]}]


def test_a_closing_master_drops_connections_without_an_answer(xapi: XapiServer) -> None:
    s = login(xapi.url, timeout=2)
    xapi.freeze("close")
    started = time.monotonic()
    with pytest.raises(ConnectionError) as info:  # http.client.RemoteDisconnected is one
        s.xenapi.VM.get_all()
    assert time.monotonic() - started < 1
    assert isinstance(info.value, http.client.RemoteDisconnected | ConnectionResetError)
    xapi.thaw()
    assert len(s.xenapi.VM.get_all()) == len(xapi.db.tables["VM"])


def test_stop_ends_long_polls_and_held_requests_and_leaves_nothing_behind(
    new_server: Callable[..., XapiServer],
) -> None:
    server = new_server(seed=1)
    member = server.member("xcp-ng-03")
    s = login(server.url)
    token = event_from(s, ["vm"], "", 5.0)["token"]
    outcomes: list[object] = []

    def call(url: str, method: str, *params: Any) -> None:
        try:
            outcomes.append(raw_call(url, method, *params))
        except Exception as exc:  # the connection is dropped: no answer at all
            outcomes.append(exc)

    member.freeze()  # the member's request will be held
    poll = (server.url, "event.from", s._session, ["vm"], token, 30.0)
    threads = [
        threading.Thread(target=call, args=poll),
        threading.Thread(target=call, args=(member.url, "pool.get_all", s._session)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    assert all(t.is_alive() for t in threads) and outcomes == []
    started = time.monotonic()
    server.stop()
    for thread in threads:
        thread.join(timeout=5)
    assert time.monotonic() - started < 2
    assert len(outcomes) == 2 and all(isinstance(o, ConnectionError) for o in outcomes)
    for port in (server.port, member.port):
        assert_gone(port)
    assert sim_threads() == []
