"""Domain events reach listeners on the asyncio loop thread, and bursts coalesce."""

from __future__ import annotations

import asyncio
import threading
from itertools import cycle

import libvirt
import pytest

from tests.backend.conftest import daemon_node
from tests.backend.helpers import wait_for
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import ZERO_UUID, DomainState


def collect_loop_errors() -> list[dict]:
    errors: list[dict] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    return errors


def running_guests(conn: libvirt.virConnect) -> list[libvirt.virDomain]:
    return [d for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING)
            if d.UUIDString() != ZERO_UUID]


# Run twice: each test has its own asyncio loop while libvirt's event thread is shared.
@pytest.mark.parametrize("round_", [1, 2])
async def test_action_event_reaches_listeners_on_loop_thread(host: Host, round_: int):
    errors = collect_loop_errors()
    events, rows = [], []
    host.event_listeners.append(lambda e: events.append((e, threading.current_thread())))
    host.domain_listeners.append(lambda u, f: rows.append((u, f, threading.current_thread())))
    await host.sample()
    conn = host.link.conn
    dom = running_guests(conn)[0]
    uuid, name = dom.UUIDString(), dom.name()
    await host.act(uuid, "pause")
    assert await wait_for(lambda: any(u == uuid for u, _f, _t in rows))
    ev, ev_thread = next((e, t) for e, t in events if e.uuid == uuid)
    assert ev_thread is threading.main_thread()
    assert ev.kind == "lifecycle" and ev.uri == host.uri and ev.name == name
    assert ev.text.startswith(f"{name}: ") and "Suspended" in ev.text and "paused" in ev.text
    _u, fig, row_thread = next(r for r in rows if r[0] == uuid)
    assert row_thread is threading.main_thread()
    raw_state = DomainState.from_libvirt(conn.lookupByUUIDString(uuid).state()[0])
    assert fig.sample.state is raw_state is DomainState.PAUSED
    assert host.last.domains[uuid].sample.state is DomainState.PAUSED
    assert not errors


async def test_undefine_event_removes_the_row(host: Host):
    rows = []
    host.domain_listeners.append(lambda u, f: rows.append((u, f)))
    await host.sample()
    conn = host.link.conn
    dom = next(iter(conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)))
    uuid = dom.UUIDString()
    dom.undefine()
    assert await wait_for(lambda: (uuid, None) in rows)
    assert uuid not in host.last.domains


async def test_burst_of_200_events_coalesces(host: Host):
    errors = collect_loop_errors()
    events, rows = [], []
    host.event_listeners.append(events.append)
    host.domain_listeners.append(lambda u, f: rows.append((u, f)))
    await host.sample()
    conn = host.link.conn
    doms = running_guests(conn)
    # 100 pause/resume pairs straight through libvirt, without yielding to the loop.
    for _i, dom in zip(range(100), cycle(doms), strict=False):
        dom.suspend()
        dom.resume()
    assert await wait_for(lambda: len(events) >= 200, timeout=10)
    await asyncio.sleep(0.2)
    assert len(events) == 200
    assert await wait_for(lambda: host._flush_task is None or host._flush_task.done())
    assert 0 < len(rows) < 200  # coalesced: far fewer re-reads than events
    assert {u for u, _f in rows} == {d.UUIDString() for d in doms}
    for dom in doms:
        last = [f for u, f in rows if u == dom.UUIDString()][-1]
        assert last.sample.state is DomainState.from_libvirt(dom.state()[0])
    assert not errors


async def test_200_concurrent_calls_while_events_flow(testd):
    """Thread safety under asyncio debug mode, over a daemon connection."""
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    errors = collect_loop_errors()
    h = Host(daemon_node(testd, 8))
    await h.connect()
    try:
        conn = h.link.conn
        threads: list[threading.Thread] = []
        n_events = [0]

        def on_event(_e):
            threads.append(threading.current_thread())
            n_events[0] += 1

        h.event_listeners.append(on_event)
        h.domain_listeners.append(lambda _u, _f: threads.append(threading.current_thread()))
        h.status_listeners.append(lambda _s: threads.append(threading.current_thread()))
        await h.sample()
        target = running_guests(conn)[0].UUIDString()
        stop = asyncio.Event()

        async def flip() -> int:
            n = 0
            while not stop.is_set():
                await h.act(target, "pause")
                await h.act(target, "resume")
                n += 2
            return n

        flipper = asyncio.create_task(flip())
        names = [d.name() for d in conn.listAllDomains(0)]

        def read(name: str) -> list:
            return conn.lookupByName(name).info()

        results = await asyncio.gather(
            *(h.link.call(read, name) for _i, name in zip(range(200), cycle(names),
                                                          strict=False))
        )
        stop.set()
        flips = await flipper
        assert len(results) == 200 and all(len(r) == 5 for r in results)
        assert flips >= 2
        assert await wait_for(lambda: n_events[0] >= flips, timeout=10)
        assert threads and all(t is threading.main_thread() for t in threads)
        assert not errors
    finally:
        await h.close()
        loop.set_debug(False)
